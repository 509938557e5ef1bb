"""Load-test coalhub's nested traceability query on a database that bench.load filled.

    python -m bench.query_bench --database-url URL [--duration 20] [--connections 8]

Registers (or re-keys) a transport-department client `bench-transport` in that database,
starts coalhub with uvicorn (one worker, 127.0.0.1, a free port) in a subprocess, takes a
token, drives the query with wrk when it is installed (else an httpx loop) for a bounded
time, and reports req/s, latency percentiles, SQL statements per request (counted
in-process with a `before_cursor_execute` listener) and the server's CPU time per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, select

from coalhub.app import create_app
from coalhub.clients import Credentials, create_client, rotate_secret
from coalhub.db import create_engine, create_sessionmaker
from coalhub.migrate import upgrade
from coalhub.models import Vehicle, WeighRecord
from coalhub.models.client import ApiClient
from coalhub.settings import Settings, normalise_database_url
from coalhub.synthetic import TABLE_ORDER

REPO = Path(__file__).resolve().parents[1]
WRK_SCRIPT = Path(__file__).resolve().parent / "graphql_wrk.lua"
BENCH_CLIENT = "bench-transport"  # transport reads every type the query touches, city-wide

# a vehicle by plate -> its last 20 tickets with site -> enterprise -> district, and the
# ticket count; its last 50 positions
TRACE_QUERY = """
query Trace($plate: String!) {
  vehicles(filter: {plate: $plate}, first: 1) {
    edges { node {
      plate
      weighRecords(first: 20) {
        totalCount
        edges { node {
          ticketNo netKg weighedAt
          site { name enterprise { name district { name } } }
        } }
      }
      trajectory(first: 50) { edges { node { recordedAt latitude longitude } } }
    } }
  }
}
"""


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests: int
    seconds: float
    failed: int  # not HTTP 200, or a GraphQL "errors" member
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True)
class Statements:
    """SQL statements per request, on the domain tables and on the others (auth, audit)."""

    data: float
    other: float
    by_table: dict[str, float]


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = Settings(database_url=normalise_database_url(args.database_url))
    upgrade(settings)  # the data may predate later migrations (clients, policies, audit)
    plates = asyncio.run(sample_plates(settings, args.plates, args.seed))
    credentials = asyncio.run(bench_credentials(settings))
    statements = asyncio.run(statements_per_request(settings, credentials, plates[:5]))
    with running_server(settings.database_url) as (base_url, pid):
        token = _token(base_url, credentials)
        _warm_up(base_url, token, plates)
        cpu_before = _cpu_seconds(pid)
        if shutil.which("wrk") and not args.httpx:
            result = run_wrk(base_url, token, plates, args)
        else:
            result = asyncio.run(run_httpx(base_url, token, plates, args))
        cpu_ms = (_cpu_seconds(pid) - cpu_before) * 1000 / max(result.requests, 1)
    _report(settings, args, result, statements, cpu_ms)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.query_bench", description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--duration", type=int, default=20, help="seconds of load")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--plates", type=int, default=500, help="distinct plates to query")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--httpx", action="store_true", help="use the httpx loop, not wrk")
    return parser


def request_body(plate: str) -> dict[str, Any]:
    return {"query": TRACE_QUERY, "variables": {"plate": plate}}


async def sample_plates(settings: Settings, count: int, seed: int) -> list[str]:
    """Plates of vehicles that have weighings, a fixed random sample."""
    engine = create_engine(settings)
    weighed = select(WeighRecord.vehicle_id).distinct()
    try:
        async with engine.connect() as conn:
            query = select(Vehicle.plate).where(Vehicle.id.in_(weighed)).order_by(Vehicle.plate)
            plates = list((await conn.scalars(query)).all())
    finally:
        await engine.dispose()
    if not plates:
        raise SystemExit("no weighed vehicles: load data first (python -m bench.load ...)")
    return random.Random(seed).sample(plates, min(count, len(plates)))


async def bench_credentials(settings: Settings) -> Credentials:
    """The benchmark's client, registered on first use; each run gets a fresh secret."""
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine).begin() as session:
            known = select(ApiClient.id).where(ApiClient.name == BENCH_CLIENT)
            if await session.scalar(known) is None:
                return await create_client(session, BENCH_CLIENT, "transport")
            return await rotate_secret(session, BENCH_CLIENT)
    finally:
        await engine.dispose()


def _token_form(credentials: Credentials) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
    }


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def statements_per_request(
    settings: Settings, credentials: Credentials, plates: list[str]
) -> Statements:
    """Runs the query in-process once per plate, after one request that warms the caches
    (signing keys, clients, policies), and counts the SQL each request sent, audit included.
    Loopback host: the token endpoint refuses plain http anywhere else."""
    app = create_app(settings)
    tables: Counter[str] = Counter()

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        tables[_table_of(statement)] += 1

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
    ):
        response = await client.post("/oauth/token", data=_token_form(credentials))
        headers = _bearer(response.raise_for_status().json()["access_token"])
        for n, plate in enumerate([plates[0], *plates]):
            if n == 1:
                tables.clear()  # the first request filled the caches
            response = await client.post("/graphql", json=request_body(plate), headers=headers)
            _check(response.json(), plate)
            await app.state.audit.flush()  # the audit event is written off the request path
    return _per_request(tables, len(plates))


