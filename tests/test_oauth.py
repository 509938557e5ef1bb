"""The token endpoint, the published keys and the bearer-token checks, over real HTTP (ASGI)
against a migrated database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, Protocol

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub.clients import Credentials
from coalhub.models.base import utcnow
from coalhub.models.client import ApiClient, SigningKey
from coalhub.oauth import (
    SealedKeyError,
    generate_key_encryption_key,
    publication_seconds,
    rotate_signing_key,
    seal_signing_keys,
)
from coalhub.oauth.secret_hash import ScryptParameters, hash_secret
from coalhub.oauth.verifier import GENERIC_MESSAGE
from coalhub.settings import Settings
from tests.factories import seed_districts, seed_world
from tests.oauth_support import (
    OAuthHub,
    es256,
    hs256,
    new_key,
    oauth_hub,
    parts,
    protected_app,
    unsigned,
    with_payload,
    without,
)


@pytest.fixture
async def oauth(settings: Settings) -> AsyncIterator[OAuthHub]:
    async with oauth_hub(settings) as hub:
        yield hub


@pytest.fixture
async def tax(oauth: OAuthHub) -> Credentials:
    return await oauth.add_client("tax-bureau", "tax")


# --- issuing -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["basic", "post"])
async def test_client_credentials_get_a_signed_short_lived_token(
    oauth: OAuthHub, tax: Credentials, method: str
) -> None:
    response = await oauth.token_response(tax, method=method)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == "read"
    header, claims = parts(body["access_token"])
    assert header["alg"] == "ES256"
    assert header["typ"] == "at+jwt"
    assert claims["iss"] == "urn:coalhub:oauth"
    assert claims["aud"] == "coalhub"
    assert claims["sub"] == claims["client_id"] == tax.client_id
    assert claims["exp"] - claims["iat"] == 600
    assert claims["department"] == "tax"
    assert claims["clearance"] == "confidential"
    assert claims["district"] is None


async def test_the_token_verifies_into_the_callers_principal(
    oauth: OAuthHub, tax: Credentials
) -> None:
    token = await oauth.token(tax)

    response = await oauth.whoami(token, **{"X-User-Id": "u-17", "X-Purpose": "case 2026-42"})

    assert response.status_code == 200, response.text
    assert response.json() == {
        "client_id": tax.client_id,
        "department": "tax",
        "clearance": "confidential",
        "district_code": None,
        "enterprise_id": None,
        "site_id": None,
        "scopes": ["read"],
        "user_id": "u-17",
        "purpose": "case 2026-42",
    }


async def test_device_tokens_carry_site_enterprise_and_district(
    oauth: OAuthHub, engine: AsyncEngine
) -> None:
    world = await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    device = await oauth.add_client("gate-bridge", "device", site_id=world.site_ids[0])

    principal = (await oauth.whoami(await oauth.token(device))).json()

    assert principal["department"] == "device"
    assert principal["site_id"] == world.site_ids[0]
    assert principal["enterprise_id"] == world.enterprise_ids[0]
    assert principal["district_code"] == "150302"
    assert principal["scopes"] == ["ingest"]


async def test_district_tokens_carry_the_district(oauth: OAuthHub, engine: AsyncEngine) -> None:
    await seed_districts(engine)
    wuda = await oauth.add_client("wuda", "district", district_code="150304")

    principal = (await oauth.whoami(await oauth.token(wuda, scope="read"))).json()

    assert principal["district_code"] == "150304"
    assert principal["scopes"] == ["read"]  # asked for less than it holds


async def test_tokens_are_refused_for_scopes_the_client_does_not_hold(
    oauth: OAuthHub, tax: Credentials
) -> None:
    for scope in ("admin", "no-such-scope"):
        response = await oauth.token_response(tax, scope=scope)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_scope"


async def test_unknown_grant_types_are_refused(oauth: OAuthHub, tax: Credentials) -> None:
    response = await oauth.token_response(tax, grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_repeated_parameters_are_refused(oauth: OAuthHub, tax: Credentials) -> None:
    response = await oauth.http.post(
        "/oauth/token",
        content="grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(tax.client_id, tax.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_plain_http_is_refused_off_loopback(settings: Settings) -> None:
    async with oauth_hub(settings, base_url="http://hub.example") as hub:
        tax = await hub.add_client("tax-bureau", "tax")
        response = await hub.token_response(tax)
    assert response.status_code == 400
    assert response.json()["error"] == "insecure_transport"


async def test_loopback_http_is_allowed(settings: Settings) -> None:
    async with oauth_hub(settings, base_url="http://127.0.0.1:8000") as hub:
        tax = await hub.add_client("tax-bureau", "tax")
        assert (await hub.token_response(tax)).status_code == 200


# --- client authentication failures -----------------------------------------------------


async def _refused_credentials(oauth: OAuthHub, tax: Credentials, case: str) -> Credentials:
    if case == "wrong secret":
        return Credentials(tax.client_id, tax.client_secret + "x", tax.name, tax.department)
    if case == "unknown client":
        return Credentials("no-such-client", tax.client_secret, tax.name, tax.department)
    if case == "empty secret":
        return Credentials(tax.client_id, "", tax.name, tax.department)
    await oauth.revoke(tax.name)
    return tax


@pytest.mark.parametrize("method", ["basic", "post"])
@pytest.mark.parametrize(
    "case", ["wrong secret", "unknown client", "revoked client", "empty secret"]
)
async def test_bad_client_credentials_get_one_and_the_same_401(
    oauth: OAuthHub, tax: Credentials, case: str, method: str
) -> None:
    credentials = await _refused_credentials(oauth, tax, case)

    response = await oauth.token_response(credentials, method=method)

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_an_address_that_keeps_failing_is_throttled(settings: Settings) -> None:
    """Guessing secrets costs the hub a scrypt check each: past the limit of failures an
    address gets 429 without one, good credentials included, while other addresses go on."""
    limited = settings.with_overrides(token_failures_per_minute=3)
    async with oauth_hub(limited) as oauth:
        tax = await oauth.add_client("tax-bureau", "tax")
        wrong = Credentials(tax.client_id, "not-the-secret", tax.name, tax.department)
        for _ in range(3):
            assert (await oauth.token_response(wrong)).status_code == 401
        for credentials in (wrong, tax):
            throttled = await oauth.token_response(credentials)
            assert throttled.status_code == 429
            assert throttled.json()["error"] == "temporarily_unavailable"
            assert 1 <= int(throttled.headers["retry-after"]) <= 60
        elsewhere = httpx.ASGITransport(app=protected_app(oauth.auth), client=("10.1.2.3", 4000))
        async with httpx.AsyncClient(transport=elsewhere, base_url="https://hub.test") as http:
            form = {"grant_type": "client_credentials"}
            response = await http.post(
                "/oauth/token", data=form, auth=(tax.client_id, tax.client_secret)
            )
        assert response.status_code == 200


async def test_old_secret_hashes_are_upgraded_on_use(oauth: OAuthHub, tax: Credentials) -> None:
    weak = hash_secret(tax.client_secret, ScryptParameters(n=2**10, r=8, p=1))
    async with oauth.sessionmaker() as session, session.begin():
        row = await session.scalar(select(ApiClient).where(ApiClient.name == tax.name))
        assert row is not None
        row.secret_hash = weak

    await oauth.token(tax)

    async with oauth.sessionmaker() as session:
        stored = await session.scalar(
            select(ApiClient.secret_hash).where(ApiClient.name == tax.name)
        )
    assert stored is not None
    assert stored.startswith("scrypt$16384$8$1$")
    await oauth.token(tax)  # and the upgraded hash still accepts the secret


# --- bearer-token attacks ------------------------------------------------------------------


class Refused(Protocol):
    async def __call__(self, token: str | None, because: str, **headers: str) -> None: ...


@pytest.fixture
def refused(oauth: OAuthHub, caplog: pytest.LogCaptureFixture) -> Refused:
    """Asserts the one generic 401, and that the operators' log names the expected reason."""

    async def check(token: str | None, because: str, **headers: str) -> None:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="coalhub.oauth.verifier"):
            response = await oauth.whoami(token, **headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="coalhub"'
        assert response.json() == {
            "errors": [{"message": GENERIC_MESSAGE, "extensions": {"code": "UNAUTHENTICATED"}}]
        }
        reasons = [record.getMessage() for record in caplog.records]
        assert any(because in reason for reason in reasons), reasons

    return check


async def test_missing_and_malformed_authorization_is_refused(
    oauth: OAuthHub, tax: Credentials, refused: Refused
) -> None:
    token = await oauth.token(tax)
    await refused(None, "no Authorization header")
    await refused(None, "not a Bearer", Authorization=f"Basic {token}")
    await refused(None, "not a Bearer", Authorization="Bearer")
    await refused(token + " extra", "not a Bearer")
    await refused("not-a-jwt", "malformed token")
    await refused("a.b.c", "malformed token")
    await refused("x" * 10_000, "token too long")


async def test_expired_tokens_are_refused_after_a_small_leeway(
    oauth: OAuthHub, tax: Credentials, refused: Refused
) -> None:
    token = await oauth.token(tax)
    _, claims = parts(token)
    oauth.clock.now = claims["exp"] + oauth.settings.token_leeway_seconds - 1
    assert (await oauth.whoami(token)).status_code == 200

    oauth.clock.now = claims["exp"] + oauth.settings.token_leeway_seconds + 1
    await refused(token, "expired")


async def test_tokens_signed_by_another_key_are_refused(
    oauth: OAuthHub, tax: Credentials, refused: Refused
) -> None:
    header, claims = parts(await oauth.token(tax))

    await refused(es256(header, claims, new_key(kid=header["kid"])), "bad_signature")  # our kid
    await refused(es256({**header, "kid": "k2"}, claims, new_key(kid="k2")), "not published")
    await refused(es256(without(header, ["kid"]), claims, new_key()), "names no key")


async def test_alg_none_is_refused(oauth: OAuthHub, tax: Credentials, refused: Refused) -> None:
    header, claims = parts(await oauth.token(tax))
    for alg in ("none", "None", "NONE"):
        await refused(unsigned({**header, "alg": alg}, claims), f"algorithm '{alg}'")


async def test_hs256_keyed_with_our_public_key_is_refused(
    oauth: OAuthHub, tax: Credentials, refused: Refused
) -> None:
    header, claims = parts(await oauth.token(tax))
    public = (await oauth.http.get("/.well-known/jwks.json")).json()["keys"][0]
    pem = (await oauth.private_keys())[header["kid"]].as_pem(private=False)
    forged = {**header, "alg": "HS256"}
    for secret in (pem, json.dumps(public).encode(), public["x"].encode()):
        await refused(hs256(forged, claims, secret), "algorithm 'HS256'")


async def test_other_algorithms_and_token_types_are_refused(
    oauth: OAuthHub, tax: Credentials, refused: Refused
) -> None:
    header, claims = parts(await oauth.token(tax))
    key = (await oauth.private_keys())[header["kid"]]
    await refused(unsigned({**header, "alg": "ES384"}, claims) + "AAAA", "algorithm 'ES384'")
    # signed by our own key, but not an RFC 9068 access token (an ID token, say)
    await refused(es256({**header, "typ": "JWT"}, claims, key), "token type 'JWT'")


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "another-hub"},
        {"aud": ["another-hub", "municipal-brain"]},
        {"iss": "urn:someone:else"},
        {"clearance": "top-secret"},
        {"sub": "someone-else"},
    ],
    ids=["audience", "audience list", "issuer", "clearance", "sub"],
)
async def test_tokens_for_another_audience_or_issuer_are_refused_even_if_signed_by_us(
    oauth: OAuthHub, tax: Credentials, refused: Refused, changes: dict[str, Any]
) -> None:
    header, claims = parts(await oauth.token(tax))
    key = (await oauth.private_keys())[header["kid"]]
    because = (
        "sub and client_id disagree" if "sub" in changes else f"claim: '{next(iter(changes))}'"
    )
    await refused(es256(header, {**claims, **changes}, key), because)


