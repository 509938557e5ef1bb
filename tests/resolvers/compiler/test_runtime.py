"""The compiled path feature by feature, against the executor on the same data: each query
must be answered by the compiled path (or fall back for the stated reason) and agree with
the executor in data, errors and audit record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from bench.query_bench import TRACE_QUERY
from coalhub.models import WeighRecord
from coalhub.settings import Settings
from resolvers.compiler.dialects import b64
from schema.build import build_schema
from tests.conftest import StatementCounter
from tests.resolvers.compiler.conftest import Answer, Twin, TwinClient, same, same_audit
from tests.resolvers.compiler.queries import global_id


async def agree(
    client: TwinClient, query: str, variables: Any = None, outcome: str = "compiled"
) -> Answer:
    executor, compiled, found = await client.run(query, variables)
    same(executor.body, compiled.body)
    same_audit(executor.audit, compiled.audit)
    assert found == outcome, (found, compiled.body)
    return compiled


async def transport(twin: Twin) -> TwinClient:
    return await twin.as_client("transport", clearance="confidential")


async def a_plate(client: TwinClient) -> str:
    answer = await agree(client, "{ weighRecords(first: 1) { nodes { vehicle { plate } } } }")
    plate: str = answer.body["data"]["weighRecords"]["nodes"][0]["vehicle"]["plate"]
    return plate


async def test_the_trace_query_is_one_statement(twin: Twin) -> None:
    client = await transport(twin)
    plate = await a_plate(client)
    reads = twin.compiled.reads
    assert reads is not None
    counter = StatementCounter()  # statements through SQLAlchemy: the executor's way
    event.listen(twin.compiled.app.state.engine.sync_engine, "before_cursor_execute", counter)
    before = reads.stats.statements
    answer = await agree(client, TRACE_QUERY, {"plate": plate})
    assert reads.stats.statements == before + 2  # asked twice (`TwinClient.run`): once each
    assert counter.count == 0
    edges = answer.body["data"]["vehicles"]["edges"]
    assert edges[0]["node"]["weighRecords"]["edges"]
    assert answer.audit.row_counts["WeighRecord"] >= 1


@pytest.mark.parametrize(
    "arguments",
    [
        "filter: {direction: [SALE, PURCHASE]}",
        "filter: {direction: []}",
        'filter: {since: "2026-11-24T12:00:00+08:00", until: "2026-11-25T00:00:00Z"}',
        'filter: {districtCode: "150303"}',
        'filter: {productCode: "no-such-product"}',
        f'filter: {{enterpriseId: "{global_id("Enterprise", 2)}"}}',
        f'filter: {{vehicleId: "{b64("Vehicle:x")}"}}',  # not a number: no rows
    ],
)
async def test_filters(twin: Twin, arguments: str) -> None:
    client = await transport(twin)
    query = f"{{ weighRecords(first: 4, {arguments}) {{ totalCount nodes {{ id netKg }} }} }}"
    await agree(client, query)


@pytest.mark.parametrize("needle", ["煤", "%", "_", "x/", "有限公司"])
async def test_contains_escapes_like_sqlalchemy(twin: Twin, needle: str) -> None:
    client = await transport(twin)
    query = "query($n: String) { enterprises(filter: {nameContains: $n}) { totalCount } }"
    await agree(client, query, {"n": needle})


async def test_pages_walk_like_the_executor(twin: Twin) -> None:
    client = await transport(twin)
    query = """query($after: String) {
      weighRecords(first: 7, after: $after) {
        edges { cursor node { ticketNo weighedAt } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }"""
    after, pages = None, 0
    while True:
        answer = await agree(client, query, {"after": after})
        page = answer.body["data"]["weighRecords"]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages > 1


async def test_timestamps_with_fractions_of_a_second(twin: Twin) -> None:
    """Whole seconds, a fraction with trailing zeros, and six digits: written, and paged
    by cursor, exactly as the executor writes them."""
    async with twin.engine.begin() as connection:
        ids = (await connection.scalars(select(WeighRecord.id).order_by(WeighRecord.id))).all()
        for n, micro in zip(ids[:6], (0, 120000, 123456, 500000, 1, 999999), strict=True):
            moment = datetime(2020, 1, 1, 3, 4, 5, micro, tzinfo=UTC) + timedelta(seconds=n)
            await connection.execute(
                update(WeighRecord).where(WeighRecord.id == n).values(weighed_at=moment)
            )
    client = await transport(twin)
    query = """query($after: String) { weighRecords(first: 2, after: $after,
        filter: {since: "2020-01-01T00:00:00Z", until: "2020-01-02T00:00:00Z"}) {
        edges { cursor node { weighedAt } } pageInfo { hasNextPage endCursor } } }"""
    after, seen = None, []
    while True:
        page = (await agree(client, query, {"after": after})).body["data"]["weighRecords"]
        seen += [edge["node"]["weighedAt"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 6
    assert any(".120000+00:00" in moment for moment in seen)


async def test_nested_connections_with_cursors_and_filters(twin: Twin) -> None:
    client = await transport(twin)
    first = await agree(client, '{ trajectory(plate: "x", first: 1) { totalCount } }')
    assert first.body["data"]["trajectory"]["totalCount"] == 0
    query = """{ vehicles(first: 3) { nodes {
        plate
        weighRecords(first: 1) { totalCount pageInfo { endCursor hasNextPage } }
        trajectory(first: 2, since: "2026-11-24T12:00:00+08:00") {
          edges { cursor node { recordedAt latitude speedKmh loadState } }
        }
        checkpointPasses(first: 2) { nodes { passedAt checkpoint { name } } }
    } } }"""
    answer = await agree(client, query)
    cursor = answer.body["data"]["vehicles"]["nodes"][0]["weighRecords"]["pageInfo"]["endCursor"]
    paged = """query($c: String) {
        vehicles(first: 3) { nodes { weighRecords(after: $c) { nodes { id } } } }
    }"""
    await agree(client, paged, {"c": cursor})


async def test_fragments_aliases_variables_and_typenames(twin: Twin) -> None:
    client = await transport(twin)
    query = """
    fragment Place on Site { name kind ... on Site { code } }
    query Mixed($first: Int, $filter: WeighRecordFilter, $show: Boolean!) {
      __typename
      latest: weighRecords(first: $first, filter: $filter) {
        __typename
        total: totalCount
        edges {
          __typename cursor
          ticket: node { __typename id ticketNo ticketNo site { ...Place } }
        }
        list: nodes { grossKg @include(if: $show) tareKg @skip(if: $show) netKg }
        pageInfo { __typename hasNextPage }
      }
      sales: weighRecords(first: 2, filter: {direction: [SALE]}) { nodes { direction } }
    }"""
    for show in (True, False):
        variables = {"first": 3, "filter": {"direction": ["SALE"]}, "show": show}
        await agree(client, query, variables)


async def test_node_by_id(twin: Twin) -> None:
    tax = await twin.as_client("tax", clearance="confidential")
    query = """query($id: ID!) { node(id: $id) { __typename id
        ... on Vehicle { plate owner { name } weighRecords(first: 2) { totalCount } }
        ... on Driver { name } } }"""
    for value in (global_id("Vehicle", 3), global_id("Vehicle", 999_999), global_id("Driver", 1)):
        await agree(tax, query, {"id": value})  # Driver: not readable by tax
    await agree(tax, query, {"id": global_id("Nothing", 1)}, outcome="node id of no node type")
    district = await twin.as_client("district", clearance="confidential", district_code="150303")
    for n in range(1, 8):  # rows of other districts: null, counted as none
        await agree(district, query, {"id": global_id("Vehicle", n)})


async def test_nodes_by_ids_and_the_caller(twin: Twin) -> None:
    tax = await twin.as_client("tax", clearance="confidential", attributed=False)
    query = """query($ids: [ID!]!) {
        me { clientId department clearance districtCode userId purpose readableTypes }
        nodes(ids: $ids) { __typename id
          ... on Vehicle { plate transportCertificate owner { name contactPhone } }
          ... on Enterprise { name contactPhone } ... on Driver { driver: name } } }"""
    ids = [global_id("Vehicle", 2), global_id("Driver", 1), global_id("Vehicle", 7)]
    ids += [global_id("Vehicle", 999), global_id("Vehicle", 5), global_id("Driver", 2)]
    await agree(tax, query, {"ids": ids})
    await agree(tax, query, {"ids": []})
    # Enterprise.contactPhone in an item's object and in an item's owner: not in order
    mixed = [global_id("Enterprise", 3), global_id("Vehicle", 2)]
    await agree(tax, query, {"ids": mixed}, outcome="a refused subject at several positions")


async def test_refused_types_and_fields(twin: Twin) -> None:
    energy = await twin.as_client("energy", clearance="internal")
    query = """{ weighRecords(first: 5) { nodes {
        ticketNo unitPrice driver { name } contract { number unitPrice }
        site { weighRecords(first: 2) { nodes { evidence } } } } } }"""
    answer = await agree(energy, query)
    assert {e["extensions"]["code"] for e in answer.body["errors"]} == {"FORBIDDEN"}
    tax = await twin.as_client("tax", clearance="confidential")
    await agree(tax, "{ vehicles(first: 5) { nodes { plate trajectory { totalCount } } } }")
    await agree(tax, '{ trajectory(plate: "x") { totalCount } drivers { totalCount } }')


async def test_a_refused_subject_at_several_positions_falls_back(twin: Twin) -> None:
    energy = await twin.as_client("energy", clearance="internal")
    query = "{ weighRecords(first: 2) { nodes { unitPrice } edges { node { unitPrice } } } }"
    await agree(energy, query, outcome="a refused subject at several positions")


async def test_masks_and_the_end_user_rule(twin: Twin) -> None:
    query = "{ drivers(first: 6) { nodes { name phone idNumber qualificationCertificate } } }"
    identifying = await twin.as_client("transport", clearance="internal")  # R·id
    answer = await agree(identifying, query)
    assert any("*" in (d["name"] or "") for d in answer.body["data"]["drivers"]["nodes"])
    anonymous = await twin.as_client("transport", clearance="confidential", attributed=False)
    await agree(anonymous, query)  # internal without an end user: refused, not masked
    secret = await twin.as_client("police", clearance="secret")
    await agree(secret, query)


async def test_district_and_enterprise_domains(twin: Twin) -> None:
    query = """{ weighRecords(first: 6) { totalCount nodes { ticketNo shipper { name }
        vehicle { plate owner { name district { code } } } } }
        shipments(first: 3) { nodes { origin { ticketNo } destination { ticketNo } } }
        invoices(first: 3) { nodes { number lines { nodes { amount } } } } }"""
    for code in ("150302", "150303", "150304"):
        client = await twin.as_client("district", clearance="confidential", district_code=code)
        await agree(client, query)
    for enterprise in (1, 4, 9):
        client = await twin.as_client(
            "enterprise", clearance="confidential", enterprise_id=enterprise
        )
        await agree(client, query)


async def test_reference_roots_and_own_audit_events(twin: Twin) -> None:
    client = await transport(twin)
    await agree(client, "{ districts { nodes { code enterprises(first: 2) { totalCount } } } }")
    await agree(client, "{ products { totalCount edges { cursor node { code category } } } }")
    await agree(
        client, "{ checkpoints(first: 3) { nodes { name onCityBoundary district { name } } } }"
    )
    await agree(client, "{ auditEvents(first: 3) { totalCount nodes { seq result } } }")
    auditor = await twin.as_client("auditor", clearance="confidential")
    await agree(auditor, "{ auditEvents(first: 3) { totalCount nodes { seq rowCounts } } }")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (
            "{ vehicles(first: 2) { nodes { trips { totalCount } } } }",
            "Vehicle.trips is not a catalog relation",
        ),
        (
            "{ shipments(first: 2) { nodes { trajectory { totalCount } } } }",
            "Shipment.trajectory is not a catalog relation",
        ),
        ("{ vehicles(first: 101) { totalCount } }", "page size out of range"),
        ('{ vehicles(after: "damaged") { totalCount } }', "bad cursor"),
        ("{ trajectory { totalCount } }", "trajectory without vehicleId or plate"),
        ("mutation { reportDeviceStatus(reports: []) { __typename } }", "not a query"),
    ],
)
async def test_fallbacks_are_counted(twin: Twin, query: str, reason: str) -> None:
    client = await transport(twin)
    reads = twin.compiled.reads
    assert reads is not None
    before = reads.stats.fallbacks[reason]
    await agree(client, query, outcome=reason)
    assert reads.stats.fallbacks[reason] == before + 1


async def test_introspection_falls_back_for_developers(twin: Twin) -> None:
    developer = await twin.as_client("developer", clearance="secret")
    await agree(developer, "{ __schema { queryType { name } } }", outcome="introspection")


async def test_statements_are_cached_per_structure(twin: Twin) -> None:
    client = await transport(twin)
    reads = twin.compiled.reads
    assert reads is not None
    query = "query($f: VehicleFilter) { vehicles(first: 2, filter: $f) { nodes { plate } } }"
    await agree(client, query, {"f": {"plate": "a"}})
    compilations = reads.stats.compilations
    await agree(client, query, {"f": {"plate": "b"}})  # another value: the same statement
    other = await twin.as_client("transport", clearance="confidential")  # same policy shape
    await agree(other, query, {"f": {"plate": "c"}})
    assert reads.stats.compilations == compilations
    await agree(client, query, {"f": {"plate": None}})  # another structure
    assert reads.stats.compilations == compilations + 1


def test_the_setting() -> None:
    assert Settings().compiled_reads is True
    assert Settings.from_environ({}).compiled_reads is True
    assert Settings.from_environ({"COALHUB_COMPILED_READS": "0"}).compiled_reads is False


async def test_a_prepared_document_is_answered_for_every_client_as_its_own(twin: Twin) -> None:
    """Prepared by one client, asked by others: each gets its own scope and refusals."""
    query = "query($n: Int) { weighRecords(first: $n) { totalCount nodes { ticketNo unitPrice } } }"
    first = await transport(twin)
    await agree(first, query, {"n": 3})
    reads = twin.compiled.reads
    assert reads is not None
    assert reads.prepared(query, None) is not None
    energy = await twin.as_client("energy", clearance="internal")  # unitPrice refused
    answer = await agree(energy, query, {"n": 2})
    assert [e["extensions"]["code"] for e in answer.body["errors"]] == ["FORBIDDEN"]
    district = await twin.as_client("district", clearance="confidential", district_code="150303")
    await agree(district, query, {"n": 4})


async def test_a_prepared_document_still_answers_to_the_cost_limit(twin: Twin) -> None:
    """The cost limit depends on the page sizes given as variables: measured every time."""
    client = await transport(twin)
    query = """query($a: Int, $b: Int) { enterprises(first: $a) { nodes {
        outboundWeighRecords(first: $b) { nodes { ticketNo netKg weighedAt vehicle { plate } } }
    } } }"""
    await agree(client, query, {"a": 2, "b": 2})
    executor, compiled, found = await client.run(query, {"a": 100, "b": 100})
    same(executor.body, compiled.body)
    assert found == "not executed"
    assert compiled.body["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"


async def test_operations_are_prepared_by_name(twin: Twin) -> None:
    client = await transport(twin)
    document = """query Plates { vehicles(first: 2) { nodes { plate } } }
        query Sites { sites(first: 2) { nodes { name } } }"""
    for name in ("Plates", "Sites", "Plates"):
        body = {"query": document, "operationName": name}
        executor = await twin.executor.client.post("/graphql", json=body, headers=client.headers[0])
        for _ in range(2):
            compiled = await twin.compiled.client.post(
                "/graphql", json=body, headers=client.headers[1]
            )
            assert compiled.json() == executor.json()
    reads = twin.compiled.reads
    assert reads is not None
    assert reads.prepared(document, "Sites") is not None
    # without a name strawberry runs the first operation (the spec would refuse): so do we
    assert reads.prepared(document, None) is reads.prepared(document, "Plates")
    await agree(client, document)


async def test_what_the_prepared_way_leaves_to_strawberry(twin: Twin) -> None:
    client = await transport(twin)
    query = "{ vehicles(first: 2) { nodes { plate } } }"
    await agree(client, query)
    headers = client.headers[1]
    ways: dict[str, dict[str, Any]] = {
        "batch": {"json": [{"query": query}, {"query": query}]},
        "extensions": {"json": {"query": query, "extensions": {"persistedQuery": {}}}},
        "form": {"content": f"query={query}", "headers": {"content-type": "text/plain"}},
        "not json": {"content": b"{", "headers": {"content-type": "application/json"}},
        "variables not an object": {"json": {"query": query, "variables": [1]}},
    }
    reads = twin.compiled.reads
    assert reads is not None
    for way, request in ways.items():
        prepared = reads.stats.prepared
        extra = request.pop("headers", {})
        compiled = await twin.compiled.client.post("/graphql", headers=headers | extra, **request)
        executor = await twin.executor.client.post(
            "/graphql", headers=client.headers[0] | extra, **request
        )
        assert reads.stats.prepared == prepared, way
        assert compiled.status_code == executor.status_code, way
        assert compiled.headers["content-type"] == executor.headers["content-type"], way
        if "json" in executor.headers["content-type"]:
            assert compiled.json() == executor.json(), way
        else:
            assert compiled.text == executor.text, way


# the smallest useful question for each root field of the public contract
ROOT_QUERIES = {
    "me": "{ me { clientId department clearance } }",
    "node": '{ node(id: "<vehicle>") { id ... on Vehicle { plate } } }',
    "nodes": '{ nodes(ids: ["<vehicle>", "<vehicle>"]) { id } }',
    "trajectory": '{ trajectory(plate: "<plate>", first: 3) { totalCount nodes { latitude } } }',
    "districts": "{ districts { totalCount nodes { code name } } }",
    "products": "{ products { totalCount nodes { code } } }",
}


def root_fields() -> list[str]:
    return sorted(build_schema()._schema.query_type.fields)  # type: ignore[union-attr]


@pytest.mark.parametrize("root", root_fields())
async def test_every_root_field_of_the_contract_is_compiled(twin: Twin, root: str) -> None:
    police = await twin.as_client("police", clearance="secret")  # reads every type
    plate = await a_plate(police)
    query = ROOT_QUERIES.get(root, f"{{ {root}(first: 3) {{ totalCount nodes {{ id }} }} }}")
    query = query.replace("<vehicle>", global_id("Vehicle", 1)).replace("<plate>", plate)
    await agree(police, query)