def _table_of(statement: str) -> str:
    match = re.search(r'\b(?:FROM|INTO|UPDATE)\s+"?([a-z_]+)', statement)
    return match.group(1) if match else statement.split(None, 1)[0].upper()


def _per_request(tables: Counter[str], requests: int) -> Statements:
    by_table = {table: count / requests for table, count in sorted(tables.items())}
    data = sum(n for table, n in by_table.items() if table in TABLE_ORDER)
    return Statements(data, sum(by_table.values()) - data, by_table)


def _check(payload: dict[str, Any], plate: str) -> None:
    if payload.get("errors"):
        raise SystemExit(f"the query failed for {plate}: {payload['errors']}")
    edges = payload["data"]["vehicles"]["edges"]
    if not edges or not edges[0]["node"]["weighRecords"]["edges"]:
        raise SystemExit(f"no vehicle or no weighings came back for {plate}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(database_url: str) -> Iterator[tuple[str, int]]:
    """coalhub under uvicorn, one worker on loopback; yields its URL and process id."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "coalhub.cli:app_from_environ"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    command += ["--no-access-log", "--log-level", "warning"]
    env = {**os.environ, "COALHUB_DATABASE_URL": database_url}
    server = subprocess.Popen(command, cwd=REPO, env=env)
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_up(base_url, server)
        yield base_url, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"uvicorn exited with {server.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("uvicorn did not answer /healthz within 30 s")


def _token(base_url: str, credentials: Credentials) -> str:
    response = httpx.post(f"{base_url}/oauth/token", data=_token_form(credentials), timeout=30)
    return str(response.raise_for_status().json()["access_token"])


def _warm_up(base_url: str, token: str, plates: list[str]) -> None:
    with httpx.Client(base_url=base_url, headers=_bearer(token), timeout=30) as client:
        for plate in plates[:50]:
            _check(client.post("/graphql", json=request_body(plate)).json(), plate)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, from field 3
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(base_url: str, token: str, plates: list[str], args: argparse.Namespace) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="coalhub-bench-") as folder:
        template = Path(folder) / "query.json"
        values = Path(folder) / "plates.txt"
        template.write_text(json.dumps(request_body("PARAM"), ensure_ascii=False), "utf-8")
        values.write_text("\n".join(plates) + "\n", "utf-8")
        command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
        command += ["-s", str(WRK_SCRIPT), f"{base_url}/graphql"]
        env = {**os.environ, "TPL": str(template), "VALUES": str(values), "TOKEN": token}
        finished = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=args.duration + 60
        )
    if finished.returncode != 0:
        raise SystemExit(f"wrk failed ({finished.returncode}): {finished.stderr}")
    return _parse_wrk(finished.stdout)


def _parse_wrk(output: str) -> LoadResult:
    line = next((ln for ln in output.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    values = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}
    return LoadResult(
        tool="wrk",
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        failed=values["failed"] + values["socket_errors"],
        p50_ms=values["p50_us"] / 1000,
        p95_ms=values["p95_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
    )


async def run_httpx(
    base_url: str, token: str, plates: list[str], args: argparse.Namespace
) -> LoadResult:
    """`--connections` concurrent request loops for `--duration` seconds."""
    rng = random.Random(42)
    latencies: list[float] = []
    failures = 0

    async def loop(client: httpx.AsyncClient, deadline: float) -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            response = await client.post("/graphql", json=request_body(rng.choice(plates)))
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 200 or "errors" in response.json():
                failures += 1

    limits = httpx.Limits(max_connections=args.connections)
    async with httpx.AsyncClient(
        base_url=base_url, headers=_bearer(token), timeout=30, limits=limits
    ) as client:
        started = time.perf_counter()
        deadline = started + args.duration
        await asyncio.gather(*(loop(client, deadline) for _ in range(args.connections)))
        elapsed = time.perf_counter() - started
    p50, p95, p99 = (statistics.quantiles(latencies, n=100)[p - 1] * 1000 for p in (50, 95, 99))
    return LoadResult("httpx", len(latencies), elapsed, failures, p50, p95, p99)


def _report(
    settings: Settings,
    args: argparse.Namespace,
    result: LoadResult,
    statements: Statements,
    cpu_ms: float,
) -> None:
    backend = "SQLite" if settings.is_sqlite else "PostgreSQL"
    tables = ", ".join(f"{table} {n:g}" for table, n in statements.by_table.items())
    print(f"database      {backend}")
    print(f"load          {result.tool}, {args.connections} connections, {result.seconds:.1f} s")
    print(f"requests      {result.requests:,} ({result.failed} failed)")
    print(f"throughput    {result.per_second:,.1f} req/s")
    print(
        f"latency       p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms,"
        f" p99 {result.p99_ms:.1f} ms"
    )
    print(f"statements    {statements.data:g} data + {statements.other:g} other ({tables})")
    print(f"server CPU    {cpu_ms:.1f} ms per request")
    print(
        f"| {backend} | {result.tool} -c{args.connections} {result.seconds:.0f}s"
        f" | {result.per_second:,.0f} | {result.p50_ms:.1f} | {result.p95_ms:.1f}"
        f" | {statements.data:g} + {statements.other:g} | {cpu_ms:.1f} | {result.failed} |"
    )


if __name__ == "__main__":
    main()
