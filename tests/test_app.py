"""The HTTP surface: health, offline GraphiQL on GET, GraphQL only over POST."""

from __future__ import annotations

from tests.conftest import Hub


async def test_healthz(hub: Hub) -> None:
    response = await hub.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


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
