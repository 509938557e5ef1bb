"""Forwarding the outbox to the hub in batches, until every ticket is settled.

A ticket leaves the pending list only on the hub's answer for it: ACCEPTED or DUPLICATE
(delivered before; the acknowledgement was lost) mark it delivered, REJECTED moves it to
the dead letters with the hub's reason. While the hub or the network is down, the same
batch is tried again after an exponential, jittered delay. If the hub refuses a whole
batch as malformed (a value its schema cannot take) or fails on it, the batch is halved
until the one ticket is found: a refused one is dead-lettered, one the hub fails on is
deferred (tried again later), so one bad ticket never blocks the rest. Only when nothing
of a batch goes through is the hub itself taken to be failing.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from random import Random

from device_bridge.backoff import Backoff, BackoffPolicy, jittered
from device_bridge.hub_client import HubClient, HubFailed, HubUnavailable, RequestRejected
from device_bridge.outbox import Outbox, Pending, Rejection

logger = logging.getLogger(__name__)


@dataclass
class UploaderCounters:
    requests: int = 0
    delivered: int = 0
    duplicates: int = 0  # delivered before: the hub had them already
    rejected: int = 0
    failures: int = 0  # attempts that found the hub unavailable
    deferred: int = 0  # tickets the hub failed on while it took others
    last_error: str | None = None
    last_delivery_at: float | None = None


@dataclass
class _Answers:
    delivered: dict[str, str | None] = field(default_factory=dict)
    rejected: dict[str, Rejection] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)
    last_failure: str = ""


class Uploader:
    def __init__(
        self,
        outbox: Outbox,
        client: HubClient,
        *,
        batch_size: int,
        backoff: BackoffPolicy,
        concurrency: int = 1,
        idle_seconds: float = 5.0,
        rng: Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.batch_size = batch_size
        self.concurrency = concurrency  # batches in flight at once (a hub with workers)
        self.counters = UploaderCounters()
        self._backoff = Backoff(backoff)
        self._idle_seconds = idle_seconds
        self._rng = rng or Random()  # noqa: S311 - jitter, not secrets
        self._clock = clock
        self._wake = asyncio.Event()
        self._failing = False

    def wake(self) -> None:
        """A ticket was committed: send it now rather than at the next idle check."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()  # a wake() from here on means: look again
            try:
                settled = await self.flush_once()
            except HubUnavailable as error:
                await self._back_off(error)
                continue
            if self._failing:
                logger.info("the hub answers again")
                self._failing = False
            self._backoff.reset()
            if settled == 0:
                await self._idle()

    async def flush_once(self) -> int:
        """Send the oldest pending tickets (``concurrency`` batches side by side);
        returns how many were answered."""
        pending = self.outbox.pending(self.batch_size * self.concurrency)
        if not pending:
            return 0
        answers = _Answers()
        size = self.batch_size
        batches = [pending[start : start + size] for start in range(0, len(pending), size)]
        sent = await asyncio.gather(
            *(self._send(batch, answers) for batch in batches), return_exceptions=True
        )
        # answers received are final even if another batch failed: keep them
        if answers.delivered or answers.rejected:
            self.outbox.settle(answers.delivered, answers.rejected, answers.deferred)
        for outcome in sent:
            if isinstance(outcome, BaseException):
                raise outcome
        if answers.deferred and not (answers.delivered or answers.rejected):
            # nothing went through: the hub is failing, not these tickets
            raise HubUnavailable(f"the hub fails every request: {answers.last_failure}")
        self.counters.deferred += len(answers.deferred)
        return len(answers.delivered) + len(answers.rejected) + len(answers.deferred)

    async def flush(self) -> None:
        """Send until nothing is pending (raises HubUnavailable if the hub goes away)."""
        while await self.flush_once():
            pass

    async def _send(self, batch: Sequence[Pending], answers: "_Answers") -> None:
        self.counters.requests += 1
        try:
            results = await self.client.ingest([item.payload for item in batch])
        except (RequestRejected, HubFailed) as error:
            if len(batch) > 1:  # find the ticket it is about by halving the batch
                middle = len(batch) // 2
                await self._send(batch[:middle], answers)
                await self._send(batch[middle:], answers)
                return
            key = batch[0].key
            if isinstance(error, RequestRejected):
                logger.error("the hub refuses ticket %s outright: %s", key, error)
                answers.rejected[key] = Rejection("request_rejected", None, str(error))
                self.counters.rejected += 1
            else:
                answers.deferred[key] = answers.last_failure = str(error)
            return
        self.counters.last_delivery_at = self._clock()
        for result in results:
            self._record(batch[result["index"]], result, answers.delivered, answers.rejected)

    def _record(
        self,
        item: Pending,
        result: dict[str, object],
        delivered: dict[str, str | None],
        rejected: dict[str, Rejection],
    ) -> None:
        status = result.get("status")
        if status in ("ACCEPTED", "DUPLICATE"):
            hub_id = result.get("weighRecordId")
            delivered[item.key] = hub_id if isinstance(hub_id, str) else None
            self.counters.delivered += 1
            self.counters.duplicates += status == "DUPLICATE"
        elif status == "REJECTED":
            rejection = Rejection(
                reason=str(result.get("reason") or "rejected"),
                field=_text(result.get("field")),
                message=_text(result.get("message")),
            )
            logger.warning("the hub rejected ticket %s: %s", item.key, rejection)
            rejected[item.key] = rejection
            self.counters.rejected += 1
        else:
            logger.error("unknown status %r for ticket %s: kept pending", status, item.key)

    async def _back_off(self, error: HubUnavailable) -> None:
        self.counters.failures += 1
        self.counters.last_error = str(error)
        # one warning per outage, not one per retry
        (logger.debug if self._failing else logger.warning)("hub unavailable: %s", error)
        self._failing = True
        await asyncio.sleep(jittered(self._backoff.next_delay(), self._rng))

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._idle_seconds)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