@pytest.mark.parametrize("claim", ["exp", "iat", "aud", "iss", "client_id", "department"])
async def test_tokens_missing_an_essential_claim_are_refused(
    oauth: OAuthHub, tax: Credentials, refused: Refused, claim: str
) -> None:
    header, claims = parts(await oauth.token(tax))
    key = (await oauth.private_keys())[header["kid"]]
    await refused(es256(header, without(claims, [claim]), key), f"Missing claim: '{claim}'")


async def test_tampered_payloads_are_refused(
    oauth: OAuthHub, tax: Credentials, refused: Refused
) -> None:
    token = await oauth.token(tax)
    _, claims = parts(token)
    for changes in ({"clearance": "secret"}, {"exp": claims["exp"] + 86_400}, {"sub": "x"}):
        await refused(with_payload(token, {**claims, **changes}), "bad_signature")


async def test_a_revoked_clients_live_tokens_die_within_the_cache_time(
    oauth: OAuthHub, tax: Credentials, refused: Refused
) -> None:
    token = await oauth.token(tax)
    assert (await oauth.whoami(token)).status_code == 200

    await oauth.revoke(tax.name)
    oauth.clock.advance(oauth.settings.auth_cache_seconds)

    await refused(token, "client revoked")
    assert (await oauth.token_response(tax)).status_code == 401


