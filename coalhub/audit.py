"""The audit trail: every request appended as a hash-chained event, off the request path.

Requests hand their event to an in-process queue; one writer task per process appends
batches in order. Each event stores the previous event's hash, so altering or deleting any
row breaks the chain from there on. Across workers the chain stays strictly ordered: on
PostgreSQL a transaction-scoped advisory lock serialises the appenders; on SQLite the
database allows one writer, and a lost race on the unique `seq` is retried.

What a crash can lose: events still in the queue, at most `flush_interval` seconds (0.2 s
by default) of requests of the crashed process. A clean shutdown drains the queue."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from coalhub.models import AuditEvent

log = logging.getLogger("coalhub.audit")
GENESIS = "0" * 64
_ADVISORY_KEY = 0x636F616C  # "coal"


@dataclass(frozen=True)
class AuditRecord:
    occurred_at: datetime
    client_id: str | None
    department: str | None
    user_id: str | None
    purpose: str | None
    operation_name: str | None
    document_sha256: str | None
    variables_sha256: str | None
    fields: list[str]
    row_counts: dict[str, int]
    denials: list[str]
    duration_ms: float
    result: str


def sha256_text(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def sha256_json(value: Any) -> str:
    return sha256_text(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str))


def _fields(record: AuditRecord) -> dict[str, Any]:
    """The record's fields as stored and hashed. A shallow copy (`asdict` deep-copies, a
    fifth of the writer's time): a record's lists and dicts are not changed once recorded."""
    return dict(vars(record))


def event_hash(prev_hash: str, seq: int, record: AuditRecord) -> str:
    body = _fields(record) | {"seq": seq, "occurred_at": record.occurred_at.isoformat()}
    return sha256_text(prev_hash + json.dumps(body, sort_keys=True, ensure_ascii=False))


async def _last(connection: AsyncConnection) -> tuple[int, str]:
    statement = select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    row = (await connection.execute(statement)).first()
    return (0, GENESIS) if row is None else (int(row.seq), str(row.hash))


async def append(engine: AsyncEngine, records: Sequence[AuditRecord]) -> None:
    """Append in order, chained to the newest event in the database."""
    for attempt in range(5):
        try:
            async with engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    await connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY}
                    )
                seq, prev = await _last(connection)
                rows = []
                for record in records:
                    seq += 1
                    digest = event_hash(prev, seq, record)
                    rows.append(_fields(record) | {"seq": seq, "prev_hash": prev, "hash": digest})
                    prev = digest
                await connection.execute(insert(AuditEvent), rows)
            return
        except (IntegrityError, OperationalError):
            # SQLite: another writer committed between our read of the chain's end and our
            # insert (a unique seq clash, or SQLITE_BUSY on the lock upgrade): chain onto it
            if attempt == 4:
                raise
            await asyncio.sleep(0.02 * (attempt + 1))


@dataclass(frozen=True)
class Broken:
    seq: int
    reason: str  # "altered", "missing", "relinked"


async def verify(engine: AsyncEngine, batch: int = 5000) -> tuple[int, Broken | None]:
    """Walk the chain; return how many events checked out and the first broken one."""
    expected_seq, prev, checked = 1, GENESIS, 0
    async with engine.connect() as connection:
        result = await connection.stream(select(AuditEvent).order_by(AuditEvent.seq))
        async for row in result.mappings():
            if row["seq"] != expected_seq:
                return checked, Broken(expected_seq, "missing")
            if row["prev_hash"] != prev:
                return checked, Broken(row["seq"], "relinked")
            record = AuditRecord(**{k: row[k] for k in AuditRecord.__dataclass_fields__})
            if event_hash(prev, row["seq"], record) != row["hash"]:
                return checked, Broken(row["seq"], "altered")
            prev, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1
    return checked, None


class AuditLog:
    """The per-process queue and its writer task."""

    def __init__(
        self, engine: AsyncEngine, *, flush_interval: float = 0.2, max_batch: int = 500
    ) -> None:
        self._engine = engine
        self._flush_interval = flush_interval
        self._max_batch = max_batch
        self._queue: asyncio.Queue[AuditRecord] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._pending: list[AuditRecord] = []
        self._flushing = asyncio.Lock()

    def record(self, event: AuditRecord) -> None:
        self._queue.put_nowait(event)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def flush(self) -> None:
        # one flush at a time (the writer task and a shutdown may both ask); a failed batch
        # stays pending and goes first next time, so the order never changes
        async with self._flushing:
            while self._pending or not self._queue.empty():
                while not self._queue.empty() and len(self._pending) < self._max_batch:
                    self._pending.append(self._queue.get_nowait())
                await append(self._engine, self._pending)
                self._pending = []

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            try:
                await self.flush()
            except Exception:  # the next flush retries; requests are never failed by audit
                log.exception("audit flush failed; will retry")
