"""coalhub's compiled read path side by side with PostGraphile, on the same PostgreSQL tables.

    python -m bench.compiled_bench --database-url postgresql://USER@127.0.0.1:5432/DB
        [--duration 20] [--connections 8] [--threads 2] [--rounds 2] [--workers 1]
        [--postgraphile-url http://127.0.0.1:5678/graphql] [--executor]

Fill the database first (`python -m bench.load --database-url ... --days 1`). Then, for each
of three queries (a vehicle's trace; an enterprise's outbound weigh tickets for a month; a
district's statistics), the benchmark checks that coalhub (COALHUB_COMPILED_READS=1, policies
enforced for a transport-department client) and PostGraphile (unguarded) return the same
values for a sample of parameters, then loads them alternately, A B A B, with wrk and the
same random parameters, and reports every run: req/s, p50/p95/p99, failed responses, server
CPU per request, and the adjacent-run ratios coalhub / PostGraphile. Both servers listen on
127.0.0.1 only. Unless --postgraphile-url names a running one, PostGraphile is started with
../shared/bench/postgraphile.sh (which installs Node 22 and postgraphile from npm on first
use) and stopped at the end, as is every coalhub server the benchmark starts. `--executor`
adds a run of coalhub without the compiled path after each pair, for reference.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import func, select

from bench.query_bench import (
    REPO,
    TRACE_QUERY,
    WRK_SCRIPT,
    LoadResult,
    _cpu_seconds,
    _free_port,
    _parse_wrk,
    _token,
    _wait_until_up,
    bench_credentials,
    sample_plates,
)
from coalhub.clients import Credentials
from coalhub.db import create_engine
from coalhub.migrate import upgrade
from coalhub.models import District, Enterprise, WeighRecord
from coalhub.settings import Settings, normalise_database_url
from resolvers.compiler.statement import APPLICATION_NAME

POSTGRAPHILE_SCRIPT = REPO.parent / "shared" / "bench" / "postgraphile.sh"
MONTH = {"since": "2026-11-01T00:00:00+08:00", "until": "2026-12-01T00:00:00+08:00"}

OUTBOUND_QUERY = """
query Outbound($uscc: String!, $since: DateTime!, $until: DateTime!) {
  enterprises(filter: {uscc: $uscc}, first: 1) { nodes {
    name
    outboundWeighRecords(first: 20, filter: {since: $since, until: $until}) {
      totalCount
      nodes {
        ticketNo direction netKg weighedAt
        vehicle { plate } consignee { name } site { name }
      }
    }
  } }
}
"""

STATS_QUERY = """
query Stats($district: String!) {
  enterprises(filter: {districtCode: $district}, first: 100) {
    totalCount
    nodes {
      name
      sites { totalCount }
      vehicles { totalCount }
      outboundWeighRecords { totalCount }
      inboundWeighRecords { totalCount }
    }
  }
}
"""

PG_TRACE = """
query Trace($plate: String!) {
  allVehicles(condition: {plate: $plate}, first: 1, orderBy: ROW_ID_ASC) { edges { node {
    plate
    weighRecordsByVehicleId(first: 20, orderBy: [WEIGHED_AT_DESC, ROW_ID_DESC]) {
      totalCount
      edges { node {
        ticketNo grossKg tareKg weighedAt
        siteBySiteId { name enterpriseByEnterpriseId { name districtByDistrictId { name } } }
      } }
    }
    trajectoryPointsByVehicleId(first: 50, orderBy: [RECORDED_AT_DESC, ROW_ID_DESC]) {
      edges { node { recordedAt latitude longitude } }
    }
  } } }
}
"""

# PostGraphile's default schema filters on equality of indexed columns only: no month here
PG_OUTBOUND = """
query Outbound($uscc: String!) {
  enterpriseByUscc(uscc: $uscc) {
    name
    weighRecordsByShipperId(first: 20, orderBy: [WEIGHED_AT_DESC, ROW_ID_DESC]) {
      totalCount
      nodes {
        ticketNo direction grossKg tareKg weighedAt
        vehicleByVehicleId { plate } enterpriseByConsigneeId { name } siteBySiteId { name }
      }
    }
  }
}
"""

PG_STATS = """
query Stats($district: String!) {
  districtByCode(code: $district) {
    enterprisesByDistrictId(first: 100, orderBy: ROW_ID_ASC) {
      totalCount
      nodes {
        name
        sitesByEnterpriseId { totalCount }
        vehiclesByOwnerEnterpriseId { totalCount }
        weighRecordsByShipperId { totalCount }
        weighRecordsByConsigneeId { totalCount }
      }
    }
  }
}
"""


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def trace_values(body: dict[str, Any], postgraphile: bool) -> Any:
    edges = body["data"]["allVehicles" if postgraphile else "vehicles"]["edges"]
    if not edges:
        return None
    node = edges[0]["node"]
    records = node["weighRecordsByVehicleId" if postgraphile else "weighRecords"]
    positions = node["trajectoryPointsByVehicleId" if postgraphile else "trajectory"]
    tickets = []
    for edge in records["edges"]:
        r = edge["node"]
        if postgraphile:
            site = r["siteBySiteId"]
            enterprise = site["enterpriseByEnterpriseId"]
            place = (site["name"], enterprise["name"], enterprise["districtByDistrictId"]["name"])
            net = r["grossKg"] - r["tareKg"]
        else:
            enterprise = r["site"]["enterprise"]
            place = (r["site"]["name"], enterprise["name"], enterprise["district"]["name"])
            net = r["netKg"]
        tickets.append((r["ticketNo"], net, _time(r["weighedAt"]), place))
    points = [
        (_time(p["node"]["recordedAt"]), p["node"]["latitude"], p["node"]["longitude"])
        for p in positions["edges"]
    ]
    return node["plate"], records["totalCount"], tickets, points


def outbound_values(body: dict[str, Any], postgraphile: bool) -> Any:
    if postgraphile:
        enterprise = body["data"]["enterpriseByUscc"]
        records = enterprise["weighRecordsByShipperId"]
    else:
        enterprise = body["data"]["enterprises"]["nodes"][0]
        records = enterprise["outboundWeighRecords"]
    tickets = []
    for r in records["nodes"]:
        if postgraphile:
            names = (
                r["vehicleByVehicleId"]["plate"],
                r["enterpriseByConsigneeId"]["name"],
                r["siteBySiteId"]["name"],
            )
            net = r["grossKg"] - r["tareKg"]
        else:
            names = (r["vehicle"]["plate"], r["consignee"]["name"], r["site"]["name"])
            net = r["netKg"]
        direction = r["direction"].lower()
        tickets.append((r["ticketNo"], direction, net, _time(r["weighedAt"]), names))
    return enterprise["name"], records["totalCount"], tickets


def stats_values(body: dict[str, Any], postgraphile: bool) -> Any:
    if postgraphile:
        enterprises = body["data"]["districtByCode"]["enterprisesByDistrictId"]
        keys = (
            "sitesByEnterpriseId",
            "vehiclesByOwnerEnterpriseId",
            "weighRecordsByShipperId",
            "weighRecordsByConsigneeId",
        )
    else:
        enterprises = body["data"]["enterprises"]
        keys = ("sites", "vehicles", "outboundWeighRecords", "inboundWeighRecords")
    rows = [(e["name"], *(e[key]["totalCount"] for key in keys)) for e in enterprises["nodes"]]
    return enterprises["totalCount"], rows


@dataclass(frozen=True)
class Query:
    name: str
    coalhub: str
    postgraphile: str
    variable: str  # the variable each request draws from `values`
    fixed: dict[str, Any]  # variables every coalhub request carries
    values: Callable[[dict[str, Any], bool], Any]

    def body(self, value: str, postgraphile: bool) -> dict[str, Any]:
        variables: dict[str, Any] = {self.variable: value}
        if not postgraphile:
            variables |= self.fixed
        query = self.postgraphile if postgraphile else self.coalhub
        return {"query": query, "variables": variables}


QUERIES = {
    "trace": Query("trace", TRACE_QUERY, PG_TRACE, "plate", {}, trace_values),
    "outbound": Query("outbound", OUTBOUND_QUERY, PG_OUTBOUND, "uscc", MONTH, outbound_values),
    "stats": Query("stats", STATS_QUERY, PG_STATS, "district", {}, stats_values),
}


async def parameters(settings: Settings, count: int, seed: int) -> dict[str, list[str]]:
    """Plates of weighed vehicles, USCCs of enterprises that ship, the district codes."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            shipping = select(WeighRecord.shipper_id).group_by(WeighRecord.shipper_id)
            shipping = shipping.having(func.count() > 0)
            usccs = select(Enterprise.uscc).where(Enterprise.id.in_(shipping))
            uscc = list((await conn.scalars(usccs.order_by(Enterprise.uscc))).all())
            codes = list((await conn.scalars(select(District.code).order_by(District.code))).all())
    finally:
        await engine.dispose()
    rng = random.Random(seed)
    return {
        "trace": await sample_plates(settings, count, seed),
        "outbound": rng.sample(uscc, min(count, len(uscc))),
        "stats": codes,
    }


