"""The bridge's store-and-forward outbox: one SQLite file (WAL) per site.

A completed ticket is committed here before anything is sent, and leaves the pending
list only when the hub has acknowledged it (delivered) or refused it (dead letter, with
the hub's reason, never retried unless an operator asks). A ticket the hub fails on
while it takes others is deferred (tried again later, less and less often) so that it
cannot hold back the tickets behind it. Commits use
``synchronous=FULL``: a committed ticket survives SIGKILL and power loss alike.
First weighings waiting for their second live here too, so a restart loses neither.

The schema is the bridge's own, created by this module (``PRAGMA user_version`` 1).
"""

import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from coalhub.anpr import BEIJING
from device_bridge.session import CompletedWeighing, FirstWeighing, Weighing

SCHEMA_VERSION = 1
DEFER_FIRST = timedelta(seconds=30)
DEFER_MAX = timedelta(hours=6)
_SCHEMA = """
CREATE TABLE record (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    ticket_no TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before TEXT,
    settled_at TEXT,
    hub_id TEXT,
    reason TEXT,
    field TEXT,
    message TEXT
);
CREATE INDEX record_pending ON record (seq) WHERE state = 'pending';
CREATE TABLE open_weighing (
    id TEXT PRIMARY KEY,
    plate TEXT NOT NULL,
    colour TEXT NOT NULL,
    payload TEXT NOT NULL,
    UNIQUE (plate, colour)
);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Pending:
    key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Rejection:
    reason: str
    field: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    key: str
    ticket_no: str
    rejection: Rejection
    settled_at: str
    payload: dict[str, Any]


class Outbox:
    def __init__(
        self,
        path: Path,
        ticket_prefix: str = "T-",
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._prefix = ticket_prefix
        self._clock = clock
        # autocommit: every write below is its own explicit transaction
        self._db = sqlite3.connect(path, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._migrate()
        self._instance = self._meta("instance")

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version != 0:
            raise RuntimeError(f"{self.path}: outbox schema {version}, this bridge knows 1")
        self._db.executescript("BEGIN IMMEDIATE;" + _SCHEMA)  # stays open until COMMIT
        try:
            # tickets must stay unique even if this file is ever lost and started afresh
            instance = secrets.token_hex(2).upper()
            self._db.execute("INSERT INTO meta VALUES ('instance', ?)", (instance,))
            self._db.execute("INSERT INTO meta VALUES ('ticket_seq', '0')")
            self._db.execute("PRAGMA user_version = 1")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _transaction(self) -> "_Transaction":
        return _Transaction(self._db)

    def _meta(self, name: str) -> str:
        value: str = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()[
            0
        ]
        return value

    # ---- weighings ----

    def open_weighings(self) -> list[Weighing]:
        rows = self._db.execute("SELECT payload FROM open_weighing ORDER BY rowid")
        return [Weighing.from_json(payload) for (payload,) in rows]

    def save_first(self, event: FirstWeighing) -> None:
        weighing = event.weighing
        with self._transaction():
            if event.replaces is not None:
                self._db.execute("DELETE FROM open_weighing WHERE id = ?", (event.replaces,))
            self._db.execute(
                "INSERT OR REPLACE INTO open_weighing VALUES (?, ?, ?, ?)",
                (weighing.id, weighing.plate, weighing.colour.value, weighing.to_json()),
            )

    def add_ticket(self, ticket: CompletedWeighing, site_id: str) -> str:
        """Commit the ticket (and retire its first weighing); returns the ticket number."""
        with self._transaction():
            ticket_no = self._next_ticket_no(ticket.second.at)
            self._insert(ticket.key, ticket_no, ticket.record_input(site_id, ticket_no))
            self._db.execute("DELETE FROM open_weighing WHERE id = ?", (ticket.first.id,))
        return ticket_no

    def add(self, key: str, payload_for: Callable[[str], dict[str, Any]]) -> str:
        """Commit a record whose payload is built around its new ticket number."""
        with self._transaction():
            ticket_no = self._next_ticket_no(self._clock())
            self._insert(key, ticket_no, payload_for(ticket_no))
        return ticket_no

    def add_many(self, records: Iterable[tuple[str, Callable[[str], dict[str, Any]]]]) -> int:
        """Like :meth:`add` for many records in one commit (backfills and benchmarks)."""
        count = 0
        with self._transaction():
            for key, payload_for in records:
                ticket_no = self._next_ticket_no(self._clock())
                self._insert(key, ticket_no, payload_for(ticket_no))
                count += 1
        return count

    def _next_ticket_no(self, at: datetime) -> str:
        (seq,) = self._db.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'ticket_seq' "
            "RETURNING CAST(value AS INTEGER)"
        ).fetchone()
        day = at.astimezone(BEIJING).strftime("%Y%m%d")  # the site's calendar day
        return f"{self._prefix}{day}-{self._instance}-{seq:06d}"

    def _insert(self, key: str, ticket_no: str, payload: Mapping[str, Any]) -> None:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        self._db.execute(
            "INSERT INTO record (key, ticket_no, payload, created_at) VALUES (?, ?, ?, ?)",
            (key, ticket_no, text, _stamp(self._clock())),
        )

    # ---- delivery ----

    def pending(self, limit: int) -> list[Pending]:
        rows = self._db.execute(
            "SELECT key, payload FROM record WHERE state = 'pending' "
            "AND (not_before IS NULL OR not_before <= ?) ORDER BY seq LIMIT ?",
            (_stamp(self._clock()), limit),
        )
        return [Pending(key, json.loads(payload)) for key, payload in rows]

    def settle(
        self,
        delivered: Mapping[str, str | None],
        rejected: Mapping[str, Rejection],
        deferred: Mapping[str, str] | None = None,
    ) -> None:
        """Record the hub's answers: ``delivered`` maps keys to the hub's record ids,
        ``deferred`` keys to why they failed (each is tried again later)."""
        now = _stamp(self._clock())
        with self._transaction():
            for key, why in (deferred or {}).items():
                self._defer(key, why)
            self._db.executemany(
                "UPDATE record SET state = 'delivered', settled_at = ?, hub_id = ? "
                "WHERE key = ? AND state = 'pending'",
                [(now, hub_id, key) for key, hub_id in delivered.items()],
            )
            self._db.executemany(
                "UPDATE record SET state = 'dead', settled_at = ?, reason = ?, field = ?, "
                "message = ? WHERE key = ? AND state = 'pending'",
                [(now, r.reason, r.field, r.message, key) for key, r in rejected.items()],
            )

    def _defer(self, key: str, why: str) -> None:
        row = self._db.execute("SELECT attempts FROM record WHERE key = ?", (key,)).fetchone()
        attempts = (row[0] if row else 0) + 1
        delay = min(DEFER_FIRST * 2 ** (attempts - 1), DEFER_MAX)
        self._db.execute(
            "UPDATE record SET attempts = ?, not_before = ?, message = ? "
            "WHERE key = ? AND state = 'pending'",
            (attempts, _stamp(self._clock() + delay), why, key),
        )

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, count(*) FROM record GROUP BY state")
        return {"pending": 0, "delivered": 0, "dead": 0} | dict(rows.fetchall())

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = self._db.execute(
            "SELECT key, ticket_no, reason, field, message, settled_at, payload FROM record "
            "WHERE state = 'dead' ORDER BY seq DESC LIMIT ?",
            (limit,),
        )
        return [
            DeadLetter(key, ticket, Rejection(reason, field, message), at, json.loads(payload))
            for key, ticket, reason, field, message, at, payload in rows
        ]

    def retry_dead(self, keys: Iterable[str] | None = None) -> int:
        """Send dead letters again (after the hub's data was fixed): all, or these keys."""
        reset = "UPDATE record SET state = 'pending', settled_at = NULL, reason = NULL, "
        reset += "field = NULL, message = NULL, attempts = 0, not_before = NULL "
        reset += "WHERE state = 'dead'"
        with self._transaction():
            if keys is None:
                return self._db.execute(reset).rowcount
            return sum(self._db.execute(reset + " AND key = ?", (k,)).rowcount for k in keys)

    def prune_delivered(self, older_than: timedelta) -> int:
        cutoff = _stamp(self._clock() - older_than)
        with self._transaction():
            return self._db.execute(
                "DELETE FROM record WHERE state = 'delivered' AND settled_at < ?", (cutoff,)
            ).rowcount


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raised."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def _stamp(at: datetime) -> str:
    """UTC, fixed width: stamps compare as text."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
