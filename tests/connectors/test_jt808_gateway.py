"""The JT/T 808 gateway on a real loopback socket; the test plays the truck terminals."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from coalhub.identifiers import PlateColour
from connectors import jt808
from connectors.base import ConnectorContext
from connectors.jt808_gateway import JT808Gateway, JT808GatewayConfig, cut_frames
from tests.connectors.conftest import RECENT, count, dead_letters, reasons, running, until
from tests.factories import seed_world

NAME = "gateway808"


def location(minute: int, **changes: Any) -> jt808.Location:
    fields: dict[str, Any] = {
        "alarm": 0,
        "status": 0b10 | (0b11 << 8),  # positioned, full
        "latitude": 39.6 + minute / 10_000,
        "longitude": 106.8,
        "altitude_m": 1100,
        "speed_kmh": 42.5,
        "direction": 90,
        "time": RECENT + timedelta(minutes=minute),
        "extras": (jt808.Extra(0x01, (1234).to_bytes(4, "big")), jt808.Extra(0x2B, b"\x00" * 4)),
    }
    return jt808.Location(**(fields | changes))


class Terminal:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        phone: str,
        version: int | None,
    ) -> None:
        self.reader, self.writer, self.phone, self.version = reader, writer, phone, version
        self.seq = 0
        self._buffer = b""

    @classmethod
    async def connect(
        cls, ctx: ConnectorContext, phone: str, version: int | None = None
    ) -> Terminal:
        host, port = ctx.bound["address"]
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, phone, version)

    def frame(self, msg_id: int, body: bytes) -> bytes:
        self.seq += 1
        header = jt808.Header(msg_id, self.phone, self.seq, protocol_version=self.version)
        return jt808.encode_frame(header, body)

    def location_frame(self, loc: jt808.Location) -> bytes:
        return self.frame(jt808.MsgId.LOCATION, jt808.encode_location(loc))

    async def send(self, *frames: bytes) -> None:
        self.writer.write(b"".join(frames))
        await self.writer.drain()

    async def replies(self, n: int) -> list[tuple[jt808.Header, jt808.Message]]:
        out: list[tuple[jt808.Header, jt808.Message]] = []
        while len(out) < n:
            frames, self._buffer, _ = jt808.split_frames(self._buffer)
            for raw in frames:
                frame = jt808.decode_frame(raw)
                out.append((frame.header, jt808.decode_body(frame)))
            if len(out) < n:
                data = await asyncio.wait_for(self.reader.read(65536), 10)
                assert data, "the gateway closed the connection"
                self._buffer += data
        return out

    async def register(self, plate: str, colour: int = 2) -> jt808.RegistrationReply:
        registration = jt808.Registration(15, 300, "70111", "GT-1", "T0001", colour, plate)
        body = jt808.encode_registration(registration, self.version is not None)
        await self.send(self.frame(jt808.MsgId.REGISTRATION, body))
        [(_, reply)] = await self.replies(1)
        assert isinstance(reply, jt808.RegistrationReply)
        return reply

    async def authenticate(self, token: str) -> int:
        auth = jt808.Authentication(token, "123456789012345", "1.0")
        body = jt808.encode_authentication(auth, self.version is not None)
        await self.send(self.frame(jt808.MsgId.AUTHENTICATION, body))
        [(_, reply)] = await self.replies(1)
        assert isinstance(reply, jt808.GeneralReply)
        return reply.result

    async def login(self, plate: str, colour: int = 2) -> None:
        reply = await self.register(plate, colour)
        assert reply.result == 0
        assert reply.token
        assert await self.authenticate(reply.token) == 0

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture
async def gateway(engine: AsyncEngine) -> AsyncIterator[ConnectorContext]:
    config = JT808GatewayConfig(host="127.0.0.1", port=0, idle_timeout=5)
    async with running(JT808Gateway(NAME, config), engine) as ctx:
        yield ctx


async def points(engine: AsyncEngine, plate: str) -> list[m.TrajectoryPoint]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(m.TrajectoryPoint.__table__)
            .join(m.Vehicle, m.Vehicle.id == m.TrajectoryPoint.vehicle_id)
            .where(m.Vehicle.plate == plate)
            .order_by(m.TrajectoryPoint.recorded_at)
        )
        return [m.TrajectoryPoint(**row._mapping) for row in rows]


async def test_a_terminal_registers_authenticates_and_reports(
    engine: AsyncEngine, gateway: ConnectorContext
) -> None:
    world = await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    terminal = await Terminal.connect(gateway, "013912345678")
    await terminal.login("蒙C10001")
    await terminal.send(
        terminal.frame(jt808.MsgId.HEARTBEAT, b""),
        terminal.location_frame(location(2)),
        terminal.location_frame(location(1)),  # out of order is fine
        terminal.location_frame(location(2)),  # a duplicate stores nothing
    )
    replies = await terminal.replies(4)
    assert [r.result for _, r in replies if isinstance(r, jt808.GeneralReply)] == [0, 0, 0, 0]
    stored = await points(engine, "蒙C10001")
    assert [p.recorded_at for p in stored] == [RECENT + timedelta(minutes=k) for k in (1, 2)]
    assert {p.vehicle_id for p in stored} == {world.vehicle_ids[1]}  # the registered truck
    assert stored[0].load_state is m.LoadState.FULL
    assert stored[0].source is m.PositionSource.JT808
    assert stored[0].speed_kmh == 42.5
    assert stored[0].altitude_m == 1100
    assert gateway.stats.stored == 2
    assert gateway.stats.duplicates == 1
    await terminal.close()


async def test_an_unknown_plate_becomes_an_unregistered_vehicle(
    engine: AsyncEngine, gateway: ConnectorContext
) -> None:
    terminal = await Terminal.connect(gateway, "13800001111", version=1)  # a 2019 terminal
    await terminal.login("蒙C99999", colour=93)
    batch = jt808.LocationBatch(1, tuple(location(k) for k in range(5)))
    await terminal.send(
        terminal.frame(jt808.MsgId.LOCATION_BATCH, jt808.encode_location_batch(batch))
    )
    [(header, reply)] = await terminal.replies(1)
    assert header.protocol_version == 1
    assert isinstance(reply, jt808.GeneralReply)
    assert reply.result == 0
    async with engine.connect() as connection:
        vehicle = (
            await connection.execute(
                select(m.Vehicle.__table__).where(m.Vehicle.plate == "蒙C99999")
            )
        ).one()
    assert vehicle.status == m.VehicleStatus.UNREGISTERED
    assert vehicle.plate_colour == PlateColour.YELLOW_GREEN
    assert len(await points(engine, "蒙C99999")) == 5
    await terminal.close()


async def test_positions_need_authentication(
    engine: AsyncEngine, gateway: ConnectorContext
) -> None:
    terminal = await Terminal.connect(gateway, "013900000001")
    reply = await terminal.register("蒙C12345")
    assert reply.result == 0
    assert await terminal.authenticate("not-the-token") == 1
    await terminal.send(terminal.location_frame(location(0)))
    [(_, answer)] = await terminal.replies(1)
    assert isinstance(answer, jt808.GeneralReply)
    assert answer.result == 1
    assert await count(engine, m.TrajectoryPoint) == 0
    assert await reasons(engine, NAME) == {"unauthenticated": 1}
    # an unplated vehicle (colour 0: the plate field holds the VIN) is refused
    unplated = await terminal.register("LZZ5CLSB5HA123456", colour=0)
    assert unplated.result == 2
    await terminal.close()


async def test_a_terminal_authenticates_again_after_reconnecting(
    engine: AsyncEngine, gateway: ConnectorContext
) -> None:
    first = await Terminal.connect(gateway, "013900000002")
    reply = await first.register("蒙C22222")
    assert reply.token is not None
    await first.close()
    second = await Terminal.connect(gateway, "013900000002")
    assert await second.authenticate(reply.token) == 0
    await second.send(second.location_frame(location(3)))
    await second.replies(1)
    assert len(await points(engine, "蒙C22222")) == 1
    await second.close()


def corrupt(frame: bytes, kind: str) -> bytes:
    if kind == "bad_checksum":
        content = jt808.unescape(frame[1:-1])
        return jt808.FLAG + jt808.escape(content[:-1] + bytes([content[-1] ^ 0xFF])) + jt808.FLAG
    if kind == "bad_escape":
        return frame[:-2] + b"\x7d\x03" + frame[-2:]
    raise AssertionError(kind)


def impossible(terminal: Terminal, minute: int) -> bytes:
    body = bytearray(jt808.encode_location(location(minute)))
    body[8:12] = (95_000_000).to_bytes(4, "big")  # latitude 95°
    return terminal.frame(jt808.MsgId.LOCATION, bytes(body))


def truncated(terminal: Terminal, minute: int) -> bytes:
    body = jt808.encode_location(location(minute))[:20]
    return terminal.frame(jt808.MsgId.LOCATION, body)


async def test_faults_every_good_position_once_every_bad_frame_dead_lettered(
    engine: AsyncEngine, gateway: ConnectorContext
) -> None:
    """200 reports with 5% malformed, sent in random chunks; the terminal drops the link
    mid-frame, reconnects and re-sends everything it had no acknowledgement for."""
    rng = random.Random(808)
    terminal = await Terminal.connect(gateway, "013912340000")
    await terminal.login("蒙C30000")
    kinds = ["bad_checksum", "bad_escape", "impossible_coordinates", "truncated"]
    bad_minutes = set(rng.sample(range(200), 10))
    expected: dict[str, int] = {}
    stream = b""
    for minute in range(200):
        good = terminal.location_frame(location(minute))
        if minute in bad_minutes:
            kind = kinds[len(expected) % 4] if len(expected) < 4 else rng.choice(kinds)
            expected[kind] = expected.get(kind, 0) + 1
            if kind == "impossible_coordinates":
                stream += impossible(terminal, minute)
            elif kind == "truncated":
                stream += truncated(terminal, minute)
            else:
                stream += corrupt(good, kind)
        else:
            stream += good
    cut = len(stream) * 2 // 3
    while stream[cut : cut + 1] != jt808.FLAG:
        cut += 1
    first, second = stream[:cut], stream[cut:]
    # first part in random chunk sizes, then half a frame and the link drops
    position = 0
    while position < len(first):
        step = rng.randint(1, 700)
        await terminal.send(first[position : position + step])
        position += step
    half_frame = second[: len(second) // 50 or 10]
    await terminal.send(half_frame)
    await terminal.close()
    await until(lambda: _dropped_mid_frame(engine))
    # back again: the terminal re-sends from where acknowledgements stopped (here: all of
    # the second part, and, to be sure, the last 20 frames of the first part again)
    again = await Terminal.connect(gateway, "013912340000")
    token = (await again.register("蒙C30000")).token
    assert token is not None
    assert await again.authenticate(token) == 0
    replay = b"".join(jt808.split_frames(first)[0][-20:])
    await again.send(replay + second)
    good_minutes = [k for k in range(200) if k not in bad_minutes]
    await until(lambda: _stored(engine, len(good_minutes)))
    stored = await points(engine, "蒙C30000")
    assert [p.recorded_at for p in stored] == [RECENT + timedelta(minutes=k) for k in good_minutes]
    counts = await reasons(engine, NAME)
    assert counts.pop("truncated") == expected.pop("truncated", 0) + 1  # plus the dropped half
    # a frame whose checksum fails is refused whether its escapes or its checksum broke
    assert counts == expected
    await again.close()


async def _dropped_mid_frame(engine: AsyncEngine) -> bool:
    letters = await dead_letters(engine, NAME)
    return any(letter.detail == "connection closed mid-frame" for letter in letters)


async def _stored(engine: AsyncEngine, n: int) -> bool:
    return await count(engine, m.TrajectoryPoint) >= n


async def test_dead_letters_keep_the_raw_frame(
    engine: AsyncEngine, gateway: ConnectorContext
) -> None:
    terminal = await Terminal.connect(gateway, "013900000003")
    await terminal.login("蒙C33333")
    bad = impossible(terminal, 0)
    await terminal.send(bad)
    [(_, reply)] = await terminal.replies(1)
    assert isinstance(reply, jt808.GeneralReply)
    assert reply.result == 2
    [letter] = await dead_letters(engine, NAME)
    assert letter.reason == "impossible_coordinates"
    assert letter.payload_encoding == "base64"
    assert letter.locator == "terminal 013900000003"

    assert base64.b64decode(letter.payload) == bad
    await terminal.close()


def test_cut_frames_reports_each_broken_frame_and_resynchronises() -> None:
    header = jt808.Header(jt808.MsgId.HEARTBEAT, "013900000004", 1)
    good = jt808.encode_frame(header, b"")
    broken = good[:-3] + good[-1:]  # lost the checksum byte
    frames, rest, garbage = cut_frames(b"noise" + good + broken + good + good[:5])
    assert [isinstance(d, jt808.Frame) for _, d in frames] == [True, False, True]
    assert rest == good[:5]
    assert garbage == b"noise"
    # a frame that lost its closing flag borrows the next frame's opening one: the next
    # frame is then outside any frame, and reported as such rather than lost silently
    frames, _, garbage = cut_frames(good[:-1] + good)
    assert [isinstance(d, jt808.Frame) for _, d in frames] == [True]
    assert garbage == good[1:-1]


async def test_split_messages_are_put_back_together(
    engine: AsyncEngine, gateway: ConnectorContext
) -> None:
    terminal = await Terminal.connect(gateway, "013900000005")
    await terminal.login("蒙C55550")
    batch = jt808.LocationBatch(1, tuple(location(k) for k in range(60)))
    body = jt808.encode_location_batch(batch)
    size = len(body) // 3 + 1
    pieces = [body[i : i + size] for i in range(0, len(body), size)]

    def packet(index: int) -> bytes:
        terminal.seq += 1
        split = jt808.Split(total=len(pieces), index=index + 1)
        header = jt808.Header(jt808.MsgId.LOCATION_BATCH, terminal.phone, terminal.seq, split=split)
        return jt808.encode_frame(header, pieces[index])

    first, second, third = packet(0), packet(1), packet(2)
    await terminal.send(second, first, third)  # any order
    replies = await terminal.replies(3)
    assert all(isinstance(r, jt808.GeneralReply) and r.result == 0 for _, r in replies)
    assert len(await points(engine, "蒙C55550")) == 60
    # a split message never completed is dead-lettered when the link closes
    await terminal.send(packet(0))
    await terminal.replies(1)
    await terminal.close()
    await until(lambda: _reason_count(engine, "incomplete_split"))


async def _reason_count(engine: AsyncEngine, reason: str) -> bool:
    return (await reasons(engine, NAME)).get(reason, 0) == 1
