"""HTTP pull of the transport registry and positions from a real HTTP server."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from coalhub.identifiers import PlateColour
from connectors.http_pull import PullSource
from connectors.store import reset_checkpoint
from connectors.transport_http import TransportPositionsHttp, TransportVehiclesHttp
from tests.connectors.api_server import ApiServer, Feed
from tests.connectors.conftest import RECENT, count, reasons, running, until
from tests.factories import seed_world


async def vehicles(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(m.Vehicle.__table__).order_by(m.Vehicle.id))
        return {row.plate: row for row in rows}


async def test_the_registry_enriches_vehicles_and_a_replay_changes_nothing(
    engine: AsyncEngine,
) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    items: list[Any] = [
        {
            "plate": "蒙C10000",
            "plate_colour": 2,
            "transport_certificate": "150303000001",
            "axles": 6,
            "rated_payload_kg": 31000,
            "energy_type": None,  # null keeps the platform's value
        },
        {"plate": "蒙C 77777", "plate_colour": "黄色", "axles": 5, "energy_type": "lng"},
        {"plate": "蒙C88888", "plate_colour": "purple"},
        {"plate": "蒙C99999", "plate_colour": 2, "axles": 40},
        "not an object",
    ]
    feed = Feed(items)
    async with ApiServer({"vehicles": feed}) as server:
        connector = TransportVehiclesHttp(
            "registry", PullSource(server.url("vehicles"), {"X-Api-Key": "k"}, page_size=2)
        )
        async with running(connector, engine) as ctx:
            pass
        assert feed.seen_headers[0]["x-api-key"] == "k"
        assert ctx.stats.stored == 2
        before = await vehicles(engine)
        known = before["蒙C10000"]
        assert known.status == m.VehicleStatus.REGISTERED
        assert known.transport_certificate == "150303000001"
        assert known.axles == 6
        assert known.energy_type == m.EnergyType.DIESEL
        new = before["蒙C77777"]
        assert new.status == m.VehicleStatus.UNREGISTERED
        assert new.plate_colour == PlateColour.YELLOW
        assert new.energy_type == m.EnergyType.LNG
        assert await reasons(engine, "registry") == {
            "bad_colour": 1,
            "bad_field": 1,
            "bad_record": 1,
        }
        # the whole feed again from the start: nothing changes, nothing is dead-lettered twice
        async with engine.begin() as connection:
            await reset_checkpoint(connection, "registry")
        connector = TransportVehiclesHttp("registry", PullSource(server.url("vehicles")))
        async with running(connector, engine) as again:
            pass
        assert again.stats.stored == 0
        assert await vehicles(engine) == before
        assert sum((await reasons(engine, "registry")).values()) == 3


def position_items(rng: random.Random, n: int) -> tuple[list[Any], set[int], dict[str, int]]:
    items: list[Any] = []
    bad: dict[str, int] = {}
    good: set[int] = set()
    for k in rng.sample(range(n), n):  # any order
        item: dict[str, Any] = {
            "plate": "蒙C10003" if k % 2 else "蒙C55555",
            "plate_colour": 2,
            "time": (RECENT + timedelta(minutes=k)).astimezone().isoformat(),
            "latitude": 39.6,
            "longitude": 106.8 + k / 100_000,
            "speed_kmh": 50.5,
            "heading": 10,
        }
        fault = rng.random()
        if fault < 0.0125:
            item["latitude"], kind = 95.0, "impossible_coordinates"
        elif fault < 0.025:
            item["time"], kind = "yesterday", "bad_time"
        elif fault < 0.0375:
            del item["longitude"]
            kind = "missing_field"
        elif fault < 0.05:
            item["plate"], kind = "", "missing_field"
        else:
            good.add(k)
            items.append(item)
            if rng.random() < 0.05:
                items.append(dict(item))  # the same report twice
            continue
        bad[kind] = bad.get(kind, 0) + 1
        items.append(item)
    return items, good, bad


async def test_positions_survive_outages_exactly_once(engine: AsyncEngine) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    items, good, bad = position_items(random.Random(7), 600)
    feed = Feed(items, fail_next=0)
    server = ApiServer({"positions": feed})
    await server.start()
    connector = TransportPositionsHttp(
        "positions", PullSource(server.url("positions"), page_size=37)
    )
    try:
        async with running(connector, engine) as ctx:
            # mid-run: 503s, a page cut in half, then the server goes away and comes back
            await until(lambda: feed.requests >= 4)
            feed.fail_next, feed.cut_next = 3, 1
            await until(lambda: not (feed.fail_next or feed.cut_next))
            await server.stop()
            await asyncio.sleep(0.3)
            await server.start()
    finally:
        await server.stop()
    assert ctx.stats.errors >= 5
    assert await count(
        engine, m.TrajectoryPoint, m.TrajectoryPoint.source == m.PositionSource.HTTP
    ) == len(good)
    assert await reasons(engine, "positions") == bad
    assert ctx.stats.duplicates == len(items) - len(good) - sum(bad.values())
