"""`POST /oauth/token` and `GET /.well-known/jwks.json`.

authlib ships no Starlette integration, so this is its generic AuthorizationServer with
the client-credentials grant: the form is read first, then authlib runs in a worker thread
(the scrypt check of a secret takes tens of milliseconds and must not stall the event
loop) and hops back to the loop for its two database reads, the client and the key."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

import anyio
import anyio.from_thread
import anyio.to_thread
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import (
    InsecureTransportError,
    InvalidClientError,
    InvalidRequestError,
    OAuth2Error,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from coalhub.models.client import ApiClient
from coalhub.oauth.keys import ALGORITHM, KeyStore
from coalhub.oauth.scopes import SCOPES
from coalhub.oauth.secret_hash import (
    burn_secret_check,
    hash_secret,
    needs_rehash,
    verify_secret,
)
from coalhub.settings import Settings

AUTH_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPE = "client_credentials"
TOKEN_REQUEST_THREADS = 4  # each secret check holds 16 MiB of scrypt memory for a moment
# One description for every failed client authentication: unknown, revoked and wrong
# secret must look alike (they also take alike long: see burn_secret_check).
CLIENT_AUTH_FAILED = "Client authentication failed."
TOO_MANY_FAILURES = "Too many failed client authentications from this address; retry later."

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _ClientRecord:
    client_id: str
    secret_hash: str
    department: str
    district_code: str | None
    enterprise_id: int | None
    site_id: int | None
    clearance: str
    scopes: tuple[str, ...]


class _Client(ClientMixin):  # type: ignore[misc]
    """authlib's view of an active client; `record` None stands for unknown or revoked."""

    def __init__(self, record: _ClientRecord | None) -> None:
        self.record = record
        self.upgraded_hash: str | None = None  # set when the stored hash's parameters are old

    def get_client_id(self) -> str:
        return self.record.client_id if self.record else ""

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        allowed = self.record.scopes if self.record else ()
        if not scope:
            return " ".join(allowed)
        granted = [name for name in scope.split() if name in allowed]
        return " ".join(granted) if granted else None  # None: authlib answers invalid_scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        if self.record is None:
            burn_secret_check(client_secret)
            return False
        if not verify_secret(client_secret, self.record.secret_hash):
            return False
        if needs_rehash(self.record.secret_hash):
            self.upgraded_hash = hash_secret(client_secret)
        return True

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GRANT_TYPE

    def claims(self) -> dict[str, Any]:
        assert self.record is not None
        return {
            "department": self.record.department,
            "district": self.record.district_code,
            "enterprise_id": self.record.enterprise_id,
            "site_id": self.record.site_id,
            "clearance": self.record.clearance,
        }


class _ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)


