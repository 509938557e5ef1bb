"""The HTTP surface: health, offline GraphiQL on GET, GraphQL only over POST."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from joserfc.jwk import ECKey
from sqlalchemy import select, text

from coalhub.app import create_app
from coalhub.clients import revoke_client
from coalhub.db import create_sessionmaker
from coalhub.models.client import ApiClient, SigningKey
from coalhub.settings import Settings
from tests.conftest import Hub
from tests.oauth_support import es256, new_key, parts, unsigned, with_payload


async def test_healthz(hub: Hub) -> None:
    response = await hub.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_asks_the_database(hub: Hub, settings: Settings) -> None:
    response = await hub.client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})
    nowhere = create_app(settings.with_overrides(database_url=f"{UNREACHABLE}/coalhub"))
    transport = httpx.ASGITransport(app=nowhere)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_browsers_get_the_offline_graphiql_page(hub: Hub) -> None:
    response = await hub.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "/static/graphiql/graphiql.js" in response.text
    assert "https://" not in response.text
    assert "http://" not in response.text


async def test_queries_over_get_are_refused(hub: Hub) -> None:
    response = await hub.client.get(
        "/graphql", params={"query": "{ me { clientId } }"}, headers={"Accept": "application/json"}
    )
    assert response.status_code >= 400
    assert "clientId" not in response.text


async def test_syntax_errors_are_reported_not_masked(hub: Hub) -> None:
    body = await hub.graphql("{ enterprises(first: ) }")
    assert body["errors"][0]["message"].startswith("Syntax Error")


async def test_unknown_global_id_type_is_a_typed_error(hub: Hub) -> None:
    body = await hub.graphql('{ node(id: "Tm9wZTox") { id } }')  # "Nope:1"
    assert body["errors"][0]["extensions"]["code"] == "BAD_ID"


ME = {"query": "{ me { clientId } }"}
UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:9"  # the discard port: nobody listens


async def _our_key(hub: Hub, kid: str) -> ECKey:
    async with hub.engine.connect() as connection:
        row = (await connection.execute(select(SigningKey).where(SigningKey.kid == kid))).one()
    return ECKey.import_key(row.private_jwk)


async def test_every_bad_token_gets_the_same_401_from_graphql(hub: Hub) -> None:
    """The token attacks, against the real /graphql endpoint (the verifier's own tests
    cover each reason in depth)."""
    token = hub.headers["Authorization"].removeprefix("Bearer ")
    header, claims = parts(token)
    key = await _our_key(hub, header["kid"])
    attacks = {
        "none": None,
        "not bearer": f"Basic {token}",
        "garbage": "Bearer not-a-jwt",
        "alg none": "Bearer " + unsigned({**header, "alg": "none"}, claims),
        "foreign key": "Bearer " + es256(header, claims, new_key(kid=header["kid"])),
        "expired": "Bearer " + es256(header, {**claims, "exp": int(time.time()) - 3600}, key),
        "wrong audience": "Bearer " + es256(header, {**claims, "aud": "another-hub"}, key),
        "wrong issuer": "Bearer " + es256(header, {**claims, "iss": "urn:someone"}, key),
        "tampered": "Bearer " + with_payload(token, {**claims, "department": "police"}),
    }
    for name, authorization in attacks.items():
        headers = {} if authorization is None else {"Authorization": authorization}
        response = await hub.client.post(
            "/graphql", json={"query": "{ me { clientId } }"}, headers=headers
        )
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"].startswith("Bearer"), name
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "UNAUTHENTICATED"}, name
        assert "clientId" not in response.text, name


async def test_a_revoked_client_is_refused(hub: Hub, settings: Settings) -> None:
    tax = await hub.as_client("tax")
    assert (await tax.data("{ me { department } }"))["me"]["department"] == "tax"
    client_id = (await tax.data("{ me { clientId } }"))["me"]["clientId"]
    async with create_sessionmaker(hub.engine).begin() as session:
        name = (
            await session.execute(select(ApiClient.name).where(ApiClient.client_id == client_id))
        ).scalar_one()
        await revoke_client(session, name)
    await asyncio.sleep(settings.auth_cache_seconds + 0.5)  # how long revocation may take
    response = await hub.client.post(
        "/graphql", json={"query": "{ me { clientId } }"}, headers=tax.headers
    )
    assert response.status_code == 401


async def test_unexpected_failures_are_masked_with_a_reference(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    async with hub.engine.begin() as connection:
        await connection.execute(text("DROP TABLE quality_sample"))  # an operator's accident
    body = await hub.graphql("{ qualitySamples(first: 1) { totalCount } }")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    reference = error["extensions"]["reference"]
    assert "quality_sample" not in str(body)  # nothing of the cause reaches the client
    assert any(reference in record.getMessage() and record.exc_info for record in caplog.records)


async def test_connector_counters_are_for_operators_only(hub: Hub) -> None:
    assert (await hub.client.get("/connectors/stats")).status_code == 401
    tax = await hub.as_client("tax")
    assert (await hub.client.get("/connectors/stats", headers=tax.headers)).status_code == 403
    response = await hub.client.get("/connectors/stats", headers=hub.headers)
    assert response.status_code == 200
    assert response.json() == {}  # no connectors configured in tests


async def test_compiled_read_counters_are_for_operators_only(hub: Hub) -> None:
    tax = await hub.as_client("tax")
    assert (await hub.client.get("/compiled-reads/stats")).status_code == 401
    assert (await hub.client.get("/compiled-reads/stats", headers=tax.headers)).status_code == 403
    before = (await hub.client.get("/compiled-reads/stats", headers=hub.headers)).json()
    await hub.graphql("{ districts { totalCount } }")  # compiled
    await hub.graphql("{ __schema { queryType { name } } }")  # introspection: the executor
    after = (await hub.client.get("/compiled-reads/stats", headers=hub.headers)).json()
    assert after["compiled"] == before["compiled"] + 1
    assert after["statements"] == before["statements"] + 1
    assert after["fallback_reasons"]["introspection"] == (
        before["fallback_reasons"].get("introspection", 0) + 1
    )
