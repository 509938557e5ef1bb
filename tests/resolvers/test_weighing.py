"""Weigh record reads: nested traceability without N+1, keyset pages, filters."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Hub
from tests.factories import seed_world

NESTED = """
query Nested($first: Int!) {
  enterprises(first: $first, filter: {kind: [MINE]}) {
    edges { node {
      name
      district { name }
      sites(first: 5) { totalCount edges { node {
        name
        weighRecords(first: 5) { totalCount edges { node {
          ticketNo netKg
          vehicle { plate owner { name } }
          product { name }
          consignee { name }
        } } }
      } } }
    } }
  }
}
"""


async def test_statement_count_does_not_grow_with_page_size(hub: Hub, engine: AsyncEngine) -> None:
    await seed_world(engine, enterprises_per_district=4, weighings_per_site=4)

    hub.counter.count = 0
    small = await hub.data(NESTED, {"first": 2})
    small_statements = hub.counter.count

    hub.counter.count = 0
    large = await hub.data(NESTED, {"first": 12})
    large_statements = hub.counter.count

    assert len(small["enterprises"]["edges"]) == 2
    assert len(large["enterprises"]["edges"]) == 12
    records = [
        r
        for e in large["enterprises"]["edges"]
        for s in e["node"]["sites"]["edges"]
        for r in s["node"]["weighRecords"]["edges"]
    ]
    assert len(records) == 12 * 4  # every mine has one site with four weighings
    assert all(r["node"]["vehicle"]["owner"]["name"] for r in records)
    assert small_statements == large_statements
    # one statement per level of the tree (and per count), not per row
    assert large_statements <= 12


async def test_pages_walk_every_record_once_newest_first(hub: Hub, engine: AsyncEngine) -> None:
    world = await seed_world(engine, enterprises_per_district=2, weighings_per_site=5)
    query = """
    query Page($after: String) {
      weighRecords(first: 4, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ticketNo weighedAt } }
      }
    }"""
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = (await hub.data(query, {"after": after}))["weighRecords"]
        seen.extend((e["node"]["weighedAt"], e["node"]["ticketNo"]) for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert page["totalCount"] == len(world.weigh_record_ids) == 30
    assert len({ticket for _, ticket in seen}) == 30
    assert [t for t, _ in seen] == sorted((t for t, _ in seen), reverse=True)


async def test_filters_by_district_plate_and_time(hub: Hub, engine: AsyncEngine) -> None:
    await seed_world(engine, enterprises_per_district=2, weighings_per_site=4)
    query = """
    query F($filter: WeighRecordFilter) {
      weighRecords(first: 100, filter: $filter) {
        totalCount edges { node { plateRead site { enterprise { district { code } } } } }
      }
    }"""
    in_wuda = (await hub.data(query, {"filter": {"districtCode": "150304"}}))["weighRecords"]
    assert in_wuda["totalCount"] == 8
    assert {e["node"]["site"]["enterprise"]["district"]["code"] for e in in_wuda["edges"]} == {
        "150304"
    }

    by_plate = (await hub.data(query, {"filter": {"plate": "蒙C10001"}}))["weighRecords"]
    assert by_plate["totalCount"] == 6
    assert {e["node"]["plateRead"] for e in by_plate["edges"]} == {"蒙C10001"}

    window = {"since": "2026-11-01T05:00:00+00:00", "until": "2026-11-01T10:00:00+00:00"}
    in_window = (await hub.data(query, {"filter": window}))["weighRecords"]
    assert in_window["totalCount"] == 5  # hours 5, 6, 7, 8, 9


@pytest.mark.parametrize("first", [-1, 101])
async def test_page_size_is_capped(hub: Hub, first: int) -> None:
    body = await hub.graphql(
        "query($n: Int) { weighRecords(first: $n) { totalCount } }", {"n": first}
    )
    assert body["errors"][0]["extensions"]["code"] == "PAGE_SIZE_EXCEEDED"


async def test_foreign_cursor_is_refused(hub: Hub) -> None:
    body = await hub.graphql('{ weighRecords(first: 1, after: "bm9wZQ") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"
