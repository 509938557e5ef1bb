"""Writing generated rows: bulk inserts in foreign-key order, then the id sequences."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from coalhub.models import Base
from coalhub.synthetic.context import Tables

Progress = Callable[[str, int, int], None]

TABLE_ORDER = (
    "district",
    "coal_product",
    "checkpoint",
    "enterprise",
    "site",
    "device",
    "vehicle",
    "driver",
    "contract",
    "booking",
    "weigh_record",
    "checkpoint_pass",
    "shipment",
    "trajectory_point",
    "quality_sample",
    "invoice",
    "invoice_line",
    "payment",
    "alert",
)
CHUNK_ROWS = 5_000


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


class Writer:
    def __init__(self, engine: AsyncEngine, progress: Progress) -> None:
        self.engine = engine
        self.progress = progress
        self.counts: dict[str, int] = dict.fromkeys(TABLE_ORDER, 0)

    async def require_empty(self) -> None:
        async with self.engine.connect() as conn:
            filled = [
                name
                for name in TABLE_ORDER
                if await conn.scalar(select(func.count()).select_from(_table(name)))
            ]
        if filled:
            raise ValueError(f"generate() needs empty tables; these hold rows: {filled}")

    async def write(self, step: str, tables: Tables) -> None:
        # One transaction per step; tables in foreign-key order, executemany in chunks.
        total = sum(len(rows) for rows in tables.values())
        done = 0
        async with self.engine.begin() as conn:
            for name in TABLE_ORDER:
                rows = tables.get(name, [])
                for start in range(0, len(rows), CHUNK_ROWS):
                    chunk = rows[start : start + CHUNK_ROWS]
                    await conn.execute(insert(_table(name)), chunk)
                    done += len(chunk)
                    self.progress(step, done, total)
                self.counts[name] += len(rows)

    async def advance_sequences(self) -> None:
        # Rows carry explicit ids; PostgreSQL's id sequences must continue after them.
        if self.engine.dialect.name != "postgresql":
            return
        async with self.engine.begin() as conn:
            for name in TABLE_ORDER:
                await _advance_sequence(conn, _table(name))


async def _advance_sequence(conn: AsyncConnection, table: Table) -> None:
    highest = select(func.max(table.c.id)).scalar_subquery()
    await conn.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"), highest)))