async def test_a_client_added_elsewhere_verifies_at_once(oauth: OAuthHub, tax: Credentials) -> None:
    assert (await oauth.whoami(await oauth.token(tax))).status_code == 200  # caches warm
    police = await oauth.add_client("police", "police")
    oauth.clock.advance(1)  # not yet auth_cache_seconds: the unknown client forces a re-read

    response = await oauth.whoami(await oauth.token(police))

    assert response.status_code == 200
    assert response.json()["clearance"] == "secret"


async def test_over_long_caller_headers_are_a_bad_request(
    oauth: OAuthHub, tax: Credentials
) -> None:
    response = await oauth.whoami(await oauth.token(tax), **{"X-Purpose": "p" * 257})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {
        "code": "BAD_REQUEST",
        "header": "X-Purpose",
    }


# --- keys ------------------------------------------------------------------------------------


async def test_jwks_publishes_public_keys_only(oauth: OAuthHub, tax: Credentials) -> None:
    header, _ = parts(await oauth.token(tax))

    response = await oauth.http.get("/.well-known/jwks.json")

    assert response.status_code == 200
    max_age = int(oauth.settings.auth_cache_seconds)
    assert response.headers["cache-control"] == f"public, max-age={max_age}"
    [key] = response.json()["keys"]
    assert key["kid"] == header["kid"]
    assert {key["kty"], key["crv"], key["alg"], key["use"]} == {"EC", "P-256", "ES256", "sig"}
    assert "d" not in key


