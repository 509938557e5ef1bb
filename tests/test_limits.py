"""GraphQL hardening: each limit refuses the operation with its own code."""

from __future__ import annotations

import pytest

from tests.conftest import Hub


def code(body: dict[str, object]) -> str:
    errors = body["errors"]
    assert isinstance(errors, list)
    return str(errors[0]["extensions"]["code"])


async def test_depth_limit(hub: Hub) -> None:
    level = "enterprise { sites(first: 1) { edges { node { "
    opening = "{ sites(first: 1) { edges { node { " + level * 4 + "name"
    query = opening + " }" * opening.count("{")
    assert code(await hub.graphql(query)) == "DEPTH_LIMIT_EXCEEDED"


async def test_alias_limit(hub: Hub) -> None:
    query = "{ " + " ".join(f"a{i}: me {{ clientId }}" for i in range(31)) + " }"
    assert code(await hub.graphql(query)) == "ALIAS_LIMIT_EXCEEDED"


async def test_directive_limit(hub: Hub) -> None:
    query = "{ me { " + " ".join(f"a{i}: clientId @include(if: true)" for i in range(11)) + " } }"
    assert code(await hub.graphql(query)) == "DIRECTIVE_LIMIT_EXCEEDED"


async def test_duplicated_field_limit(hub: Hub) -> None:
    query = "{ me { " + "clientId " * 500 + "} }"
    assert code(await hub.graphql(query)) == "DUPLICATE_FIELD_LIMIT_EXCEEDED"


async def test_cost_accounts_for_list_sizes(hub: Hub) -> None:
    query = """query($n: Int) { weighRecords(first: $n) { edges { node {
        vehicle { weighRecords(first: 100) { edges { node {
            site { weighRecords(first: 100) { totalCount } }
        } } } }
    } } } }"""
    cheap = await hub.graphql(query, {"n": 2})
    assert "errors" not in cheap
    assert code(await hub.graphql(query, {"n": 100})) == "COST_LIMIT_EXCEEDED"


async def test_token_limit(hub: Hub) -> None:
    query = "{ me { " + " ".join(f"f{i}: clientId" for i in range(3000)) + " } }"
    assert code(await hub.graphql(query)) == "TOKEN_LIMIT_EXCEEDED"


@pytest.mark.parametrize("department", ["tax", "police"])
async def test_introspection_and_suggestions_are_off_for_agencies(
    hub: Hub, department: str
) -> None:
    caller = await hub.as_client(department)
    body = await caller.graphql("{ __schema { types { name } } }")
    assert "introspection" in body["errors"][0]["message"].lower()
    typo = await caller.graphql("{ enterprize(first: 1) { totalCount } }")
    assert "Did you mean" not in typo["errors"][0]["message"]


async def test_developers_may_introspect_and_get_suggestions(hub: Hub) -> None:
    body = await hub.graphql("{ __schema { queryType { name } } }")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    typo = await hub.graphql("{ enterprize(first: 1) { totalCount } }")
    assert "Did you mean" in typo["errors"][0]["message"]


async def test_batched_requests_are_refused(hub: Hub) -> None:
    response = await hub.client.post(
        "/graphql", json=[{"query": "{ me { clientId } }"}] * 2, headers=hub.headers
    )
    assert response.status_code == 400
