"""The cost of the policy layer on the traceability query, with a 2,000-line policy.

    python -m bench.policy_bench --database-url URL [--requests 300]

Runs the same query in-process (httpx over ASGI, one request at a time; the figure is this
process's CPU time per request) twice: with the policy layer as shipped, its casbin_rule table grown
to 2,000+ lines, and with it bypassed (every decision unrestricted, no field guards).
Also reports the one-off cost of deciding for a new client against that policy."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import delete, func, insert, select

import schema.build
from bench.query_bench import TRACE_QUERY
from coalhub.app import create_app
from coalhub.auth import Principal
from coalhub.clients import create_client
from coalhub.db import create_engine, create_sessionmaker
from coalhub.models import Vehicle
from coalhub.models.policy import PolicyRule
from coalhub.secrecy import Secrecy
from coalhub.settings import Settings, normalise_database_url
from policies.access import unrestricted
from policies.enforcer import PolicyStore, bump_revision, seed_if_empty

FILLER = "bench-filler"


async def grow_policy(settings: Settings, lines: int) -> int:
    """Client-specific grants (as districts make them) until the table has `lines` rows."""
    engine = create_engine(settings)
    async with create_sessionmaker(engine).begin() as session:
        await seed_if_empty(session)
        await session.execute(delete(PolicyRule).where(PolicyRule.v0.like(f"client:{FILLER}%")))
        present = (await session.execute(select(func.count(PolicyRule.id)))).scalar_one()
        rows = [
            {"ptype": "p", "v0": f"client:{FILLER}-{i}", "v1": "*", "v2": "Contract",
             "v3": "read", "v4": "", "v5": ""}
            for i in range(max(lines - present, 0))
        ]  # fmt: skip
        if rows:
            await session.execute(insert(PolicyRule), rows)
        await bump_revision(session)
        total = (await session.execute(select(func.count(PolicyRule.id)))).scalar_one()
    await engine.dispose()
    return int(total)


async def warm_decision_us(settings: Settings, n: int = 20_000) -> float:
    """What every request pays to find its decision once the client's is cached."""
    engine = create_engine(settings)
    store = PolicyStore(create_sessionmaker(engine), max_page_size=100)
    principal = Principal(uuid.uuid4().hex, "transport", Secrecy.CONFIDENTIAL, None, None)
    await store.decision_for(principal)
    started = time.perf_counter()
    for _ in range(n):
        await store.decision_for(principal)
    elapsed = (time.perf_counter() - started) / n * 1e6
    await engine.dispose()
    return elapsed


async def cold_decision_ms(settings: Settings) -> float:
    engine = create_engine(settings)
    store = PolicyStore(create_sessionmaker(engine), max_page_size=100)
    principal = Principal(uuid.uuid4().hex, "transport", Secrecy.CONFIDENTIAL, None, None)
    await store.decision_for(principal)  # loads the policy
    other = Principal(uuid.uuid4().hex, "tax", Secrecy.CONFIDENTIAL, None, None)
    started = time.perf_counter()
    await store.decision_for(other)
    elapsed = (time.perf_counter() - started) * 1000
    await engine.dispose()
    return elapsed


@contextmanager
def policy_layer_bypassed() -> Iterator[None]:
    original_guards = schema.build.install_field_guards  # type: ignore[attr-defined]
    original_decision = PolicyStore.decision_for

    async def everything(self: PolicyStore, principal: Principal) -> Any:
        return unrestricted()

    schema.build.install_field_guards = lambda schema: None  # type: ignore[attr-defined]
    PolicyStore.decision_for = everything  # type: ignore[method-assign]
    try:
        yield
    finally:
        schema.build.install_field_guards = original_guards  # type: ignore[attr-defined]
        PolicyStore.decision_for = original_decision  # type: ignore[method-assign]


async def per_request_ms(settings: Settings, plates: list[str], requests: int) -> list[float]:
    app = create_app(settings)
    async with create_sessionmaker(app.state.engine).begin() as session:
        credentials = await create_client(session, f"bench-{uuid.uuid4().hex[:8]}", "transport")
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        form = {"grant_type": "client_credentials", "client_id": credentials.client_id,
                "client_secret": credentials.client_secret}  # fmt: skip
        token = (await client.post("/oauth/token", data=form)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "X-User-Id": "bench", "X-Purpose": "bench"}
        timings = []
        for i in range(requests + 20):
            body = {"query": TRACE_QUERY, "variables": {"plate": plates[i % len(plates)]}}
            # CPU time of this process (the hub, in-process): other load on the machine
            # barely moves it, unlike wall-clock time
            started = time.process_time()
            response = await client.post("/graphql", json=body, headers=headers)
            elapsed = (time.process_time() - started) * 1000
            if response.status_code != 200 or "errors" in response.json():
                raise RuntimeError(response.text)
            if i >= 20:  # the first requests warm caches
                timings.append(elapsed)
    return timings


async def plates_of(settings: Settings, n: int = 200) -> list[str]:
    engine = create_engine(settings)
    async with engine.connect() as connection:
        rows = await connection.execute(select(Vehicle.plate).order_by(Vehicle.id).limit(n))
        plates = [str(p) for p in rows.scalars()]
    await engine.dispose()
    return plates


async def main(database_url: str, requests: int, lines: int, rounds_count: int) -> None:
    settings = Settings(database_url=normalise_database_url(database_url))
    total = await grow_policy(settings, lines)
    plates = await plates_of(settings)
    print(
        f"policy lines: {total}; cold decision for a new client: "
        f"{await cold_decision_ms(settings):.1f} ms (once per client and policy revision)"
    )
    print(f"warm decision lookup: {await warm_decision_us(settings):.2f} µs per request")
    rounds = []
    for _ in range(rounds_count):  # A B A B: the machine is shared, only adjacent runs compare
        with_policy = statistics.median(await per_request_ms(settings, plates, requests))
        with policy_layer_bypassed():
            without = statistics.median(await per_request_ms(settings, plates, requests))
        rounds.append((with_policy, without))
        print(
            f"median CPU ms/request: with policy {with_policy:.2f}, bypassed {without:.2f}, "
            f"overhead {100 * (with_policy - without) / with_policy:.1f}%"
        )
    engine = create_engine(settings)
    async with create_sessionmaker(engine).begin() as session:
        await session.execute(delete(PolicyRule).where(PolicyRule.v0.like(f"client:{FILLER}%")))
        await bump_revision(session)
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.requests, args.lines, args.rounds))
