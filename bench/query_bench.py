"""Load-test coalhub's nested traceability query on a database that bench.load filled.

    python -m bench.query_bench --database-url URL [--duration 20] [--connections 8]

Starts coalhub with uvicorn (one worker, 127.0.0.1, a free port) in a subprocess, drives the
query with wrk when it is installed (else an httpx loop) for a bounded time, and reports
req/s, latency percentiles, SQL statements per request (counted in-process with a
`before_cursor_execute` listener) and the server's CPU time per request.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, select

from coalhub.app import create_app
from coalhub.db import create_engine
from coalhub.models import Vehicle, WeighRecord
from coalhub.settings import Settings, normalise_database_url

REPO = Path(__file__).resolve().parents[1]
WRK_SCRIPT = Path(__file__).resolve().parent / "graphql_wrk.lua"

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


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = Settings(database_url=normalise_database_url(args.database_url))
    plates = asyncio.run(sample_plates(settings, args.plates, args.seed))
    statements = asyncio.run(statements_per_request(settings, plates[:5]))
    with running_server(settings.database_url) as (base_url, pid):
        _warm_up(base_url, plates)
        cpu_before = _cpu_seconds(pid)
        if shutil.which("wrk") and not args.httpx:
            result = run_wrk(base_url, plates, args.threads, args.connections, args.duration)
        else:
            result = asyncio.run(run_httpx(base_url, plates, args.connections, args.duration))
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


async def statements_per_request(settings: Settings, plates: list[str]) -> list[int]:
    """Runs the query in-process once per plate; SQL statements each request executed."""
    app = create_app(settings)
    executed = 0

    def count(*_: object) -> None:
        nonlocal executed
        executed += 1

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
    counts = []
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for plate in plates:
                executed = 0
                response = await client.post("/graphql", json=request_body(plate))
                _check(response.json(), plate)
                counts.append(executed)
    finally:
        await app.state.engine.dispose()
    return counts


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
    command = [sys.executable, "-m", "uvicorn", "--factory", "bench.asgi:app"]
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


def _warm_up(base_url: str, plates: list[str]) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for plate in plates[:50]:
            client.post("/graphql", json=request_body(plate)).raise_for_status()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, from field 3
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(
    base_url: str, plates: list[str], threads: int, connections: int, duration: int
) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="coalhub-bench-") as folder:
        template = Path(folder) / "query.json"
        values = Path(folder) / "plates.txt"
        template.write_text(json.dumps(request_body("PARAM"), ensure_ascii=False), "utf-8")
        values.write_text("\n".join(plates) + "\n", "utf-8")
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s"]
        command += ["-s", str(WRK_SCRIPT), f"{base_url}/graphql"]
        env = {**os.environ, "TPL": str(template), "VALUES": str(values)}
        output = subprocess.run(
            command, env=env, capture_output=True, text=True, check=True, timeout=duration + 60
        ).stdout
    return _parse_wrk(output)


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
    base_url: str, plates: list[str], connections: int, duration: int
) -> LoadResult:
    """`connections` concurrent request loops for `duration` seconds."""
    rng = random.Random(42)
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=connections)

    async def loop(client: httpx.AsyncClient, deadline: float) -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            response = await client.post("/graphql", json=request_body(rng.choice(plates)))
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 200 or "errors" in response.json():
                failures += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        started = time.perf_counter()
        deadline = started + duration
        await asyncio.gather(*(loop(client, deadline) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return LoadResult(
        "httpx", len(latencies), elapsed, failures, *(cuts[p - 1] * 1000 for p in (50, 95, 99))
    )


def _report(
    settings: Settings,
    args: argparse.Namespace,
    result: LoadResult,
    statements: list[int],
    cpu_ms: float,
) -> None:
    backend = "PostgreSQL" if not settings.is_sqlite else "SQLite"
    print(f"database      {backend}")
    print(f"load          {result.tool}, {args.connections} connections, {result.seconds:.1f} s")
    print(f"requests      {result.requests:,} ({result.failed} failed)")
    print(f"throughput    {result.per_second:,.1f} req/s")
    print(
        f"latency       p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms,"
        f" p99 {result.p99_ms:.1f} ms"
    )
    print(f"statements    {statistics.mean(statements):.1f} per request {statements}")
    print(f"server CPU    {cpu_ms:.1f} ms per request")
    print(
        f"| {backend} | {result.tool} -c{args.connections} {result.seconds:.0f}s"
        f" | {result.per_second:,.0f} | {result.p50_ms:.1f} | {result.p95_ms:.1f}"
        f" | {statistics.mean(statements):.0f} | {cpu_ms:.1f} | {result.failed} |"
    )


if __name__ == "__main__":
    main()
