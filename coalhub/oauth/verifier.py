"""Bearer-token checks: a token becomes the Principal a request is answered for, or is
refused with one generic 401 (the reason goes to the log, never to the caller)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cachetools import TLRUCache
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jwt import ClaimsOption, JWTClaimsRegistry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import JSONResponse

from coalhub.auth import Principal
from coalhub.models.client import ApiClient
from coalhub.oauth.cache import Cached, Clock
from coalhub.oauth.keys import ALGORITHM, KeyStore
from coalhub.secrecy import Secrecy
from coalhub.settings import Settings

TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 section 4
MAX_TOKEN_LENGTH = 8192
MAX_USER_ID_LENGTH = 64  # the audit columns' widths
MAX_PURPOSE_LENGTH = 256
ESSENTIAL_CLAIMS = ("exp", "iat", "sub", "jti", "client_id", "department")
GENERIC_MESSAGE = "Authentication required: send a valid bearer token."
VERIFIED_TOKENS = 10_000  # tokens remembered per process (about 2 KiB each)

logger = logging.getLogger(__name__)


class Unauthenticated(Exception):  # noqa: N818 - names the outcome, as HTTP 401 does
    """No valid token. `reason` is for operators' logs, never for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CallerHeaderError(ValueError):
    """X-User-Id or X-Purpose cannot be recorded as sent (too long): answer 400."""

    def __init__(self, header: str, message: str) -> None:
        super().__init__(message)
        self.header = header


def unauthenticated_response() -> JSONResponse:
    """The one 401 every refused request gets, whatever was wrong with its token."""
    body = {"errors": [{"message": GENERIC_MESSAGE, "extensions": {"code": "UNAUTHENTICATED"}}]}
    headers = {"WWW-Authenticate": 'Bearer realm="coalhub"', "Cache-Control": "no-store"}
    return JSONResponse(body, status_code=401, headers=headers)


def caller_header_error_response(error: CallerHeaderError) -> JSONResponse:
    extensions = {"code": "BAD_REQUEST", "header": error.header}
    return JSONResponse({"errors": [{"message": str(error), "extensions": extensions}]}, 400)


def _bearer_token(authorization_header: str | None) -> str:
    if not authorization_header:
        raise Unauthenticated("no Authorization header")
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthenticated("not a Bearer authorization")
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthenticated("token too long")
    return token


def _signing_kid(token: str) -> str:
    """The token's key id, after refusing any header we do not issue: this is where
    `alg: none` and HS256-keyed-with-our-public-key die, before any key is touched."""
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, TypeError) as error:
        raise Unauthenticated(f"malformed token: {error}") from None
    if header.get("alg") != ALGORITHM:
        raise Unauthenticated(f"algorithm {header.get('alg')!r} is not {ALGORITHM}")
    if str(header.get("typ", "")).lower() not in TOKEN_TYPES:
        raise Unauthenticated(f"token type {header.get('typ')!r} is not at+jwt")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise Unauthenticated("token names no key")
    return kid


def _optional(claims: dict[str, Any], name: str, kind: type) -> Any:
    value = claims.get(name)
    # bool is an int to Python, never an id to us
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise Unauthenticated(f"claim {name!r} has the wrong type")
    return value