# --- servers -------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    pid: int | None  # None: started elsewhere, CPU and memory not measured
    token: str | None = None

    def processes(self) -> list[int]:
        """The server and its worker processes."""
        if self.pid is None:
            return []
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                todo.extend(int(child) for child in task.read_text().split())
        return found

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(pid) for pid in self.processes())

    def rss_mib(self) -> list[float]:
        sizes = []
        for pid in self.processes():
            status = Path(f"/proc/{pid}/status").read_text()
            line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
            sizes.append(int(line.split()[1]) / 1024)
        return sizes


@contextmanager
def stopped_at_exit(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess in its own process group, terminated (then killed) on the way out."""
    process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)
    try:
        yield process
    finally:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            if process.poll() is not None:
                break
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue


def coalhub(
    stack: ExitStack, database_url: str, workers: int, compiled: bool, credentials: Credentials
) -> Server:
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "coalhub.cli:app_from_environ"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--no-access-log", "--log-level", "warning"]
    env = {
        **os.environ,
        "COALHUB_DATABASE_URL": database_url,
        "COALHUB_COMPILED_READS": "1" if compiled else "0",
    }
    process = stack.enter_context(stopped_at_exit(command, env))
    base = f"http://127.0.0.1:{port}"
    _wait_until_up(base, process)
    name = "coalhub compiled" if compiled else "coalhub executor"
    return Server(name, f"{base}/graphql", process.pid, _token(base, credentials))


def postgraphile(stack: ExitStack, database_url: str, url: str | None) -> Server:
    if url is not None:
        return Server("PostGraphile", url, None)
    port = _free_port()
    plain = database_url.replace("postgresql+asyncpg://", "postgres://")
    plain = plain.replace("postgresql://", "postgres://")
    command = ["bash", str(POSTGRAPHILE_SCRIPT), plain, str(port), "public"]
    process = stack.enter_context(stopped_at_exit(command, dict(os.environ)))
    url = f"http://127.0.0.1:{port}/graphql"
    deadline = time.monotonic() + 600  # the first start installs Node and postgraphile
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"postgraphile exited with {process.returncode}")
        try:
            httpx.post(url, json={"query": "{ __typename }"}, timeout=2).raise_for_status()
            return Server("PostGraphile", url, process.pid)
        except httpx.HTTPError:
            time.sleep(1)
    raise SystemExit("postgraphile did not answer within 10 minutes")


# --- checking and timing -------------------------------------------------------------------


def post(server: Server, body: dict[str, Any]) -> dict[str, Any]:
    headers = {} if server.token is None else {"Authorization": f"Bearer {server.token}"}
    response = httpx.post(server.url, json=body, headers=headers, timeout=60)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    if result.get("errors"):
        raise SystemExit(f"{server.name} answered with errors: {result['errors']}")
    return result


def check_same(query: Query, hub: Server, peer: Server, values: list[str], samples: int) -> int:
    for value in values[:samples]:
        ours = query.values(post(hub, query.body(value, False)), False)
        theirs = query.values(post(peer, query.body(value, True)), True)
        if ours != theirs:
            raise SystemExit(f"{query.name}: different values for {value}:\n{ours}\n{theirs}")
    return min(samples, len(values))


@dataclass(frozen=True)
class Run:
    query: str
    server: str
    result: LoadResult
    cpu_ms: float
    db_cpu_ms: float  # the database's backends serving this database, per request
    db_reads_ms: float  # of which the compiled read path's own connections


def backend_cpu_seconds(database_url: str) -> dict[int, tuple[str, float]]:
    """CPU time of each PostgreSQL backend connected to the benchmark's database (the
    server is on this machine; other databases' backends are left out)."""

    async def pids() -> list[tuple[int, str]]:
        plain = database_url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(plain)
        try:
            rows = await connection.fetch(
                "SELECT pid, application_name FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()
        return [(int(row["pid"]), str(row["application_name"])) for row in rows]

    found = {}
    for pid, name in asyncio.run(pids()):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            found[pid] = (name, _cpu_seconds(pid))
    return found


def cpu_since(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], only: str = ""
) -> float:
    """Backends that ended meanwhile are left out; new ones count from zero. `only`: the
    backends of that application_name."""
    return sum(
        seconds - before.get(pid, (name, 0.0))[1]
        for pid, (name, seconds) in after.items()
        if not only or name == only
    )


def load(
    server: Server,
    query: Query,
    values: list[str],
    args: argparse.Namespace,
    database_url: str,
    duration: int | None = None,
) -> Run:
    """One wrk run of `duration` seconds (default: --duration) against the server."""
    duration = args.duration if duration is None else duration
    postgraphile = server.name == "PostGraphile"
    with tempfile.TemporaryDirectory(prefix="coalhub-compiled-bench-") as folder:
        template = Path(folder) / "query.json"
        template.write_text(json.dumps(query.body("PARAM", postgraphile), ensure_ascii=False))
        listed = Path(folder) / "values.txt"
        listed.write_text("\n".join(values) + "\n", "utf-8")
        env = {**os.environ, "TPL": str(template), "VALUES": str(listed)}
        env.pop("TOKEN", None)
        if server.token is not None:
            env["TOKEN"] = server.token
        command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s"]
        command += ["-s", str(WRK_SCRIPT), server.url]
        cpu, db_cpu = server.cpu_seconds(), backend_cpu_seconds(database_url)
        finished = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=duration + 60
        )
        used = server.cpu_seconds() - cpu
        db_after = backend_cpu_seconds(database_url)
        db_used = cpu_since(db_cpu, db_after)
        db_reads = cpu_since(db_cpu, db_after, APPLICATION_NAME)
    if finished.returncode != 0:
        raise SystemExit(f"wrk failed ({finished.returncode}): {finished.stderr}")
    result = _parse_wrk(finished.stdout)
    requests = max(result.requests, 1)
    per = 1000 / requests
    return Run(query.name, server.name, result, used * per, db_used * per, db_reads * per)


