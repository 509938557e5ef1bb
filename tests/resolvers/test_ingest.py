"""Ingestion from device bridges: every field checked, each record answered on its own,
stored exactly once however often it is delivered, and only by the site's own device."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.relay import GlobalID

from coalhub import models as m
from coalhub.auth import Principal
from coalhub.db import create_sessionmaker
from coalhub.errors import ForbiddenError
from coalhub.identifiers import PlateColour
from coalhub.secrecy import Secrecy
from coalhub.settings import Settings
from policies.access import unrestricted
from resolvers import ingest
from resolvers.context import RequestContext
from resolvers.device_status import DeviceStatusFields, report_device_status
from resolvers.ingest_checks import MAX_BATCH, IngestOutcome, IngestStatus
from tests.conftest import Hub
from tests.factories import World, seed_world, uscc

INGEST = """
mutation($records: [WeighRecordInput!]!) {
  ingestWeighRecords(records: $records) {
    results { index key status field reason message weighRecordId }
  }
}"""
REPORT = """
mutation($reports: [DeviceStatusInput!]!) {
  reportDeviceStatus(reports: $reports) { results { index key status reason deviceId } }
}"""
STORED = """
query($id: ID!) {
  node(id: $id) {
    ... on WeighRecord { ticketNo netKg source plateRead vehicle { plate status } }
    ... on Device { code status protocol lastState }
  }
}"""
# the principal of developers' local tools
DEVELOPER = Principal(client_id="tools", department="developer", clearance=Secrecy.SECRET)
NOW = datetime.now(UTC).replace(microsecond=0)
BUYER = uscc("150303", 999)


def site_gid(world: World, index: int = 0) -> str:
    return str(GlobalID("Site", str(world.site_ids[index])))


def record(world: World, n: int = 1, **changes: Any) -> dict[str, Any]:
    """A valid sale weighing at the first site (shipper: its mine)."""
    return {
        "idempotencyKey": f"7f6c1c9e-0000-4000-8000-{n:012d}",
        "ticketNo": f"S1-20261101-{n:05d}",
        "siteId": site_gid(world),
        "deviceCode": "WB1",
        "direction": "SALE",
        "plate": "蒙C 10000",
        "plateColour": "YELLOW",
        "productCode": "JM-XJ",
        "tareKg": 17020,
        "tareAt": (NOW - timedelta(minutes=40)).isoformat(),
        "grossKg": 49160,
        "grossAt": (NOW - timedelta(minutes=10)).isoformat(),
        "shipperUscc": uscc("150302", 1),
        "consigneeUscc": BUYER,
        "unitPrice": "1650.00",
        "evidence": {"second": {"frames": ["022b30303439313630304103"], "stableMs": 1450}},
        **changes,
    }


async def ingest_via_api(hub: Hub, *records: dict[str, Any]) -> list[dict[str, Any]]:
    data = await hub.data(INGEST, {"records": list(records)})
    results: list[dict[str, Any]] = data["ingestWeighRecords"]["results"]
    return results


async def stored(hub: Hub, global_id: str) -> dict[str, Any]:
    node: dict[str, Any] = (await hub.data(STORED, {"id": global_id}))["node"]
    return node


async def count(engine: AsyncEngine, model: type[m.Base]) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(model))).scalar_one())


def context(settings: Settings, engine: AsyncEngine, caller: Principal) -> RequestContext:
    return RequestContext(
        settings=settings,
        caller=caller,
        access=unrestricted(),
        sessionmaker=create_sessionmaker(engine),
    )


def device_client(site_id: int) -> Principal:
    return Principal(
        client_id=f"bridge-site-{site_id}",
        department="device",
        clearance=Secrecy.PUBLIC,
        site_id=site_id,
        scopes=frozenset({"ingest"}),
    )


def fields(world: World, n: int = 1, site_index: int = 0) -> ingest.WeighRecordFields:
    return ingest.WeighRecordFields(
        idempotency_key=f"direct-{n}",
        ticket_no=f"D-{n}",
        site_id=world.site_ids[site_index],
        direction=m.WeighDirection.SALE,
        plate="蒙C10001",
        plate_colour=PlateColour.YELLOW,
        product_code="JM-XJ",
        gross_kg=48000,
        gross_at=NOW - timedelta(minutes=5),
        tare_kg=16000,
        tare_at=NOW - timedelta(minutes=30),
        shipper_uscc=uscc("150302", 1),
        consignee_uscc=BUYER,
    )


async def test_a_batch_is_stored_with_its_evidence(hub: Hub, engine: AsyncEngine) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    before = await count(engine, m.Vehicle)
    results = await ingest_via_api(hub, record(world, 1), record(world, 2, plate="蒙C10001"))
    assert [r["status"] for r in results] == ["ACCEPTED", "ACCEPTED"]
    first = await stored(hub, results[0]["weighRecordId"])
    assert first == {
        "ticketNo": "S1-20261101-00001",
        "netKg": 49160 - 17020,
        "source": "BRIDGE",
        "plateRead": "蒙C10000",  # normalised
        "vehicle": {"plate": "蒙C10000", "status": "REGISTERED"},
    }
    assert await count(engine, m.Vehicle) == before  # registered trucks are reused
    async with engine.connect() as connection:
        row = (await connection.execute(select(m.WeighRecord).limit(1))).one()._mapping
        device = (await connection.execute(select(m.Device.code, m.Device.site_id))).one()
    assert row["evidence"]["second"]["stableMs"] == 1450
    assert row["weighed_at"] == NOW - timedelta(minutes=10)  # the later weighing
    assert tuple(device) == ("WB1", world.site_ids[0])  # created on first use


async def test_redelivery_is_a_duplicate_and_a_changed_payload_a_conflict(
    hub: Hub, engine: AsyncEngine
) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    [stored] = await ingest_via_api(hub, record(world, 1))
    again = await ingest_via_api(
        hub,
        record(world, 1),  # the bridge never saw the acknowledgement
        record(world, 1, grossKg=49999),  # the same key for another weighing
        record(world, 2),
        record(world, 2),  # twice in one batch
    )
    assert [(r["status"], r["reason"]) for r in again] == [
        ("DUPLICATE", None),
        ("REJECTED", "idempotency_conflict"),
        ("ACCEPTED", None),
        ("DUPLICATE", None),
    ]
    assert again[0]["weighRecordId"] == stored["weighRecordId"]
    assert again[3]["weighRecordId"] == again[2]["weighRecordId"]
    assert await count(engine, m.WeighRecord) == 2


def _minutes_ago(minutes: float) -> str:
    return (NOW - timedelta(minutes=minutes)).isoformat()


INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({"productCode": "NO-SUCH"}, "productCode", "unknown"),
    ({"shipperUscc": uscc("150302", 77)}, "shipperUscc", "unknown"),
    ({"consigneeUscc": "91150302MA0000001X"}, "consigneeUscc", "bad_check_character"),
    ({"grossKg": 16000}, "grossKg", "gross_below_tare"),
    ({"tareKg": -20, "grossKg": 100}, "tareKg", "negative"),
    ({"grossKg": 250_000}, "grossKg", "out_of_range"),
    ({"grossAt": _minutes_ago(-30)}, "grossAt", "in_future"),
    ({"tareAt": "2000-01-01T00:00:00+08:00"}, "tareAt", "too_old"),
    ({"tareAt": "2026-11-01T08:00:00"}, "tareAt", "no_timezone"),
    ({"plate": "蒙C1000"}, "plate", "bad_format"),
    ({"plate": "蒙C12345D"}, "plate", "colour_mismatch"),
    ({"idempotencyKey": "has space"}, "idempotencyKey", "bad_format"),
    ({"ticketNo": "  "}, "ticketNo", "empty"),
    ({"siteId": str(GlobalID("Enterprise", "1"))}, "siteId", "wrong_type"),
    ({"siteId": str(GlobalID("Site", "99999"))}, "siteId", "unknown"),
    ({"siteId": "@@ not an id @@"}, "siteId", "wrong_type"),  # refuses the record, not the batch
    ({"deviceCode": "WB 1"}, "deviceCode", "bad_format"),
    ({"contractNumber": "HT-NONE"}, "contractNumber", "unknown"),
    ({"bookingId": str(GlobalID("Booking", "99999"))}, "bookingId", "unknown"),
    ({"bookingId": str(GlobalID("Site", "1"))}, "bookingId", "wrong_type"),
    ({"bookingId": "Qm9va2luZw"}, "bookingId", "wrong_type"),
    ({"unitPrice": "1650.005"}, "unitPrice", "too_precise"),
    ({"unitPrice": "-1"}, "unitPrice", "out_of_range"),
    ({"evidence": ["not", "an", "object"]}, "evidence", "bad_format"),
    ({"evidence": {"frames": "ab" * 40_000}}, "evidence", "too_large"),
]


async def test_every_field_is_checked_and_a_rejection_holds_back_nothing_else(
    hub: Hub, engine: AsyncEngine
) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    records = [record(world, n, **changes) for n, (changes, _, _) in enumerate(INVALID, 1)]
    good = record(world, 1000)
    results = await ingest_via_api(hub, *records, good)
    for result, (changes, field, reason) in zip(results, INVALID, strict=False):
        assert (result["status"], result["field"], result["reason"]) == (
            "REJECTED",
            field,
            reason,
        ), changes
        assert result["message"]
        assert result["weighRecordId"] is None
    assert results[-1]["status"] == "ACCEPTED"
    assert [r["index"] for r in results] == list(range(len(INVALID) + 1))
    assert await count(engine, m.WeighRecord) == 1


async def test_a_ticket_number_is_stored_once(hub: Hub, engine: AsyncEngine) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    results = await ingest_via_api(
        hub, record(world, 1), record(world, 2, ticketNo=record(world, 1)["ticketNo"])
    )
    assert [(r["status"], r["reason"]) for r in results] == [
        ("ACCEPTED", None),
        ("REJECTED", "ticket_no_taken"),
    ]
    later = await ingest_via_api(hub, record(world, 3, ticketNo=record(world, 1)["ticketNo"]))
    assert later[0]["reason"] == "ticket_no_taken"


async def test_an_unregistered_plate_is_kept_as_an_unregistered_vehicle(
    hub: Hub, engine: AsyncEngine
) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    results = await ingest_via_api(
        hub,
        record(world, 1, plate="蒙CA8888"),
        record(world, 2, plate="蒙CA8888"),
        record(world, 3, plate="蒙C12345D", plateColour="YELLOW_GREEN"),
    )
    assert [r["status"] for r in results] == ["ACCEPTED"] * 3
    first = await stored(hub, results[0]["weighRecordId"])
    assert first["vehicle"] == {"plate": "蒙CA8888", "status": "UNREGISTERED"}
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(m.Vehicle.plate, m.Vehicle.plate_colour).where(
                    m.Vehicle.status == m.VehicleStatus.UNREGISTERED
                )
            )
        ).all()
    assert sorted(rows) == [
        ("蒙C12345D", PlateColour.YELLOW_GREEN),
        ("蒙CA8888", PlateColour.YELLOW),
    ]


async def test_a_device_client_ingests_only_for_its_own_site(
    settings: Settings, engine: AsyncEngine
) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    ctx = context(settings, engine, device_client(world.site_ids[0]))
    outcomes = await ingest.ingest_weigh_records(
        ctx, [fields(world, 1), fields(world, 2, site_index=1)]
    )
    await ctx.finish(commit=True)
    assert [(o.status, o.reason, o.field) for o in outcomes] == [
        (IngestStatus.ACCEPTED, None, None),
        (IngestStatus.REJECTED, "forbidden_site", "siteId"),
    ]
    # the refusal does not reveal whether a site exists
    ctx = context(settings, engine, device_client(world.site_ids[0]))
    [other] = await ingest.ingest_weigh_records(ctx, [replace(fields(world, 3), site_id=99999)])
    await ctx.finish(commit=False)
    assert other.reason == "forbidden_site"
    # a device client without a site may not write anywhere
    ctx = context(settings, engine, replace(device_client(world.site_ids[0]), site_id=None))
    [nowhere] = await ingest.ingest_weigh_records(ctx, [fields(world, 4)])
    await ctx.finish(commit=False)
    assert nowhere.reason == "forbidden_site"
    assert await count(engine, m.WeighRecord) == 1


@pytest.mark.parametrize("department", ["tax", "enterprise", "district", "police"])
async def test_only_device_clients_may_ingest(
    settings: Settings, engine: AsyncEngine, department: str
) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    caller = Principal(client_id=department, department=department, clearance=Secrecy.SECRET)
    ctx = context(settings, engine, caller)
    with pytest.raises(ForbiddenError):
        await ingest.ingest_weigh_records(ctx, [fields(world)])
    with pytest.raises(ForbiddenError):
        await report_device_status(
            ctx, [DeviceStatusFields(world.site_ids[0], "WB1", m.DeviceStatus.ONLINE, "t")]
        )
    await ctx.finish(commit=False)


CLIENTS: list[tuple[str, dict[str, Any]]] = [
    ("tax", {}),
    ("police", {}),
    ("district", {"district_code": "150302"}),
    ("enterprise", {"enterprise_id": 0}),  # the first site's enterprise, filled in below
]


@pytest.mark.parametrize(("department", "options"), CLIENTS, ids=[c[0] for c in CLIENTS])
async def test_other_clients_are_refused_over_http(
    hub: Hub, engine: AsyncEngine, department: str, options: dict[str, Any]
) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    if "enterprise_id" in options:
        options = {"enterprise_id": world.enterprise_ids[0]}
    client = await hub.as_client(department, **options)
    for query, variables in (
        (INGEST, {"records": [record(world)]}),
        (REPORT, {"reports": [heartbeat(world)]}),
    ):
        body = await client.graphql(query, variables)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await count(engine, m.WeighRecord) == 0
    assert await count(engine, m.Device) == 0


async def test_a_device_client_over_http_writes_for_its_own_site(
    hub: Hub, engine: AsyncEngine
) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    bridge = await hub.as_client("device", site_id=world.site_ids[0], user_id=None, purpose=None)
    body = await bridge.graphql(
        INGEST, {"records": [record(world, 1), record(world, 2, siteId=site_gid(world, 1))]}
    )
    assert "errors" not in body, body
    results = body["data"]["ingestWeighRecords"]["results"]
    assert [(r["status"], r["reason"]) for r in results] == [
        ("ACCEPTED", None),
        ("REJECTED", "forbidden_site"),
    ]
    reports = [heartbeat(world), heartbeat(world, siteId=site_gid(world, 1))]
    body = await bridge.graphql(REPORT, {"reports": reports})
    assert "errors" not in body, body
    statuses = [r["reason"] for r in body["data"]["reportDeviceStatus"]["results"]]
    assert statuses == [None, "forbidden_site"]
    assert await count(engine, m.WeighRecord) == 1  # committed at the request boundary
    assert await count(engine, m.Device) == 1


async def test_a_batch_over_the_limit_is_refused_whole(hub: Hub, engine: AsyncEngine) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    body = await hub.graphql(INGEST, {"records": [record(world, n) for n in range(MAX_BATCH + 1)]})
    assert body["errors"][0]["extensions"]["code"] == "BATCH_TOO_LARGE"
    assert await count(engine, m.WeighRecord) == 0


async def test_a_full_batch_costs_a_fixed_number_of_statements(
    hub: Hub, engine: AsyncEngine
) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    plates = [f"蒙C{20000 + n}" for n in range(MAX_BATCH)]
    records = [record(world, n, plate=plate) for n, plate in enumerate(plates)]
    hub.counter.count = 0
    body = await hub.graphql(
        "mutation($records: [WeighRecordInput!]!) { ingestWeighRecords(records: $records) "
        "{ results { status } } }",
        {"records": records},
    )
    statuses = {r["status"] for r in body["data"]["ingestWeighRecords"]["results"]}
    assert statuses == {"ACCEPTED"}
    assert await count(engine, m.WeighRecord) == MAX_BATCH
    assert hub.counter.count <= 20  # lookups, new vehicles, one insert: not one per record


async def test_concurrent_deliveries_of_one_batch_store_it_once(
    settings: Settings, engine: AsyncEngine
) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    batch = [replace(fields(world, n), plate=f"蒙C3{n:04d}") for n in range(20)]

    async def deliver() -> list[IngestOutcome]:
        ctx = context(settings, engine, DEVELOPER)
        try:
            return await ingest.ingest_weigh_records(ctx, batch)
        finally:
            await ctx.finish(commit=True)

    deliveries = await asyncio.gather(*(deliver() for _ in range(4)))
    for n in range(20):
        statuses = sorted(delivery[n].status for delivery in deliveries)
        assert statuses == [IngestStatus.ACCEPTED] + [IngestStatus.DUPLICATE] * 3
        assert len({delivery[n].row_id for delivery in deliveries}) == 1
    assert await count(engine, m.WeighRecord) == 20


def heartbeat(world: World, **changes: Any) -> dict[str, Any]:
    return {
        "siteId": site_gid(world),
        "deviceCode": "WB1",
        "status": "ONLINE",
        "protocol": "modbus_tcp",
        "model": "Flintec FT-112",
        "reportedAt": NOW.isoformat(),
        "state": {"readings": 1200, "timeouts": 2, "lastWeightKg": 32600},
        **changes,
    }


async def test_heartbeats_keep_device_and_site_last_seen(hub: Hub, engine: AsyncEngine) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    first = await hub.data(REPORT, {"reports": [heartbeat(world)]})
    [result] = first["reportDeviceStatus"]["results"]
    assert result["status"] == "ACCEPTED"
    device = await stored(hub, result["deviceId"])
    assert (device["code"], device["status"], device["protocol"]) == ("WB1", "ONLINE", "modbus_tcp")
    assert device["lastState"]["lastWeightKg"] == 32600
    assert device["lastState"]["reportedAt"].startswith(NOW.date().isoformat())
    second = await hub.data(
        REPORT,
        {
            "reports": [
                heartbeat(world, status="OFFLINE", model=None, state={"disconnects": 1}),
                heartbeat(world, deviceCode="CAM-IN", kind="CAMERA", protocol="hikvision"),
                heartbeat(world, siteId=str(GlobalID("Site", "99999"))),
                heartbeat(world, deviceCode=""),
            ]
        },
    )
    results = second["reportDeviceStatus"]["results"]
    assert [(r["status"], r["reason"]) for r in results] == [
        ("ACCEPTED", None),
        ("ACCEPTED", None),
        ("REJECTED", "unknown"),
        ("REJECTED", "bad_format"),
    ]
    async with engine.connect() as connection:
        devices = {d.code: d for d in (await connection.execute(select(m.Device))).mappings()}
        site = (
            await connection.execute(select(m.Site).where(m.Site.id == world.site_ids[0]))
        ).one()
        others = (
            await connection.execute(
                select(func.count()).where(
                    m.Site.last_seen_at.is_not(None), m.Site.id != world.site_ids[0]
                )
            )
        ).scalar_one()
    assert devices["WB1"]["status"] == m.DeviceStatus.OFFLINE
    assert devices["WB1"]["model"] == "Flintec FT-112"  # kept when not reported
    assert devices["CAM-IN"]["kind"] == m.DeviceKind.CAMERA
    assert devices["WB1"]["last_heartbeat_at"] is not None
    assert site.last_seen_at == devices["WB1"]["last_heartbeat_at"]
    assert others == 0


async def test_a_device_client_reports_only_for_its_own_site(
    settings: Settings, engine: AsyncEngine
) -> None:
    world = await seed_world(engine, weighings_per_site=0)
    ctx = context(settings, engine, device_client(world.site_ids[0]))
    reports = [
        DeviceStatusFields(world.site_ids[0], "WB1", m.DeviceStatus.ONLINE, "toledo"),
        DeviceStatusFields(world.site_ids[1], "WB1", m.DeviceStatus.ONLINE, "toledo"),
    ]
    outcomes = await report_device_status(ctx, reports)
    await ctx.finish(commit=True)
    assert [o.reason for o in outcomes] == [None, "forbidden_site"]
    assert await count(engine, m.Device) == 1
