"""Police checkpoints: camera pushes over HTTP and batches pulled from a police API."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from coalhub import models as m
from coalhub.identifiers import PlateColour
from connectors.base import ConnectorStats
from connectors.http_pull import PullSource
from connectors.police import CheckpointRegistry, CheckpointSite, PolicePull
from connectors.police_push import PolicePush, PolicePushConfig
from tests.connectors.api_server import ApiServer, Feed
from tests.connectors.conftest import RECENT, count, reasons, running
from tests.factories import seed_districts, seed_world
from tests.test_anpr import dahua_data, hikvision_xml, multipart, vzenith_json

SITES = {
    "KK-G6-01": CheckpointSite(
        "KK-G6-01",
        "G6 京藏高速乌海北收费站",
        39.86,
        106.83,
        on_city_boundary=True,
        district="150302",
        inbound=frozenset({"forward"}),
        outbound=frozenset({"reverse"}),
    ),
    "KK-110-07": CheckpointSite("KK-110-07", "110国道海南段", 39.44, 106.88, district="150303"),
}


async def passes(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(m.CheckpointPass.__table__).order_by(m.CheckpointPass.id)
        )
        return list(rows)


class Camera:
    def __init__(self, client: httpx.AsyncClient, stats: ConnectorStats) -> None:
        self.client = client
        self.stats = stats

    async def push(
        self, checkpoint: str, vendor: str, body: bytes | str, content_type: str
    ) -> httpx.Response:
        return await self.client.post(
            f"/connectors/police/{checkpoint}/{vendor}",
            content=body,
            headers={"content-type": content_type},
        )


@pytest.fixture
async def camera(engine: AsyncEngine) -> AsyncIterator[Camera]:
    push = PolicePush(
        "police", PolicePushConfig(max_body_bytes=100_000), CheckpointRegistry(dict(SITES))
    )
    stats = ConnectorStats()
    app = Starlette(routes=push.routes(engine, stats))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        yield Camera(client, stats)


async def test_pushed_captures_are_stored_once_with_their_checkpoint(
    engine: AsyncEngine, camera: Camera
) -> None:
    world = await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    picture = b"\xff\xd8\xff jpeg bytes"
    body = multipart(
        [
            ("anpr.xml", "application/xml", hikvision_xml("蒙C 12345").encode()),
            ("licensePlatePicture.jpg", "image/jpeg", picture),
        ]
    )
    content_type = "multipart/form-data; boundary=boundary"
    first = await camera.push("KK-G6-01", "hikvision", body, content_type)
    assert first.status_code == 200
    assert first.json() == {"result": "stored"}
    again = await camera.push("KK-G6-01", "hikvision", body, content_type)  # camera retries
    assert again.json() == {"result": "duplicate"}
    dahua = json.dumps(dahua_data(TrafficCar={"PlateNumber": "蒙C10000", "PlateColor": "Yellow"}))
    assert (await camera.push("KK-110-07", "dahua", dahua, "application/json")).status_code == 200
    vzenith = vzenith_json("蒙C54321", colorType=0)  # colour unknown
    assert (
        await camera.push("KK-110-07", "vzenith", vzenith, "application/json")
    ).status_code == 200

    hik, dh, vz = await passes(engine)
    assert hik.plate == "蒙C12345"
    assert hik.plate_colour == PlateColour.YELLOW
    assert hik.direction == m.PassDirection.INBOUND  # "forward" here means entering the city
    assert hik.lane == 2
    assert hik.image_sha256 == hashlib.sha256(picture).hexdigest()
    assert dh.vehicle_id == world.vehicle_ids[0]
    assert dh.direction == m.PassDirection.UNKNOWN
    assert vz.plate_colour is None
    assert vz.vehicle_id is None  # no colour and no vehicle with that plate: not guessed
    async with engine.connect() as connection:
        new = (
            await connection.execute(select(m.Vehicle.status).where(m.Vehicle.id == hik.vehicle_id))
        ).scalar_one()
        checkpoints = {
            row.code: row for row in await connection.execute(select(m.Checkpoint.__table__))
        }
    assert new == m.VehicleStatus.UNREGISTERED
    boundary = checkpoints["KK-G6-01"]
    assert boundary.on_city_boundary is True
    assert boundary.district_id == world.district_ids["150302"]
    assert checkpoints["KK-110-07"].on_city_boundary is False
    assert camera.stats.stored == 3
    assert camera.stats.duplicates == 1


async def test_unreadable_and_unwanted_pushes(engine: AsyncEngine, camera: Camera) -> None:
    await seed_districts(engine)
    xml = "application/xml"
    assert (await camera.push("KK-G6-01", "hikvision", "<oops", xml)).status_code == 400
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><EventNotificationAlert/>'
    assert (await camera.push("KK-G6-01", "hikvision", hostile, xml)).status_code == 400
    unread = hikvision_xml("无车牌")
    assert (await camera.push("KK-G6-01", "hikvision", unread, xml)).status_code == 400
    assert (await camera.push("KK-NOPE", "hikvision", unread, xml)).status_code == 404
    assert (await camera.push("KK-G6-01", "acme", unread, xml)).status_code == 404
    huge = b"x" * 200_000
    assert (await camera.push("KK-G6-01", "hikvision", huge, xml)).status_code == 413
    assert await reasons(engine, "police") == {"bad_xml": 1, "forbidden_dtd": 1, "plate_unread": 1}
    assert await count(engine, m.CheckpointPass) == 0


async def test_senders_off_the_allowlist_are_refused(engine: AsyncEngine) -> None:
    config = PolicePushConfig(allow_from=(ipaddress.ip_network("10.15.0.0/16"),))
    push = PolicePush("police", config, CheckpointRegistry(dict(SITES)))
    app = Starlette(routes=push.routes(engine, ConnectorStats()))
    for client, status in ((("10.15.3.21", 1), 200), (("10.16.0.1", 1), 403)):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
            response = await http.post(
                "/connectors/police/KK-G6-01/vzenith", content=vzenith_json()
            )
            assert response.status_code == status


async def test_pulled_batches_exactly_once_through_an_outage(engine: AsyncEngine) -> None:
    await seed_districts(engine)
    rng = random.Random(110)
    items: list[Any] = []
    good = 0
    for k in range(300):
        item: dict[str, Any] = {
            "id": k,
            "checkpoint": rng.choice(list(SITES)),
            "plate": f"蒙C{20000 + k % 40}",
            "plate_colour": "yellow",
            "direction": rng.choice(["forward", "reverse", None]),
            "lane": rng.randint(1, 4),
            "time": (RECENT + timedelta(seconds=k)).isoformat(),
        }
        if k % 20 == 7:
            item["checkpoint"] = "KK-UNKNOWN"
        elif k % 20 == 13:
            item["time"] = "soon"
        else:
            good += 1
        items.append(item)
    feed = Feed(items + items[:50])  # the API repeats itself
    async with ApiServer({"captures": feed}) as server:
        registry = CheckpointRegistry(dict(SITES))
        pull = PolicePull("police-api", PullSource(server.url("captures"), page_size=64), registry)
        feed.fail_next = 2
        async with running(pull, engine) as ctx:
            pass
        assert ctx.stats.errors == 2
        # a second run finds nothing new after the cursor; a full replay changes nothing
        again = PolicePull("police-api", PullSource(server.url("captures"), page_size=64), registry)
        async with running(again, engine):
            pass
    assert await count(engine, m.CheckpointPass) == good
    assert await reasons(engine, "police-api") == {"unknown_checkpoint": 15, "bad_time": 15}
    directions = {row.direction for row in await passes(engine) if row.checkpoint_id}
    assert directions == {
        m.PassDirection.INBOUND,
        m.PassDirection.OUTBOUND,
        m.PassDirection.UNKNOWN,
    }
