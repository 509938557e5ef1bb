"""Runs connectors: checkpoints, retries with backoff, dead letters and counters.

A batch is stored in one transaction together with its dead letters and the checkpoint
that follows it, so a runner killed at any moment resumes from the last batch that
committed and, since every store is idempotent, a replayed batch changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc

from connectors.base import (
    Batch,
    BatchConnector,
    Connector,
    ConnectorContext,
    ConnectorUnavailableError,
    Reject,
    StoreOutcome,
)
from connectors.store import dead_letter, load_checkpoint, save_checkpoint

log = logging.getLogger("coalhub.connectors")

TRANSIENT: tuple[type[BaseException], ...] = (
    ConnectorUnavailableError,
    OSError,
    TimeoutError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Delays initial, initial*factor, ... capped at maximum; reset after a success.

    `max_failures` consecutive failures end the run (None: keep trying until stopped)."""

    initial: float = 0.5
    maximum: float = 60.0
    factor: float = 2.0
    max_failures: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum or self.factor < 1:
            raise ValueError(f"unusable retry policy: {self}")


class _Backoff:
    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.failures = 0
        self._delay = policy.initial

    def succeeded(self) -> None:
        self.failures = 0
        self._delay = self.policy.initial

    async def failed(self, ctx: ConnectorContext, error: BaseException) -> None:
        """Count the failure, re-raise it past `max_failures`, else wait (or until stop)."""
        self.failures += 1
        ctx.stats.errors += 1
        ctx.stats.last_error = f"{type(error).__name__}: {error}"[:500]
        transient = isinstance(error, TRANSIENT)
        log.log(
            logging.WARNING if transient else logging.ERROR,
            "connector %s: %s (attempt %d, retrying in %.1fs)",
            ctx.name,
            ctx.stats.last_error,
            self.failures,
            self._delay,
            exc_info=not transient,
        )
        limit = self.policy.max_failures
        if limit is not None and self.failures >= limit:
            raise error
        await sleep_unless_stopped(ctx.stop, self._delay)
        self._delay = min(self._delay * self.policy.factor, self.policy.maximum)


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def run_connector(
    connector: Connector | BatchConnector[Any],
    ctx: ConnectorContext,
    *,
    policy: RetryPolicy | None = None,
    follow: bool = False,
    poll_interval: float = 60.0,
    pause: float = 0.0,
) -> None:
    """Run a service until `ctx.stop`; run a batch source until it is exhausted, or with
    `follow` keep polling it every `poll_interval` seconds until `ctx.stop`. `pause`
    spaces a source's batches (seconds), to spare a busy outside system."""
    policy = policy or RetryPolicy()
    try:
        if isinstance(connector, BatchConnector):
            await run_batches(
                connector,
                ctx,
                policy=policy,
                follow=follow,
                poll_interval=poll_interval,
                pause=pause,
            )
        else:
            await run_service(connector, ctx, policy=policy)
    finally:
        close = getattr(connector, "aclose", None)
        if close is not None:
            await close()  # HTTP clients, open files


async def run_service(connector: Connector, ctx: ConnectorContext, *, policy: RetryPolicy) -> None:
    backoff = _Backoff(policy)
    while not ctx.stop.is_set():
        try:
            await connector.run(ctx)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a crashed service is restarted after a pause
            await backoff.failed(ctx, error)
        else:
            return


async def run_batches(
    connector: BatchConnector[Any],
    ctx: ConnectorContext,
    *,
    policy: RetryPolicy,
    follow: bool,
    poll_interval: float,
    pause: float = 0.0,
) -> None:
    backoff = _Backoff(policy)
    state: dict[str, Any] | None = None
    while not ctx.stop.is_set():
        try:
            if state is None:
                async with ctx.engine.connect() as connection:
                    state = await load_checkpoint(connection, ctx.name)
            batch = await connector.fetch(state)
            outcome = await store_batch(connector, ctx, batch)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await backoff.failed(ctx, error)
            continue
        backoff.succeeded()
        state = batch.state
        ctx.stats.received += len(batch.records) + len(batch.rejects)
        ctx.stats.record(outcome)
        if ctx.progress is not None and batch.progress is not None:
            ctx.progress(*batch.progress)
        if batch.done:
            if not follow:
                return
            await sleep_unless_stopped(ctx.stop, poll_interval)
        elif pause:
            await sleep_unless_stopped(ctx.stop, pause)


async def store_batch(
    connector: BatchConnector[Any], ctx: ConnectorContext, batch: Batch[Any]
) -> StoreOutcome:
    """Store records, dead letters and the next checkpoint in one transaction.

    If the store fails for a reason other than an outage (a record the database refuses),
    the records are stored one by one and those that fail are dead-lettered, so one bad
    record cannot block a source forever."""
    try:
        async with ctx.engine.begin() as connection:
            outcome = await connector.store(connection, batch.records)
            await _finish(connection, connector, ctx, batch, outcome)
        outcome.rejects[:0] = batch.rejects
        return outcome
    except TRANSIENT:
        raise
    except sa_exc.DBAPIError as error:
        if error.connection_invalidated:
            raise
        log.warning("connector %s: batch refused (%s), storing one by one", ctx.name, error)
    outcome = StoreOutcome()
    for record in batch.records:
        outcome.merge(await _store_one(connector, ctx, record))
    async with ctx.engine.begin() as connection:
        await _finish(connection, connector, ctx, batch, StoreOutcome())
    outcome.rejects[:0] = batch.rejects
    return outcome


async def _store_one(
    connector: BatchConnector[Any], ctx: ConnectorContext, record: Any
) -> StoreOutcome:
    try:
        async with ctx.engine.begin() as connection:
            outcome = await connector.store(connection, [record])
            await dead_letter(connection, ctx.name, outcome.rejects)
            return outcome
    except TRANSIENT:
        raise
    except sa_exc.DBAPIError as error:
        if error.connection_invalidated:
            raise
        reject = Reject("store_failed", str(error.orig)[:1000], _raw(record), _locator(record))
    async with ctx.engine.begin() as connection:
        await dead_letter(connection, ctx.name, [reject])
    return StoreOutcome(rejects=[reject])


async def _finish(
    connection: Any,
    connector: BatchConnector[Any],
    ctx: ConnectorContext,
    batch: Batch[Any],
    outcome: StoreOutcome,
) -> None:
    rejects: Sequence[Reject] = [*batch.rejects, *outcome.rejects]
    await dead_letter(connection, ctx.name, rejects)
    await save_checkpoint(connection, ctx.name, connector.kind, batch.state)


def _raw(record: Any) -> bytes | str:
    raw = getattr(record, "raw", None)
    return raw if isinstance(raw, bytes | str) else repr(record)


def _locator(record: Any) -> str | None:
    locator = getattr(record, "locator", None)
    return locator if isinstance(locator, str) else None