def _caller_header(name: str, value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    if len(value) > limit:
        raise CallerHeaderError(name, f"{name} is longer than {limit} characters")
    return value or None


def _principal(claims: dict[str, Any], user_id: str | None, purpose: str | None) -> Principal:
    client_id = claims["client_id"]
    if not isinstance(client_id, str) or claims.get("sub") != client_id:
        raise Unauthenticated("sub and client_id disagree")
    department = claims["department"]
    if not isinstance(department, str):
        raise Unauthenticated("claim 'department' has the wrong type")
    scope = _optional(claims, "scope", str) or ""
    return Principal(
        client_id=client_id,
        department=department,
        clearance=Secrecy(claims["clearance"]),
        district_code=_optional(claims, "district", str),
        enterprise_id=_optional(claims, "enterprise_id", int),
        site_id=_optional(claims, "site_id", int),
        scopes=frozenset(scope.split()),
        user_id=_caller_header("X-User-Id", user_id, MAX_USER_ID_LENGTH),
        purpose=_caller_header("X-Purpose", purpose, MAX_PURPOSE_LENGTH),
    )


@dataclass(frozen=True)
class _Verified:
    kid: str
    claims: dict[str, Any]
    usable_until: float  # exp + leeway


class TokenVerifier:
    """Accepts only what the token endpoint issues: ES256 by a published key, type at+jwt,
    unexpired (within `token_leeway_seconds`), our audience and issuer, for a client that
    is still active (re-read at most `auth_cache_seconds` apart).

    Clients send the same token for its whole life: a token whose signature and claims
    checked out is remembered until it expires, so later requests skip the signature check
    (the costliest part of a compiled read). Each of them still checks that the token is
    unexpired, that its key is still published and that its client is still active."""

    def __init__(
        self,
        settings: Settings,
        keys: KeyStore,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._active = Cached(self._active_clients, settings.auth_cache_seconds, clock)
        self._verified: TLRUCache[str, _Verified] = TLRUCache(
            VERIFIED_TOKENS, lambda _token, found, _now: found.usable_until, timer=clock
        )

    async def principal(
        self, authorization_header: str | None, user_id: str | None, purpose: str | None
    ) -> Principal:
        """Raises Unauthenticated (answer `unauthenticated_response()`) or CallerHeaderError
        (answer `caller_header_error_response(error)`)."""
        try:
            return await self._principal(authorization_header, user_id, purpose)
        except Unauthenticated as refusal:
            logger.info("bearer token refused: %s", refusal.reason)
            raise

    async def _principal(
        self, authorization_header: str | None, user_id: str | None, purpose: str | None
    ) -> Principal:
        token = _bearer_token(authorization_header)
        claims = await self._claims(token)
        if not await self._is_active(claims["client_id"]):
            raise Unauthenticated("client revoked or unknown")
        return _principal(claims, user_id, purpose)

    async def _claims(self, token: str) -> dict[str, Any]:
        known = self._verified.get(token)  # gone once expired: TLRUCache drops it
        if known is not None:
            if await self._keys.public_key(known.kid) is None:
                raise Unauthenticated("signed by a key that is no longer published")
            return known.claims
        kid = _signing_kid(token)
        key = await self._keys.public_key(kid)
        if key is None:
            raise Unauthenticated("signed by a key that is not published")
        claims = self._verified_claims(token, key)
        usable_until = claims["exp"] + self._settings.token_leeway_seconds
        self._verified[token] = _Verified(kid, claims, usable_until)
        return claims

    def _verified_claims(self, token: str, key: ECKey) -> dict[str, Any]:
        essential: ClaimsOption = {"essential": True}
        registry = JWTClaimsRegistry(
            now=lambda: int(self._clock()),
            leeway=self._settings.token_leeway_seconds,
            iss={"essential": True, "value": self._settings.oauth_issuer},
            aud={"essential": True, "value": self._settings.oauth_audience},
            clearance={"essential": True, "values": [level.value for level in Secrecy]},
            **dict.fromkeys(ESSENTIAL_CLAIMS, essential),
        )
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM]).claims
            registry.validate(claims)
        except (JoseError, ValueError, TypeError) as error:
            raise Unauthenticated(f"token refused: {error}") from None
        return claims

    async def _is_active(self, client_id: object) -> bool:
        if client_id in await self._active.get():
            return True
        return client_id in await self._active.get(refresh=True)  # perhaps added a moment ago

    async def _active_clients(self) -> frozenset[str]:
        async with self._sessionmaker() as session:
            rows = await session.scalars(
                select(ApiClient.client_id).where(ApiClient.revoked_at.is_(None))
            )
            return frozenset(rows)