async def test_rotation_keeps_old_tokens_valid_until_they_expire(
    oauth: OAuthHub, tax: Credentials
) -> None:
    old_token = await oauth.token(tax)
    old_kid = parts(old_token)[0]["kid"]
    async with oauth.sessionmaker() as session, session.begin():
        new_kid = await rotate_signing_key(session, oauth.settings)
    oauth.clock.advance(oauth.settings.auth_cache_seconds)  # this process sees the rotation

    new_token = await oauth.token(tax)

    assert parts(new_token)[0]["kid"] == new_kid != old_kid
    assert (await oauth.whoami(old_token)).status_code == 200
    assert (await oauth.whoami(new_token)).status_code == 200
    jwks = (await oauth.http.get("/.well-known/jwks.json")).json()
    assert {key["kid"] for key in jwks["keys"]} == {old_kid, new_kid}


async def test_a_retired_key_is_unpublished_once_its_tokens_have_expired(
    oauth: OAuthHub, tax: Credentials, refused: Refused
) -> None:
    header, claims = parts(await oauth.token(tax))
    old_key = (await oauth.private_keys())[header["kid"]]
    async with oauth.sessionmaker() as session, session.begin():
        new_kid = await rotate_signing_key(session, oauth.settings)

    oauth.clock.advance(publication_seconds(oauth.settings) + 1)
    now = int(oauth.clock.now)
    # the old key, stolen, signs a token that is otherwise perfectly valid
    replay = es256(header, {**claims, "iat": now, "exp": now + 600}, old_key)

    await refused(replay, "not published")
    jwks = (await oauth.http.get("/.well-known/jwks.json")).json()
    assert [key["kid"] for key in jwks["keys"]] == [new_kid]