class _FormRequest(OAuth2Request):  # type: ignore[misc]
    """An already-read form; credentials are never taken from the query string."""

    def __init__(self, method: str, uri: str, headers: Headers, form: dict[str, str]) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class _TokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 access tokens carrying what the hub decides access by."""

    def __init__(self, settings: Settings, keys: KeyStore) -> None:
        super().__init__(
            issuer=settings.oauth_issuer,
            alg=ALGORITHM,
            expires_generator=settings.access_token_seconds,
        )
        self._audience = settings.oauth_audience
        self._keys = keys

    def get_jwks(self) -> KeySet:
        return KeySet([anyio.from_thread.run(self._keys.signing_key)])

    def get_audiences(self, client: _Client, user: object, scope: str) -> str:
        return self._audience

    def get_extra_claims(
        self, client: _Client, grant_type: str, user: object, scope: str
    ) -> dict[str, Any]:
        return client.claims()


class HubAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], keys: KeyStore
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self._sessionmaker = sessionmaker
        self._limiter: anyio.CapacityLimiter | None = None
        # failed client authentications per source address and minute; past the limit the
        # address is answered 429 without a secret check (scrypt is the costly part)
        self._failure_limit = RateLimitItemPerMinute(settings.token_failures_per_minute)
        self._failures: MovingWindowRateLimiter | None = None  # made in the event loop
        self.register_grant(_ClientCredentialsGrant)
        self.register_token_generator("default", _TokenGenerator(settings, keys))

    # --- authlib's framework hooks (called in the worker thread) ---

    def query_client(self, client_id: str) -> _Client:
        return _Client(anyio.from_thread.run(self._active_client, client_id))

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to store: the tokens are self-contained JWTs."""

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        """No signal listeners."""

    def create_oauth2_request(self, request: _FormRequest) -> _FormRequest:
        return request

    def create_json_request(self, request: object) -> None:
        raise NotImplementedError("the hub serves no JSON OAuth endpoints")

    def handle_response(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
    ) -> Response:
        return JSONResponse(body, status_code=status, headers=dict(headers))

    def handle_error_response(self, request: OAuth2Request | None, error: OAuth2Error) -> Response:
        if isinstance(error, InvalidClientError):
            # authlib answers 400 when the credentials came in the form; RFC 6749 allows 401
            # either way, and one status keeps the failure cases indistinguishable
            error.status_code = 401
            error.description = CLIENT_AUTH_FAILED
        return super().handle_error_response(request, error)  # type: ignore[no-any-return]

    # --- the endpoint ---

    async def token_endpoint(self, request: Request) -> Response:
        address = request.client.host if request.client else "unknown"
        if self._failures is None:
            self._failures = MovingWindowRateLimiter(MemoryStorage())
        if not await self._failures.test(self._failure_limit, address):
            return await self._throttled(address)
        response = await self._token_response(request)
        if response.status_code == 401:
            await self._failures.hit(self._failure_limit, address)
        return response

    async def _throttled(self, address: str) -> Response:
        assert self._failures is not None
        window = await self._failures.get_window_stats(self._failure_limit, address)
        retry_after = max(1, round(window.reset_time - time.time()))
        logger.warning("token requests from %s throttled after failed authentications", address)
        body = {"error": "temporarily_unavailable", "error_description": TOO_MANY_FAILURES}
        headers = {"Retry-After": str(retry_after), "Cache-Control": "no-store"}
        return JSONResponse(body, status_code=429, headers=headers)

    async def _token_response(self, request: Request) -> Response:
        async with request.form() as form:
            items = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
        repeated = sorted(key for key, count in Counter(k for k, _ in items).items() if count > 1)
        try:
            if repeated:  # RFC 6749 section 3.2: parameters must not be repeated
                raise InvalidRequestError(f"Repeated parameter: {repeated[0]}.")
            oauth_request = _FormRequest(
                request.method, str(request.url), request.headers, dict(items)
            )
        except (InsecureTransportError, InvalidRequestError) as error:
            return self.handle_error_response(None, error)
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(TOKEN_REQUEST_THREADS)
        response: Response = await anyio.to_thread.run_sync(
            self.create_token_response, oauth_request, limiter=self._limiter
        )
        client = oauth_request.client
        if isinstance(client, _Client) and client.record and client.upgraded_hash:
            await self._store_upgraded_hash(client.record, client.upgraded_hash)
        return response

    async def _active_client(self, client_id: str) -> _ClientRecord | None:
        async with self._sessionmaker() as session:
            row = await session.scalar(
                select(ApiClient).where(
                    ApiClient.client_id == client_id, ApiClient.revoked_at.is_(None)
                )
            )
        if row is None:
            return None
        return _ClientRecord(
            client_id=row.client_id,
            secret_hash=row.secret_hash,
            department=row.department,
            district_code=row.district_code,
            enterprise_id=row.enterprise_id,
            site_id=row.site_id,
            clearance=str(row.clearance),
            scopes=tuple(row.scopes),
        )

    async def _store_upgraded_hash(self, record: _ClientRecord, upgraded: str) -> None:
        async with self._sessionmaker() as session:
            # only if nobody rotated the secret meanwhile
            await session.execute(
                update(ApiClient)
                .where(
                    ApiClient.client_id == record.client_id,
                    ApiClient.secret_hash == record.secret_hash,
                )
                .values(secret_hash=upgraded)
            )
            await session.commit()


def oauth_routes(server: HubAuthorizationServer, keys: KeyStore, max_age: int) -> list[BaseRoute]:
    """The token endpoint and the published keys (cacheable for `max_age` seconds)."""

    async def jwks(request: Request) -> Response:
        headers = {"Cache-Control": f"public, max-age={max_age}"}
        return JSONResponse(await keys.jwks(), headers=headers)

    return [
        Route("/oauth/token", server.token_endpoint, methods=["POST"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    ]
