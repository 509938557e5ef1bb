"""The one small contract every connector meets, and the values a runner hands around.

A connector is a *service* (`run(ctx)`: a TCP gateway; it lives until `ctx.stop` is
set), a *batch source* (`fetch(state)` then `store(connection, records)`: files, pull
APIs), or a *push receiver* (`routes(...)`: HTTP endpoints the hub mounts, e.g. camera
pushes). The runner (connectors.runner) gives services and batch sources a persisted
checkpoint, retries with backoff, dead letters and counters.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.routing import BaseRoute

from coalhub.models.base import utcnow
from coalhub.models.connector import PayloadEncoding

JSONState = dict[str, Any]
R = TypeVar("R")


class ConnectorUnavailableError(Exception):
    """The outside system cannot be reached now (refused, timed out, 5xx): try again later."""


class ConnectorConfigError(ValueError):
    """The connectors' TOML configuration is unusable; the message names the setting."""


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that will not be stored: it goes to the dead-letter table as it came."""

    reason: str  # stable code: bad_checksum, impossible_coordinates, unknown_product, ...
    detail: str
    payload: bytes | str  # bytes are kept as base64, text as is
    # where it came from: file and line, terminal, API; with the payload it identifies the
    # record, so keep it stable across replays (no page cursors, no client ports)
    locator: str | None = None

    def encoded_payload(self) -> tuple[str, PayloadEncoding]:
        if isinstance(self.payload, bytes):
            return base64.b64encode(self.payload).decode("ascii"), PayloadEncoding.BASE64
        # PostgreSQL text cannot hold NUL
        return self.payload.replace("\x00", "\\x00"), PayloadEncoding.TEXT

    def fingerprint(self) -> str:
        raw = self.payload if isinstance(self.payload, bytes) else self.payload.encode()
        digest = hashlib.sha256()
        for part in (self.reason.encode(), (self.locator or "").encode(), raw):
            digest.update(len(part).to_bytes(8, "big") + part)
        return digest.hexdigest()


@dataclass(slots=True)
class ConnectorStats:
    """Counters for monitoring; `as_dict()` is what an operator endpoint would print."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    skipped: int = 0  # understood but not stored on purpose (unpositioned fixes, other msgs)
    errors: int = 0  # outages and failures the runner retried
    last_error: str | None = None
    last_success_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        if self.last_success_at is not None:
            values["last_success_at"] = self.last_success_at.isoformat()
        return values

    def record(self, outcome: StoreOutcome) -> None:
        self.stored += outcome.stored
        self.duplicates += outcome.duplicates
        self.dead_lettered += len(outcome.rejects)
        self.skipped += outcome.skipped
        self.last_success_at = utcnow()


@dataclass(slots=True)
class StoreOutcome:
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    rejects: list[Reject] = field(default_factory=list)

    def merge(self, other: StoreOutcome) -> StoreOutcome:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.skipped += other.skipped
        self.rejects.extend(other.rejects)
        return self


@dataclass(frozen=True, slots=True)
class Batch(Generic[R]):
    """What one fetch returned: records to store, records already rejected while parsing,
    and the checkpoint state that holds once both are stored."""

    records: Sequence[R]
    rejects: Sequence[Reject]
    state: JSONState
    done: bool  # nothing more to fetch for now
    # progress for a foreground run: (done, total) in the source's own unit (bytes, pages)
    progress: tuple[int, int | None] | None = None


Progress = Callable[[int, int | None], None]


@dataclass
class ConnectorContext:
    """What the runner gives a connector."""

    name: str
    kind: str
    engine: AsyncEngine
    stats: ConnectorStats
    stop: asyncio.Event
    progress: Progress | None = None
    # set by a service once it listens, so callers (tests, the CLI) can learn its address
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    bound: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Connector(Protocol):
    """A long-running connector: serves until `ctx.stop` is set."""

    name: str
    kind: str

    async def run(self, ctx: ConnectorContext) -> None: ...


@runtime_checkable
class PushConnector(Protocol):
    """A connector the outside system pushes to over HTTP: the hub mounts its routes."""

    name: str
    kind: str

    def routes(self, engine: AsyncEngine, stats: ConnectorStats) -> list[BaseRoute]: ...


@runtime_checkable
class BatchConnector(Protocol[R]):
    """A connector that reads in batches from where its checkpoint says it stopped.

    `fetch` must not write; `store` runs inside the transaction that also saves the
    batch's checkpoint and dead letters, and must be idempotent (a replay stores nothing).
    """

    name: str
    kind: str

    async def fetch(self, state: JSONState) -> Batch[R]: ...

    async def store(self, connection: AsyncConnection, records: Sequence[R]) -> StoreOutcome: ...