async def test_a_token_seen_before_dies_with_its_key(
    oauth: OAuthHub, tax: Credentials, refused: Refused
) -> None:
    """Verified tokens are remembered; an operator who withdraws a key (deletes it, say it
    leaked) still kills its tokens within the cache time."""
    token = await oauth.token(tax)
    assert (await oauth.whoami(token)).status_code == 200
    async with oauth.sessionmaker() as session, session.begin():
        await rotate_signing_key(session, oauth.settings)
        await session.execute(delete(SigningKey).where(SigningKey.kid == parts(token)[0]["kid"]))
    oauth.clock.advance(oauth.settings.auth_cache_seconds)

    await refused(token, "no longer published")


@pytest.mark.parametrize("seconds_later", [0, 1])
async def test_a_key_rotated_elsewhere_verifies_at_once(
    settings: Settings, seconds_later: float
) -> None:
    async with oauth_hub(settings) as issuer, oauth_hub(settings) as verifier:
        tax = await issuer.add_client("tax-bureau", "tax")
        assert (await verifier.whoami(await issuer.token(tax))).status_code == 200  # warm
        async with issuer.sessionmaker() as session, session.begin():
            await rotate_signing_key(session, settings)
        issuer.clock.advance(settings.auth_cache_seconds)
        # well inside the verifier's key cache time: the unknown kid makes it re-read (or wait
        # a moment for the next re-read), never refuse
        verifier.clock.advance(seconds_later)

        response = await verifier.whoami(await issuer.token(tax))

    assert response.status_code == 200


async def test_rotation_deletes_keys_whose_publication_has_ended(
    oauth: OAuthHub, tax: Credentials
) -> None:
    first = parts(await oauth.token(tax))[0]["kid"]
    async with oauth.sessionmaker() as session, session.begin():
        second = await rotate_signing_key(session, oauth.settings)
    later = utcnow() + timedelta(seconds=publication_seconds(oauth.settings) + 1)
    async with oauth.sessionmaker() as session, session.begin():
        third = await rotate_signing_key(session, oauth.settings, now=later)

    assert first not in await oauth.private_keys()
    assert set(await oauth.private_keys()) == {second, third}  # second retired, published


async def test_signing_keys_are_sealed_at_rest(settings: Settings) -> None:
    """With encryption keys set, a copy of the database holds no usable private key."""
    first, second = generate_key_encryption_key(), generate_key_encryption_key()
    sealed = settings.with_overrides(key_encryption_keys=(first,))
    async with oauth_hub(sealed) as oauth:
        tax = await oauth.add_client("tax-bureau", "tax")
        token = await oauth.token(tax)
        assert (await oauth.whoami(token)).status_code == 200
        async with oauth.sessionmaker() as session:
            [stored] = (await session.scalars(select(SigningKey.private_jwk))).all()
        assert set(stored) == {"sealed"}
        assert parts(token)[0]["kid"] in await oauth.private_keys()  # unsealed, it is the key

    for keys in ((), (second,)):  # none, or the wrong one
        async with oauth_hub(settings.with_overrides(key_encryption_keys=keys)) as elsewhere:
            with pytest.raises(SealedKeyError):
                await elsewhere.auth.keys.signing_key()

    # a new encryption key first, the old one still listed: seal again, then drop the old one
    rotating = settings.with_overrides(key_encryption_keys=(second, first))
    async with oauth_hub(rotating) as oauth, oauth.sessionmaker.begin() as session:
        assert await seal_signing_keys(session, rotating) == 1
    async with oauth_hub(settings.with_overrides(key_encryption_keys=(second,))) as oauth:
        assert (await oauth.whoami(token)).status_code == 200  # the same key, resealed


async def test_plain_keys_are_sealed_when_encryption_is_turned_on(
    oauth: OAuthHub, tax: Credentials, settings: Settings
) -> None:
    token = await oauth.token(tax)  # signed by a key stored plain
    with pytest.raises(SealedKeyError):  # nothing to seal with
        async with oauth.sessionmaker.begin() as session:
            await seal_signing_keys(session, settings)
    sealed = settings.with_overrides(key_encryption_keys=(generate_key_encryption_key(),))
    async with oauth.sessionmaker.begin() as session:
        assert await seal_signing_keys(session, sealed) == 1
    async with oauth_hub(sealed) as elsewhere:
        assert (await elsewhere.whoami(token)).status_code == 200
