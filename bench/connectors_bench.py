"""Connector throughput on PostgreSQL: positions decoded and stored, invoices imported.

    python -m bench.connectors_bench --admin-url postgresql://postgres@127.0.0.1:5432/postgres
        [--positions 200000] [--vehicles 5000] [--batch 5000] [--links 4] [--invoices 20000]

Creates a throwaway database (dropped at the end unless --keep), migrates it, then
measures, each on fresh data:

1. decode: JT/T 808 0x0200 frames cut from a byte stream, checked and decoded into
   position records (pure Python, one core);
2. store: those records into `trajectory_point` through `connectors.positions`
   (vehicle lookup, dedupe, multi-row INSERT … ON CONFLICT DO NOTHING) in batches;
3. end to end: the JT/T 809 receiver on loopback, `--links` superior-platform links
   pushing 0x1200/0x1202 frames (one position each), until every row is stored;
4. a replay of (2): every position again, all duplicates;
5. invoices: a JSON file of `--invoices` invoices (2 lines each) imported by the tax
   file connector, and the same as CSV.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from coalhub.db import create_engine
from coalhub.identifiers import PlateColour
from coalhub.migrate import upgrade
from coalhub.settings import Settings, normalise_database_url
from connectors import jt808, jt809
from connectors.base import ConnectorContext, ConnectorStats
from connectors.files import FileSet
from connectors.jt808_gateway import cut_frames
from connectors.jt809_receiver import JT809Receiver, JT809ReceiverConfig
from connectors.positions import (
    Bounds,
    PositionRecord,
    VehicleResolver,
    from_jt808_location,
    store_positions,
)
from connectors.runner import run_connector
from connectors.tax_sources import TaxFiles

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    admin = args.admin_url
    name = f"coalhub_conbench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    url = normalise_database_url(_with_database(admin, name))
    try:
        upgrade(Settings(database_url=url))  # before any event loop: Alembic runs its own
        asyncio.run(_bench(Settings(database_url=url), args))
    finally:
        if not args.keep:
            asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"kept database {name}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.connectors_bench", description=__doc__)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--positions", type=int, default=200_000)
    parser.add_argument("--vehicles", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=5_000, help="positions per transaction")
    parser.add_argument("--links", type=int, default=4, help="JT/T 809 links pushing at once")
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser


def _with_database(url: str, database: str) -> str:
    plain = make_url(url).set(drivername="postgresql", database=database)
    return plain.render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _report(label: str, count: int, seconds: float, unit: str) -> None:
    print(f"{label:<44} {count:>9,} {unit:<10} {seconds:8.2f} s {count / seconds:>11,.0f} {unit}/s")


async def _bench(settings: Settings, args: argparse.Namespace) -> None:
    engine = create_engine(settings)
    try:
        plates = [
            f"蒙C{10000 + i:05d}"[:7] if i < 90000 else f"蒙D{i:05d}" for i in range(args.vehicles)
        ]
        half = args.vehicles // 2  # half the fleet registered, half new to the platform
        await _register(engine, plates[:half])
        print(
            f"PostgreSQL, {os.cpu_count()} cores; {args.vehicles:,} vehicles ({half:,} registered)"
        )
        stream, phones = _jt808_stream(args.positions, plates)
        started = time.perf_counter()
        records = _decode(stream, phones)
        decoded = time.perf_counter() - started
        _report("1. decode JT/T 808 0x0200 frames", len(records), decoded, "positions")
        stored, seconds = await _store(engine, records, args.batch)
        _report(f"2. store in batches of {args.batch:,}", stored, seconds, "positions")
        _report("   decode + store (1 + 2)", stored, decoded + seconds, "positions")
        replayed, seconds = await _store(engine, records, args.batch)
        _report("4. replay: the same positions again", len(records), seconds, "positions")
        assert replayed == 0, replayed
        received, seconds = await _end_to_end(engine, args.positions, plates, args.links)
        _report(
            f"3. JT/T 809 over TCP, {args.links} links, decode+store",
            received,
            seconds,
            "positions",
        )
        await _invoices(engine, args.invoices)
    finally:
        await engine.dispose()


async def _register(engine: AsyncEngine, plates: list[str]) -> None:
    rows = [
        {
            "plate": plate,
            "plate_colour": PlateColour.YELLOW,
            "status": m.VehicleStatus.REGISTERED,
            "tractor_single_drive_axle": False,
            "is_combination": False,
            "axles": 6,
        }
        for plate in plates
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(m.Vehicle), rows)


# ---- positions -------------------------------------------------------------------------


def _locations(n: int, vehicles: int) -> Iterator[tuple[int, jt808.Location]]:
    for i in range(n):
        vehicle = i % vehicles
        at = START + timedelta(seconds=30 * (i // vehicles))
        yield (
            vehicle,
            jt808.Location(
                alarm=0,
                status=0b10 | (0b11 << 8),
                latitude=39.3 + (vehicle % 1000) / 2000 + (i % 97) / 100_000,
                longitude=106.6 + (vehicle // 1000) / 20 + (i % 89) / 100_000,
                altitude_m=1100,
                speed_kmh=40 + i % 30,
                direction=i % 360,
                time=at,
                extras=(
                    jt808.Extra(0x01, (i % 100_000).to_bytes(4, "big")),
                    jt808.Extra(0x31, b"\x0c"),
                ),
            ),
        )


def _jt808_stream(n: int, plates: list[str]) -> tuple[bytes, dict[str, tuple[str, PlateColour]]]:
    phones = {f"0139{v:08d}": (plates[v], PlateColour.YELLOW) for v in range(len(plates))}
    order = list(phones)
    frames = [
        jt808.encode_frame(
            jt808.Header(jt808.MsgId.LOCATION, order[vehicle], i & 0xFFFF),
            jt808.encode_location(location),
        )
        for i, (vehicle, location) in enumerate(_locations(n, len(plates)))
    ]
    return b"".join(frames), phones


def _decode(stream: bytes, phones: dict[str, tuple[str, PlateColour]]) -> list[PositionRecord]:
    """What a gateway session does per read, minus the socket: cut, check, decode."""
    records: list[PositionRecord] = []
    buffer = b""
    for start in range(0, len(stream), 65536):
        frames, buffer, _ = cut_frames(buffer + stream[start : start + 65536])
        for raw, frame in frames:
            assert isinstance(frame, jt808.Frame)
            location = jt808.decode_body(frame)
            assert isinstance(location, jt808.Location)
            plate, colour = phones[frame.header.phone]
            records.append(
                from_jt808_location(location, plate, colour, m.PositionSource.JT808, raw, None)
            )
    return records


async def _store(
    engine: AsyncEngine, records: list[PositionRecord], batch: int
) -> tuple[int, float]:
    resolver = VehicleResolver()
    bounds = Bounds()
    stored = 0
    started = time.perf_counter()
    for start in range(0, len(records), batch):
        async with engine.begin() as connection:
            outcome, ids = await store_positions(
                connection, records[start : start + batch], resolver, bounds
            )
        resolver.learn(ids)
        stored += outcome.stored
    return stored, time.perf_counter() - started


async def _end_to_end(
    engine: AsyncEngine, n: int, plates: list[str], links: int
) -> tuple[int, float]:
    """Fresh positions (a later time range) pushed over JT/T 809 links; timed until all
    are stored."""
    async with engine.connect() as connection:
        before = int(
            await connection.scalar(select(func.count()).select_from(m.TrajectoryPoint)) or 0
        )
    streams = _jt809_streams(n, plates, links)
    ctx = ConnectorContext("bench809", "transport", engine, ConnectorStats(), asyncio.Event())
    receiver = JT809Receiver(
        "bench809", JT809ReceiverConfig(users={1: "bench"}, host="127.0.0.1", port=0)
    )
    task = asyncio.create_task(run_connector(receiver, ctx))
    await ctx.ready.wait()
    host, port = ctx.bound["address"]
    with tempfile.TemporaryDirectory() as directory:
        paths = []
        for index, stream in enumerate(streams):
            paths.append(Path(directory) / f"link{index}.bin")
            paths[-1].write_bytes(stream)
        started = time.perf_counter()
        # the superior platform is another process (sendfile: it costs this one nothing)
        pushers = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", _PUSHER, host, str(port), str(path)
            )
            for path in paths
        ]
        while ctx.stats.stored + ctx.stats.duplicates + ctx.stats.dead_lettered < n:  # noqa: ASYNC110
            await asyncio.sleep(0.01)  # polling the counters is the measurement
        seconds = time.perf_counter() - started
        for pusher in pushers:
            await pusher.wait()
    ctx.stop.set()
    await task
    async with engine.connect() as connection:
        after = int(
            await connection.scalar(select(func.count()).select_from(m.TrajectoryPoint)) or 0
        )
    assert after - before == n, (after - before, ctx.stats)
    return n, seconds


def _jt809_streams(n: int, plates: list[str], links: int) -> list[bytes]:
    login = jt809.encode_frame(
        jt809.Header(jt809.MsgId.LOGIN_REQUEST, centre_id=1, sn=0),
        jt809.encode_login_request(jt809.LoginRequest(1, "bench", "127.0.0.1", 0)),
    )
    chunks: list[list[bytes]] = [[login] for _ in range(links)]
    later = timedelta(days=1)
    for i, (vehicle, location) in enumerate(_locations(n, len(plates))):
        position = jt809.Position2011(
            False,
            location.time + later,
            location.latitude,
            location.longitude,
            int(location.speed_kmh),
            int(location.speed_kmh),
            1000,
            location.direction,
            location.altitude_m,
            location.status,
            0,
        )
        data = jt809.encode_positions((position,), batch=False)
        exchange = jt809.VehicleExchange(plates[vehicle], 2, jt809.DataType.UP_REAL_LOCATION, data)
        header = jt809.Header(jt809.MsgId.UP_EXCHANGE, centre_id=1, sn=i + 1)
        chunks[vehicle % links].append(
            jt809.encode_frame(header, jt809.encode_vehicle_exchange(exchange))
        )
    return [b"".join(chunk) for chunk in chunks]


_PUSHER = """
import socket, sys
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with socket.create_connection((host, port)) as link, open(path, "rb") as data:
    link.sendfile(data)
    link.shutdown(socket.SHUT_WR)
    while link.recv(65536):  # the login response; then the receiver closes
        pass