def refresh_tokens(servers: list[Server], credentials: Credentials) -> None:
    """Tokens live 10 minutes: a fresh one before each run."""
    for server in servers:
        if server.token is not None:
            server.token = _token(server.url.removesuffix("/graphql"), credentials)


# --- the report ----------------------------------------------------------------------------


def report(runs: list[Run], rss: dict[str, list[float]]) -> None:
    print(
        "\n| query | server | req/s | p50 ms | p95 ms | p99 ms | failed | app CPU ms/req |"
        " DB CPU ms/req (compiled statements) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        r = run.result
        print(
            f"| {run.query} | {run.server} | {r.per_second:,.0f} | {r.p50_ms:.1f} |"
            f" {r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.failed} | {run.cpu_ms:.2f} |"
            f" {run.db_cpu_ms:.2f} ({run.db_reads_ms:.2f}) |"
        )
    print("\nadjacent-run ratios coalhub compiled / PostGraphile (req/s; p50):")
    for query in dict.fromkeys(run.query for run in runs):
        ours = [r for r in runs if r.query == query and r.server == "coalhub compiled"]
        theirs = [r for r in runs if r.query == query and r.server == "PostGraphile"]
        pairs = [(a, b) for a, b in zip(ours, theirs, strict=False)]
        pairs += [(a, b) for a, b in zip(ours[1:], theirs, strict=False)]  # B then next A
        ratios = [a.result.per_second / b.result.per_second for a, b in pairs]
        p50s = [a.result.p50_ms / b.result.p50_ms for a, b in pairs]
        print(
            f"  {query}: req/s "
            + ", ".join(f"{x:.2f}" for x in ratios)
            + "; p50 "
            + ", ".join(f"{x:.2f}" for x in p50s)
        )
    print("\nRSS per process after the runs (MiB):")
    for name, sizes in rss.items():
        print(f"  {name}: " + ", ".join(f"{s:.0f}" for s in sizes))


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    database_url = normalise_database_url(args.database_url)
    settings = Settings(database_url=database_url)
    if settings.is_sqlite:
        raise SystemExit("PostGraphile needs PostgreSQL: give a postgresql:// URL")
    upgrade(settings)
    values = asyncio.run(parameters(settings, args.plates, args.seed))
    credentials = asyncio.run(bench_credentials(settings))
    chosen = [QUERIES[name] for name in args.queries.split(",")]
    runs: list[Run] = []
    with ExitStack() as stack:
        hub = coalhub(stack, database_url, args.workers, True, credentials)
        peer = postgraphile(stack, database_url, args.postgraphile_url)
        executor = None
        if args.executor:
            executor = coalhub(stack, database_url, args.workers, False, credentials)
        for query in chosen:
            checked = check_same(query, hub, peer, values[query.name], args.samples)
            print(f"{query.name}: same values from both servers for {checked} parameters")
        for query in chosen:
            # caches, prepared statements, generic plans, Node's JIT: the same load, untimed
            for server in [hub, peer] + ([executor] if executor else []):
                refresh_tokens([server], credentials)
                load(server, query, values[query.name], args, database_url, args.warmup)
            for _ in range(args.rounds):
                for server in [hub, peer] + ([executor] if executor else []):
                    refresh_tokens([server], credentials)
                    run = load(server, query, values[query.name], args, database_url)
                    runs.append(run)
                    print(
                        f"{query.name:>8} {server.name:<17} {run.result.per_second:8,.0f} req/s"
                        f"  p50 {run.result.p50_ms:6.1f} ms  CPU {run.cpu_ms:.2f} ms/request"
                        f"  DB CPU {run.db_cpu_ms:.2f} ({run.db_reads_ms:.2f} compiled reads)"
                        f"  failed {run.result.failed}",
                        flush=True,
                    )
        rss = {server.name: server.rss_mib() for server in (hub, peer, executor) if server}
    report(runs, rss)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.compiled_bench", description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="A B pairs per query")
    parser.add_argument("--workers", type=int, default=1, help="coalhub uvicorn workers")
    parser.add_argument("--queries", default="trace,outbound,stats")
    parser.add_argument("--plates", type=int, default=500, help="distinct parameters")
    parser.add_argument("--samples", type=int, default=20, help="parameters checked equal")
    parser.add_argument(
        "--warmup", type=int, default=5, help="seconds of untimed load per server and query"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgraphile-url", help="a running PostGraphile to use")
    parser.add_argument("--executor", action="store_true", help="also time the executor")
    return parser


if __name__ == "__main__":
    main()
