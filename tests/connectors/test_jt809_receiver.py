"""The JT/T 809 receiver on a real loopback socket; the test plays the superior platform."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from connectors import jt808, jt809
from connectors.base import ConnectorContext
from connectors.jt809_receiver import JT809Receiver, JT809ReceiverConfig, cut_frames
from tests.connectors.conftest import RECENT, count, dead_letters, reasons, running, until
from tests.factories import seed_world

NAME = "national809"
USER, PASSWORD, CENTRE = 20001, "pass809", 150300


def position(minute: int, **changes: Any) -> jt809.Position2011:
    fields: dict[str, Any] = {
        "encrypted": False,
        "time": RECENT + timedelta(minutes=minute),
        "latitude": 39.5 + minute / 10_000,
        "longitude": 106.7,
        "speed_kmh": 55,
        "recorder_speed_kmh": 54,
        "mileage_km": 120_000,
        "direction": 180,
        "altitude_m": 1080,
        "state": 0b10 | (0b01 << 8),  # positioned, half loaded
        "alarm": 0,
    }
    return jt809.Position2011(**(fields | changes))


class Superior:
    """The provincial platform: logs in and pushes vehicle locations."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        edition: jt809.Edition,
    ) -> None:
        self.reader, self.writer, self.edition = reader, writer, edition
        self.sn = 0
        self._buffer = b""

    @classmethod
    async def connect(
        cls, ctx: ConnectorContext, edition: jt809.Edition = jt809.Edition.V2011
    ) -> Superior:
        host, port = ctx.bound["address"]
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, edition)

    def frame(self, msg_id: int, body: bytes) -> bytes:
        self.sn += 1
        sent_at = datetime.now(UTC) if self.edition is jt809.Edition.V2019 else None
        header = jt809.Header(msg_id=msg_id, centre_id=CENTRE, sn=self.sn, sent_at=sent_at)
        return jt809.encode_frame(header, body)

    def location(
        self, plate: str, *positions: jt809.Position, colour: int = 2, msg_id: int = 0x1200
    ) -> bytes:
        batch = len(positions) > 1
        up = msg_id == jt809.MsgId.UP_EXCHANGE
        data_type = (0x1203 if batch else 0x1202) if up else (0x9203 if batch else 0x9202)
        data = jt809.encode_positions(positions, batch=batch)
        exchange = jt809.VehicleExchange(plate, colour, data_type, data)
        return self.frame(msg_id, jt809.encode_vehicle_exchange(exchange))

    async def send(self, *frames: bytes) -> None:
        self.writer.write(b"".join(frames))
        await self.writer.drain()

    async def replies(self, n: int) -> list[tuple[jt809.Header, jt809.Message]]:
        out: list[tuple[jt809.Header, jt809.Message]] = []
        while len(out) < n:
            frames, self._buffer, _ = jt809.split_frames(self._buffer, self.edition)
            for raw in frames:
                frame = jt809.decode_frame(raw, self.edition)
                out.append((frame.header, jt809.decode_body(frame, self.edition)))
            if len(out) < n:
                data = await asyncio.wait_for(self.reader.read(65536), 10)
                assert data, "the receiver closed the connection"
                self._buffer += data
        return out

    async def login(self, password: str = PASSWORD) -> int:
        request = jt809.LoginRequest(USER, password, "10.0.0.1", 9000, CENTRE)
        body = jt809.encode_login_request(request, self.edition)
        await self.send(self.frame(jt809.MsgId.LOGIN_REQUEST, body))
        [(_, response)] = await self.replies(1)
        assert isinstance(response, jt809.LoginResponse)
        return response.result

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def config(**changes: Any) -> JT809ReceiverConfig:
    values: dict[str, Any] = {
        "users": {USER: PASSWORD},
        "host": "127.0.0.1",
        "port": 0,
        "centre_id": CENTRE,
        "idle_timeout": 5,
    }
    return JT809ReceiverConfig(**(values | changes))


@pytest.fixture
async def receiver(engine: AsyncEngine) -> AsyncIterator[ConnectorContext]:
    async with running(JT809Receiver(NAME, config()), engine) as ctx:
        yield ctx


async def stored_times(engine: AsyncEngine, plate: str) -> list[datetime]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(m.TrajectoryPoint.recorded_at)
            .join(m.Vehicle, m.Vehicle.id == m.TrajectoryPoint.vehicle_id)
            .where(m.Vehicle.plate == plate)
            .order_by(m.TrajectoryPoint.recorded_at)
        )
        return list(rows.scalars())


async def test_login_heartbeat_and_locations(
    engine: AsyncEngine, receiver: ConnectorContext
) -> None:
    world = await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    superior = await Superior.connect(receiver)
    assert await superior.login() == 0
    await superior.send(superior.frame(jt809.MsgId.LINK_TEST, b""))
    [(_, pong)] = await superior.replies(1)
    assert pong == jt809.LinkTest(response=True)
    await superior.send(
        superior.location("蒙C10002", position(0)),
        superior.location("蒙C10002", position(2), position(1), position(0)),  # 0x1203 batch
        superior.location("蒙C10002", position(3), msg_id=0x9200),
        superior.location("宁A88888", position(0), colour=2),  # not on the platform
    )
    await until(lambda: _points(engine, 30 + 5))  # seed_world has 30
    assert await stored_times(engine, "蒙C10002") == [
        RECENT + timedelta(minutes=k) for k in range(4)
    ]
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(m.Vehicle.id, m.Vehicle.status).where(
                m.Vehicle.plate.in_(["蒙C10002", "宁A88888"])
            )
        )
        status: dict[int, str] = {row[0]: row[1] for row in rows}
        point = (
            await connection.execute(
                select(m.TrajectoryPoint.__table__).where(
                    m.TrajectoryPoint.vehicle_id == world.vehicle_ids[2]
                )
            )
        ).first()
    assert status.pop(world.vehicle_ids[2]) == m.VehicleStatus.REGISTERED
    assert list(status.values()) == [m.VehicleStatus.UNREGISTERED]
    assert point is not None
    assert point.speed_kmh == 55.0
    assert point.load_state == m.LoadState.HALF
    assert point.source == m.PositionSource.JT809
    assert receiver.stats.duplicates == 1
    await superior.close()


