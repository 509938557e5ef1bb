"""The sink of the position services (gateways, receivers): many sessions, few
transactions, and a future per submission that completes once its records are durable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from connectors.base import ConnectorContext, Reject
from connectors.positions import Bounds, PositionRecord, VehicleResolver, store_positions
from connectors.runner import TRANSIENT, RetryPolicy, sleep_unless_stopped
from connectors.store import dead_letter

log = logging.getLogger("coalhub.connectors")


@dataclass
class _Submission:
    records: Sequence[PositionRecord]
    rejects: Sequence[Reject]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class PositionWriter:
    """Batches positions from many sessions into few transactions (a service's sink).

    `submit` returns a future that completes once the records are durable (stored,
    duplicate or dead-lettered), so a gateway acknowledges only what it has kept. During a
    database outage the batch is retried with backoff and submitters wait (backpressure)."""

    def __init__(
        self,
        ctx: ConnectorContext,
        *,
        bounds: Bounds | None = None,
        max_batch: int = 5000,
        max_delay: float = 0.05,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._ctx = ctx
        self._bounds = bounds or Bounds()
        self._max_batch = max_batch
        self._max_delay = max_delay
        self._policy = policy or RetryPolicy(initial=0.2, maximum=10.0)
        self._queue: asyncio.Queue[_Submission | None] = asyncio.Queue(maxsize=1000)
        self._resolver = VehicleResolver()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PositionWriter:
        self._task = asyncio.create_task(self._run(), name=f"{self._ctx.name} writer")
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._queue.put(None)
        if self._task is not None:
            await self._task

    async def submit(
        self, records: Sequence[PositionRecord], rejects: Sequence[Reject] = ()
    ) -> asyncio.Future[None]:
        self._ctx.stats.received += len(records) + len(rejects)
        submission = _Submission(records, rejects)
        await self._queue.put(submission)
        return submission.done

    async def _run(self) -> None:
        closing = False
        while not closing:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            size = len(first.records) + len(first.rejects)
            deadline = asyncio.get_running_loop().time() + self._max_delay
            while size < self._max_batch:
                timeout = deadline - asyncio.get_running_loop().time()
                try:
                    item = (
                        self._queue.get_nowait()
                        if timeout <= 0
                        else await asyncio.wait_for(self._queue.get(), timeout)
                    )
                except (TimeoutError, asyncio.QueueEmpty):
                    break
                if item is None:
                    closing = True
                    break
                batch.append(item)
                size += len(item.records) + len(item.rejects)
            await self._write_with_retry(batch)

    async def _write_with_retry(self, batch: list[_Submission]) -> None:
        delay = self._policy.initial
        while True:
            try:
                await self._write(batch)
            except TRANSIENT as error:
                self._ctx.stats.errors += 1
                self._ctx.stats.last_error = f"{type(error).__name__}: {error}"[:500]
                log.warning("connector %s: cannot store positions: %s", self._ctx.name, error)
                if self._ctx.stop.is_set():
                    _fail(batch, error)
                    return
                await sleep_unless_stopped(self._ctx.stop, delay)
                delay = min(delay * self._policy.factor, self._policy.maximum)
            except Exception as error:
                log.exception("connector %s: positions lost", self._ctx.name)
                self._ctx.stats.errors += 1
                _fail(batch, error)
                return
            else:
                for submission in batch:
                    if not submission.done.done():
                        submission.done.set_result(None)
                return

    async def _write(self, batch: list[_Submission]) -> None:
        records = [record for submission in batch for record in submission.records]
        rejects = [reject for submission in batch for reject in submission.rejects]
        async with self._ctx.engine.begin() as connection:
            outcome, ids = await store_positions(connection, records, self._resolver, self._bounds)
            outcome.rejects[:0] = rejects
            await dead_letter(connection, self._ctx.name, outcome.rejects)
        self._resolver.learn(ids)
        self._ctx.stats.record(outcome)


def _fail(batch: list[_Submission], error: BaseException) -> None:
    for submission in batch:
        if not submission.done.done():
            submission.done.set_exception(error)
            # nobody may be waiting any more (the session closed): do not warn about it
            with contextlib.suppress(BaseException):
                submission.done.exception()
