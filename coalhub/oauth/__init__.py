"""OAuth2 for the hub: agency and device identities.

Clients (coalhub.clients) trade their credentials at `POST /oauth/token` (client
credentials grant, `client_secret_basic` or `client_secret_post`) for a short-lived
RFC 9068 JWT signed with ES256; `GET /.well-known/jwks.json` publishes the public keys;
`TokenVerifier.principal` turns a bearer token into the Principal a request is answered
for.

Propagation: revoking a client refuses it new tokens at once; every process re-reads the
active clients and the signing keys at most `Settings.auth_cache_seconds` apart, so the
client's live tokens stop verifying within that time. A key or client a process has not
seen yet makes it re-read at once (at most four times a second; a request that comes
sooner waits for the next read rather than being refused), so a key rotated or a client
added elsewhere works everywhere as soon as it is used."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import BaseRoute

from coalhub.oauth.cache import Clock
from coalhub.oauth.keys import (
    ALGORITHM,
    KeyStore,
    SealedKeyError,
    generate_key_encryption_key,
    publication_seconds,
    rotate_signing_key,
    seal_signing_keys,
)
from coalhub.oauth.server import HubAuthorizationServer, oauth_routes
from coalhub.oauth.verifier import (
    CallerHeaderError,
    TokenVerifier,
    Unauthenticated,
    caller_header_error_response,
    unauthenticated_response,
)
from coalhub.settings import Settings

__all__ = [
    "ALGORITHM",
    "Auth",
    "CallerHeaderError",
    "HubAuthorizationServer",
    "KeyStore",
    "SealedKeyError",
    "TokenVerifier",
    "Unauthenticated",
    "build_auth",
    "caller_header_error_response",
    "generate_key_encryption_key",
    "oauth_routes",
    "publication_seconds",
    "rotate_signing_key",
    "seal_signing_keys",
    "unauthenticated_response",
]


@dataclass(frozen=True)
class Auth:
    """What the app factory mounts (`routes`) and asks about each request (`verifier`)."""

    routes: list[BaseRoute]
    verifier: TokenVerifier
    keys: KeyStore


def build_auth(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock = time.time
) -> Auth:
    keys = KeyStore(settings, sessionmaker, clock)
    server = HubAuthorizationServer(settings, sessionmaker, keys)
    return Auth(
        routes=oauth_routes(server, keys, max_age=int(settings.auth_cache_seconds)),
        verifier=TokenVerifier(settings, keys, sessionmaker, clock),
        keys=keys,
    )