async def test_a_wrong_password_is_refused_and_the_link_closed(
    engine: AsyncEngine, receiver: ConnectorContext
) -> None:
    superior = await Superior.connect(receiver)
    assert await superior.login("wrong") == 4
    assert await asyncio.wait_for(superior.reader.read(100), 5) == b""
    # locations before a login are not stored
    again = await Superior.connect(receiver)
    await again.send(again.location("蒙C40000", position(0)))
    await until(lambda: _reason(engine, "unauthenticated"))
    assert await count(engine, m.TrajectoryPoint) == 0
    await again.close()
    await superior.close()


async def test_2019_locations_embed_a_jt808_body(engine: AsyncEngine) -> None:
    receiver = JT809Receiver(NAME, config(edition=jt809.Edition.V2019))
    async with running(receiver, engine) as ctx:
        superior = await Superior.connect(ctx, jt809.Edition.V2019)
        assert await superior.login() == 0
        location = jt808.Location(0, 0b10, 39.7, 106.8, 1090, 33.3, 45, RECENT)
        alarms = (jt809.PlatformAlarm("", 0),) * 3
        embedded = jt809.Position2019(False, location, (alarms[0], alarms[1], alarms[2]))
        await superior.send(superior.location("蒙C50000", embedded, colour=93))
        await until(lambda: _points(engine, 1))
        assert await stored_times(engine, "蒙C50000") == [RECENT]
        await superior.close()


def impossible(superior: Superior, minute: int) -> bytes:
    data = bytearray(jt809.encode_positions((position(minute),), batch=False))
    data[12:16] = (95_000_000).to_bytes(4, "big")  # latitude 95°
    exchange = jt809.VehicleExchange("蒙C60000", 2, 0x1202, bytes(data))
    return superior.frame(0x1200, jt809.encode_vehicle_exchange(exchange))


def truncated(superior: Superior, minute: int) -> bytes:
    data = jt809.encode_positions((position(minute),), batch=False)[:20]
    exchange = jt809.VehicleExchange("蒙C60000", 2, 0x1202, data)
    return superior.frame(0x1200, jt809.encode_vehicle_exchange(exchange))


def corrupt(frame: bytes, kind: str) -> bytes:
    content = jt809.unescape(frame[1:-1])
    if kind == "bad_checksum":
        return jt809.HEAD + jt809.escape(content[:-1] + bytes([content[-1] ^ 0x55])) + jt809.TAIL
    assert kind == "bad_escape"
    return frame[:-3] + b"\x5a\x07" + frame[-3:]


async def test_faults_every_good_position_once_every_bad_frame_dead_lettered(
    engine: AsyncEngine, receiver: ConnectorContext
) -> None:
    rng = random.Random(809)
    superior = await Superior.connect(receiver)
    assert await superior.login() == 0
    kinds = ["bad_checksum", "bad_escape", "impossible_coordinates", "truncated"]
    bad = sorted(rng.sample(range(300), 15))
    expected: dict[str, int] = {}
    frames: list[bytes] = []
    for minute in range(300):
        if minute in bad:
            kind = kinds[bad.index(minute) % 4]
            expected[kind] = expected.get(kind, 0) + 1
            if kind == "impossible_coordinates":
                frames.append(impossible(superior, minute))
            elif kind == "truncated":
                frames.append(truncated(superior, minute))
            else:
                frames.append(corrupt(superior.location("蒙C60000", position(minute)), kind))
        else:
            frames.append(superior.location("蒙C60000", position(minute)))
    stream = b"".join(frames[:200])
    position_ = 0
    while position_ < len(stream):
        step = rng.randint(1, 900)
        await superior.send(stream[position_ : position_ + step])
        position_ += step
    await superior.send(frames[200][:30])  # the link drops in the middle of a frame
    await superior.close()
    await until(lambda: _reason(engine, "truncated", detail="connection closed mid-frame"))
    # the platform comes back, logs in again, and sends the rest
    again = await Superior.connect(receiver)
    assert await again.login() == 0
    await again.send(*frames[200:])
    good = [k for k in range(300) if k not in bad]
    await until(lambda: _points(engine, len(good)))
    assert await stored_times(engine, "蒙C60000") == [RECENT + timedelta(minutes=k) for k in good]
    counts = await reasons(engine, NAME)
    assert counts.pop("truncated") == expected.pop("truncated") + 1
    assert counts == expected
    await again.close()


def test_cut_frames_ends_a_broken_frame_at_the_next_head() -> None:
    header = jt809.Header(msg_id=0x1005, centre_id=1, sn=1)
    good = jt809.encode_frame(header, b"")
    frames, rest, garbage = cut_frames(good[:-1] + good + b"xx" + good[:4], jt809.Edition.V2011)
    assert [isinstance(d, jt809.Frame) for _, d in frames] == [False, True]
    assert rest == good[:4]
    assert garbage == b"xx"


async def _points(engine: AsyncEngine, n: int) -> bool:
    return await count(engine, m.TrajectoryPoint) >= n


async def _reason(engine: AsyncEngine, reason: str, detail: str | None = None) -> bool:
    return any(
        letter.reason == reason and (detail is None or letter.detail == detail)
        for letter in await dead_letters(engine, NAME)
    )