"""


# ---- invoices --------------------------------------------------------------------------


def _uscc(division: str, serial: int) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    body = f"91{division}MA{serial:07d}"
    total = sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True))
    return body + alphabet[(31 - total % 31) % 31]


async def _invoices(engine: AsyncEngine, n: int) -> None:
    async with engine.begin() as connection:
        [district] = (
            await connection.execute(
                insert(m.District)
                .values(code="150302", name="海勃湾区", name_en="Haibowan")
                .returning(m.District.id)
            )
        ).scalars()
        await connection.execute(
            insert(m.Enterprise),
            [
                {
                    "uscc": _uscc("150302", k),
                    "name": f"企业{k}",
                    "kind": m.EnterpriseKind.MINE,
                    "district_id": district,
                    "registration_status": m.RegistrationStatus.APPROVED,
                }
                for k in range(50)
            ],
        )
    with tempfile.TemporaryDirectory() as directory:
        for file_format, offset in (("json", 0), ("csv", n)):
            path = Path(directory) / f"invoices.{file_format}"
            _write_invoices(path, file_format, range(offset, offset + n))
            seconds = await _import(engine, Path(directory), f"invoices.{file_format}")
            _report(
                f"5. invoices from {file_format.upper()} (2 lines each)", n, seconds, "invoices"
            )


def _invoice(k: int) -> dict[str, Any]:
    lines = [
        {
            "line_no": line,
            "item_name": "*煤炭*洗精煤",
            "specification": "JM",
            "unit": "吨",
            "quantity": "31.5",
            "unit_price": "1500",
            "amount": "47250.00",
            "tax_rate": "13",
            "tax_amount": "6142.50",
        }
        for line in (1, 2)
    ]
    return {
        "number": f"26152{k:015d}",
        "kind": "normal",
        "issued_at": "2026-11-20T10:00:00+08:00",
        "seller_tax_id": _uscc("150302", k % 50),
        "seller_name": "乌海市测试煤矿",
        "buyer_tax_id": _uscc("150302", k % 60),  # some buyers are not registered
        "buyer_name": "测试焦化有限公司",
        "total_amount": "94500.00",
        "total_tax": "12285.00",
        "lines": lines,
    }


def _write_invoices(path: Path, file_format: str, numbers: range) -> None:
    invoices = [_invoice(k) for k in numbers]
    if file_format == "json":
        path.write_text(json.dumps(invoices, ensure_ascii=False), encoding="utf-8")
        return
    import csv

    with path.open("w", encoding="utf-8", newline="") as file:
        head = [key for key in invoices[0] if key != "lines"]
        writer = csv.DictWriter(file, fieldnames=[*head, *invoices[0]["lines"][0]])
        writer.writeheader()
        for invoice in invoices:
            for line in invoice["lines"]:
                writer.writerow({**{k: v for k, v in invoice.items() if k != "lines"}, **line})


async def _import(engine: AsyncEngine, directory: Path, pattern: str) -> float:
    ctx = ConnectorContext(f"bench-{pattern}", "tax", engine, ConnectorStats(), asyncio.Event())
    connector = TaxFiles(ctx.name, FileSet((pattern,), directory), batch_size=1000)
    started = time.perf_counter()
    await run_connector(connector, ctx)
    seconds = time.perf_counter() - started
    assert ctx.stats.dead_lettered == 0, ctx.stats
    return seconds


if __name__ == "__main__":
    main()
