"""What every step of a generation run shares: the random stream, the scale, ids, rows."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from coalhub.synthetic.clock import DAY_S, to_datetime
from coalhub.synthetic.scale import Scale

Row = dict[str, Any]
Tables = dict[str, list[Row]]


class Keys:
    # Primary keys handed out in generation order, so foreign keys need no round trips.

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def next(self, table: str) -> int:
        self._last[table] = self._last.get(table, 0) + 1
        return self._last[table]


class PendingRows:
    # Rows generated and not yet written, by table, in the order they were made.

    def __init__(self) -> None:
        self._tables: Tables = {}

    def add(self, table: str, row: Row) -> None:
        self._tables.setdefault(table, []).append(row)

    def take(self) -> Tables:
        tables, self._tables = self._tables, {}
        return tables


@dataclass
class Context:
    rng: random.Random
    scale: Scale
    keys: Keys = field(default_factory=Keys)
    rows: PendingRows = field(default_factory=PendingRows)

    def registered_at(self) -> datetime:
        # the platform went live in 2023; registrations run up to a month before the data
        first = int(datetime(2023, 4, 1, tzinfo=UTC).timestamp())
        return to_datetime(self.rng.randrange(first, self.scale.start_ts - 30 * DAY_S))
