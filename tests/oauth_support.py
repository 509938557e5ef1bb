"""A small real app for the OAuth tests: the token and JWKS endpoints plus one route that
answers with the verified principal, over ASGI; a clock the tests move; hand-made tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, KeyParameters
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from coalhub.clients import Credentials, create_client, revoke_client
from coalhub.db import create_engine, create_sessionmaker
from coalhub.models.client import SigningKey
from coalhub.oauth import (
    Auth,
    CallerHeaderError,
    Unauthenticated,
    build_auth,
    caller_header_error_response,
    unauthenticated_response,
)
from coalhub.oauth.keys import unseal
from coalhub.settings import Settings


class FakeClock:
    """The verifier's and caches' time: starts now, moves only when a test says so."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def protected_app(auth: Auth) -> Starlette:
    async def whoami(request: Request) -> Response:
        try:
            principal = await auth.verifier.principal(
                request.headers.get("Authorization"),
                request.headers.get("X-User-Id"),
                request.headers.get("X-Purpose"),
            )
        except Unauthenticated:
            return unauthenticated_response()
        except CallerHeaderError as error:
            return caller_header_error_response(error)
        return JSONResponse({**asdict(principal), "scopes": sorted(principal.scopes)})

    return Starlette(routes=[*auth.routes, Route("/whoami", whoami)])


@dataclass
class OAuthHub:
    http: httpx.AsyncClient
    auth: Auth
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: FakeClock

    async def add_client(self, name: str, department: str, **options: Any) -> Credentials:
        async with self.sessionmaker() as session, session.begin():
            return await create_client(session, name, department, **options)

    async def revoke(self, name: str) -> None:
        async with self.sessionmaker() as session, session.begin():
            await revoke_client(session, name)

    async def token_response(
        self, credentials: Credentials, *, method: str = "basic", **form: str
    ) -> httpx.Response:
        data = {"grant_type": "client_credentials", **form}
        if method == "basic":
            auth = (credentials.client_id, credentials.client_secret)
            return await self.http.post("/oauth/token", data=data, auth=auth)
        data |= {"client_id": credentials.client_id, "client_secret": credentials.client_secret}
        return await self.http.post("/oauth/token", data=data)

    async def token(self, credentials: Credentials, **form: str) -> str:
        response = await self.token_response(credentials, **form)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    async def whoami(self, token: str | None, **headers: str) -> httpx.Response:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await self.http.get("/whoami", headers=headers)

    async def private_keys(self) -> dict[str, ECKey]:
        """Every stored signing key by kid (what an attacker who stole one would hold)."""
        async with self.sessionmaker() as session:
            rows = await session.scalars(select(SigningKey))
            return {
                row.kid: ECKey.import_key(unseal(row.private_jwk, self.settings)) for row in rows
            }


@asynccontextmanager
async def oauth_hub(
    settings: Settings, *, base_url: str = "https://hub.test"
) -> AsyncIterator[OAuthHub]:
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    clock = FakeClock()
    auth = build_auth(settings, sessionmaker, clock=clock)
    transport = httpx.ASGITransport(app=protected_app(auth))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield OAuthHub(http, auth, sessionmaker, settings, clock)
    finally:
        await engine.dispose()


# --- hand-made tokens ---------------------------------------------------------------------


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(payload))


def _segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """`alg: none` as an attacker writes it: an empty signature."""
    return f"{_segment(header)}.{_segment(claims)}."


def hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def es256(header: dict[str, Any], claims: dict[str, Any], key: ECKey) -> str:
    return jwt.encode(header, claims, key, algorithms=["ES256"])


def with_payload(token: str, claims: dict[str, Any]) -> str:
    """The same header and signature over other claims (tampering)."""
    header, _, signature = token.split(".")
    return f"{header}.{_segment(claims)}.{signature}"


def new_key(kid: str | None = None) -> ECKey:
    parameters: KeyParameters = {"alg": "ES256", "use": "sig"}
    if kid is not None:
        parameters["kid"] = kid
    return ECKey.generate_key("P-256", parameters=parameters, private=True, auto_kid=kid is None)


def without(claims: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: value for name, value in claims.items() if name not in set(names)}
