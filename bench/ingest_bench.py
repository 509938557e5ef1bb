"""Sustained ingest: a bridge's outbox -> the hub (uvicorn) -> PostgreSQL, in records/s.

    python -m bench.ingest_bench --admin-url postgresql://postgres@127.0.0.1:5432/postgres \\
        [--records 20000] [--batch-sizes 100,250,500] [--workers 1]

Creates a throwaway database (migrated, with one weighbridge site, its parties and a
device client), serves the hub from it with uvicorn in a subprocess, and for each batch
size fills a fresh outbox with completed tickets (two weighings with evidence, as the
bridge commits them; every fifth plate unknown to the hub) and lets a bridge process
drain it: a separate Python process that imports the whole bridge (`device_bridge.runner`)
and runs its uploader until nothing is pending. Reports records/s over the drain, the
bridge process's peak RSS, and checks that the hub stored every record exactly once.
The database is dropped at the end (`--keep` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

# The bridge side runs this module in its own process and must weigh what a bridge
# weighs: the hub's modules (SQLAlchemy, strawberry, asyncpg) are imported by the hub
# side only, inside the functions that need them.
if TYPE_CHECKING:
    from coalhub.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SHIPPER, BUYER = "91150302MA0000001H", "91150303MA00009995"


@dataclass(frozen=True)
class Site:
    global_id: str
    client_id: str
    client_secret: str


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.bridge_side:
        _bridge_side(**json.loads(args.bridge_side))
        return
    from coalhub import migrate
    from coalhub.settings import Settings, normalise_database_url

    name = f"coalhub_ingest_bench_{uuid.uuid4().hex[:8]}"
    admin = args.admin_url
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    try:
        url = normalise_database_url(_database_url(admin, name))
        settings = Settings(database_url=url)
        migrate.upgrade(settings)
        site = asyncio.run(_seed(settings, args.known_plates))
        with _hub(url, args.workers) as hub_url:
            print(f"hub {hub_url} ({args.workers} worker), database {name}", file=sys.stderr)
            for size in (int(s) for s in args.batch_sizes.split(",")):
                result = _run(site, hub_url, args, size)
                stored = asyncio.run(_count(settings))
                print(json.dumps(result | {"hub_total_records": stored}))
    finally:
        if not args.keep:
            asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch-sizes", default="100,250,500")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=1, help="batches in flight")
    parser.add_argument("--known-plates", type=int, default=400)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--bridge-side", help=argparse.SUPPRESS)  # JSON: a secret may start "-"
    return parser


def _database_url(admin: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(admin).set(drivername="postgresql", database=name).render_as_string(False)


async def _admin(admin: str, statement: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    connection = await asyncpg.connect(_database_url(admin, make_url(admin).database or "postgres"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _seed(settings: Settings, known_plates: int) -> Site:
    from sqlalchemy import insert
    from strawberry.relay import GlobalID

    from coalhub import models as m
    from coalhub.anpr import PlateColour
    from coalhub.clients import create_client
    from coalhub.db import create_engine, create_sessionmaker

    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:
            district = await _one(
                connection, m.District, code="150302", name="海勃湾区", name_en="H"
            )
            rows = [("JM-XJ", "洗精煤", m.ProductCategory.WASHED)]
            for code, name_zh, category in rows:
                await _one(
                    connection,
                    m.CoalProduct,
                    code=code,
                    name=name_zh,
                    name_en=code,
                    category=category,
                )
            mine = await _one(
                connection,
                m.Enterprise,
                uscc=SHIPPER,
                name="测试煤矿",
                kind=m.EnterpriseKind.MINE,
                district_id=district,
            )
            await _one(
                connection,
                m.Enterprise,
                uscc=BUYER,
                name="测试焦化",
                kind=m.EnterpriseKind.COKING,
                district_id=district,
            )
            site = await _one(
                connection,
                m.Site,
                enterprise_id=mine,
                code="WB1",
                name="1号地磅",
                kind=m.SiteKind.WEIGHBRIDGE,
            )
            vehicles = [
                {"plate": _plate(n), "plate_colour": PlateColour.YELLOW, "axles": 6}
                for n in range(known_plates)
            ]
            await connection.execute(insert(m.Vehicle), vehicles)
        async with create_sessionmaker(engine)() as session, session.begin():
            credentials = await create_client(session, "bench-bridge", "device", site_id=site)
    finally:
        await engine.dispose()
    return Site(str(GlobalID("Site", str(site))), credentials.client_id, credentials.client_secret)


async def _one(connection: Any, model: Any, **values: Any) -> int:
    from sqlalchemy import insert

    result = await connection.execute(
        insert(model).values(**values).returning(model.__table__.c.id)
    )
    return int(result.scalar_one())


async def _count(settings: Settings) -> int:
    from sqlalchemy import func, select

    from coalhub import models as m
    from coalhub.db import create_engine

    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            statement = select(func.count()).select_from(m.WeighRecord)
            return int((await connection.execute(statement)).scalar_one())
    finally:
        await engine.dispose()


def _plate(n: int) -> str:
    return f"蒙C{n:05d}"


class _hub:  # noqa: N801 - used as a context manager
    def __init__(self, database_url: str, workers: int) -> None:
        self.database_url, self.workers = database_url, workers

    def __enter__(self) -> str:
        port = _free_port()
        env = os.environ | {"COALHUB_DATABASE_URL": self.database_url}
        command = [sys.executable, "-m", "uvicorn", "--factory", "coalhub.cli:app_from_environ"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(self.workers)]
        command += ["--log-level", "warning", "--no-access-log"]
        self.process = subprocess.Popen(command, cwd=REPO, env=env)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the hub did not start")

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(30)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run(site: Site, hub_url: str, args: argparse.Namespace, batch_size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        outbox = Path(folder) / "outbox.sqlite3"
        fill_seconds = _fill(outbox, site, args.records, args.known_plates)
        side = {
            "outbox_path": str(outbox),
            "hub_url": hub_url,
            "client_id": site.client_id,
            "secret": site.client_secret,
            "size": batch_size,
            "concurrency": args.concurrency,
        }
        command = [sys.executable, "-m", "bench.ingest_bench", "--bridge-side", json.dumps(side)]
        output = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if output.returncode != 0:
        raise RuntimeError(f"the bridge side failed:\n{output.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(output.stdout)
    setup = {"batch_size": batch_size, "concurrency": args.concurrency, "workers": args.workers}
    return setup | {"outbox_fill_seconds": round(fill_seconds, 2)} | result


def _fill(path: Path, site: Site, records: int, known: int) -> float:
    from coalhub.anpr import PlateColour
    from device_bridge.config_devices import WeighingRules
    from device_bridge.outbox import Outbox
    from device_bridge.session import CompletedWeighing, Weighing

    rules = WeighingRules("JM-XJ", SHIPPER, BUYER)
    started, now = time.monotonic(), datetime.now(UTC)
    outbox = Outbox(path, f"B{uuid.uuid4().hex[:4].upper()}-")

    def ticket(n: int) -> tuple[str, Any]:
        # every fifth plate has never been seen by the hub: it registers it as UNREGISTERED
        plate = _plate(n % known) if n % 5 else f"蒙D{n % 100_000:05d}"
        at = now - timedelta(minutes=30)
        frames = ["02" + "2b3031373032303043" + "4403"] * 10
        tare = Weighing(
            f"t{n}", "WB1", plate, PlateColour.YELLOW, 17020, at, None, {"frames": frames}
        )
        gross = Weighing(
            f"g{n}", "WB1", plate, PlateColour.YELLOW, 49160, now, None, {"frames": frames}
        )
        done = CompletedWeighing(str(uuid.uuid4()), tare, gross, rules)
        return done.key, lambda ticket_no: done.record_input(site.global_id, ticket_no)

    outbox.add_many(ticket(n) for n in range(records))
    outbox.close()
    return time.monotonic() - started


def _bridge_side(
    outbox_path: str, hub_url: str, client_id: str, secret: str, size: int, concurrency: int
) -> None:
    """The bridge process: the whole bridge imported, its uploader draining the outbox."""
    import device_bridge.runner  # noqa: F401 - a real bridge's footprint
    from device_bridge.config import HubSettings
    from device_bridge.hub_client import HubClient
    from device_bridge.outbox import Outbox
    from device_bridge.uploader import Uploader

    async def drain() -> dict[str, Any]:
        outbox = Outbox(Path(outbox_path))
        settings = HubSettings(hub_url, client_id, secret, batch_size=size, timeout_seconds=60)
        async with httpx.AsyncClient() as http:
            client = HubClient(settings, http)
            uploader = Uploader(
                outbox,
                client,
                batch_size=settings.batch_size,
                backoff=settings.backoff,
                concurrency=concurrency,
            )
            await client.report_status([])  # the token, outside the timing
            pending = outbox.counts()["pending"]
            started = time.perf_counter()
            await uploader.flush()
            seconds = time.perf_counter() - started
        counts = outbox.counts()
        outbox.close()
        return {
            "records": pending,
            "seconds": round(seconds, 2),
            "records_per_second": round(pending / seconds),
            "requests": uploader.counters.requests,
            "delivered": counts["delivered"],
            "dead": counts["dead"],
            "bridge_peak_rss_mib": _memory_mib("VmHWM"),
            "bridge_rss_after_mib": _memory_mib("VmRSS"),
        }

    print(json.dumps(asyncio.run(drain())))


def _memory_mib(field: str) -> float:
    # /proc rather than getrusage: ru_maxrss survives exec, so a child started by a big
    # parent would report the parent's peak
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


if __name__ == "__main__":
    main()
