"""Helpers for connector tests: run a connector in the background, read what it stored."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from coalhub.models.connector import DeadLetter
from connectors.base import BatchConnector, Connector, ConnectorContext, ConnectorStats
from connectors.runner import RetryPolicy, run_connector

# positions must not lie in the future; BCD times carry whole seconds
RECENT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
FAST_RETRY = RetryPolicy(initial=0.05, maximum=0.2)


def context(engine: AsyncEngine, name: str = "test", kind: str = "test") -> ConnectorContext:
    return ConnectorContext(
        name=name, kind=kind, engine=engine, stats=ConnectorStats(), stop=asyncio.Event()
    )


@asynccontextmanager
async def running(
    connector: Connector | BatchConnector[Any], engine: AsyncEngine, **options: Any
) -> AsyncIterator[ConnectorContext]:
    """Run a connector in the background: a service is ready on entry and stopped when the
    block ends; a batch source runs until it is exhausted (the exit waits for that)."""
    ctx = context(engine, connector.name, connector.kind)
    options.setdefault("policy", FAST_RETRY)
    task = asyncio.create_task(run_connector(connector, ctx, **options))
    ready = asyncio.create_task(ctx.ready.wait())
    if not isinstance(connector, BatchConnector):
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when="FIRST_COMPLETED")
        if task in done:
            ready.cancel()
            task.result()  # raises what stopped the service
    try:
        yield ctx
    finally:
        ready.cancel()
        if not isinstance(connector, BatchConnector):
            ctx.stop.set()
        await asyncio.wait_for(task, timeout=30)


async def until(predicate: Any, within: float = 10.0) -> None:
    """Wait for a predicate (plain or async) to hold: what a service stores lands later."""
    deadline = asyncio.get_running_loop().time() + within
    while not await _holds(predicate):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def _holds(predicate: Any) -> bool:
    value = predicate()
    return bool(await value if inspect.isawaitable(value) else value)


async def count(engine: AsyncEngine, model: type[m.Base], *where: Any) -> int:
    async with engine.connect() as connection:
        statement = select(func.count()).select_from(model).where(*where)
        return int((await connection.execute(statement)).scalar_one())


async def dead_letters(engine: AsyncEngine, connector: str | None = None) -> list[DeadLetter]:
    async with engine.connect() as connection:
        statement = select(DeadLetter.__table__).order_by(DeadLetter.id)
        if connector is not None:
            statement = statement.where(DeadLetter.connector == connector)
        return [DeadLetter(**row._mapping) for row in await connection.execute(statement)]


async def reasons(engine: AsyncEngine, connector: str | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for letter in await dead_letters(engine, connector):
        counts[letter.reason] = counts.get(letter.reason, 0) + 1
    return counts
