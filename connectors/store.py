"""Idempotent writes shared by every connector: upserts, checkpoints and dead letters.

Every insert is `INSERT … ON CONFLICT` through the PostgreSQL or SQLite dialect, keyed by
a natural key (vehicle + time, invoice number, idempotency key), so a replayed batch
changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from coalhub.models.base import Base, utcnow
from coalhub.models.connector import ConnectorCheckpoint, DeadLetter
from connectors.base import JSONState, Reject

Row = Mapping[str, Any]

# both PostgreSQL (32767) and SQLite (32766) cap bind parameters per statement
_MAX_PARAMS = 30_000


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def dialect_insert(connection: AsyncConnection, table: Table) -> Any:
    """`insert(table)` of the connection's dialect, which knows `on_conflict_*`."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(rows: Sequence[Row], columns: int) -> list[Sequence[Row]]:
    size = max(1, _MAX_PARAMS // max(columns, 1))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


async def insert_ignore(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[Row],
    conflict: Sequence[str],
    returning: str = "id",
) -> list[Any]:
    """Insert rows that are new by `conflict` (empty: by any unique constraint); returns
    the `returning` values of the rows actually inserted (the others were duplicates)."""
    if not rows:
        return []
    base = dialect_insert(connection, table)
    ignoring = base.on_conflict_do_nothing(index_elements=list(conflict) if conflict else None)
    statement = ignoring.returning(table.c[returning])
    inserted: list[Any] = []
    for chunk in chunks(rows, len(rows[0])):
        # executemany with RETURNING: SQLAlchemy sends multi-row VALUES ("insertmanyvalues")
        result = await connection.execute(statement, list(chunk))
        inserted.extend(result.scalars().all())
    return inserted


async def upsert_changed(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[Row],
    conflict: Sequence[str],
    update: Sequence[str],
) -> int:
    """Insert, or update the `update` columns of the existing row where a new value differs.

    A null in `rows` keeps the stored value; a replay with the same values writes nothing.
    Returns how many rows were inserted or changed."""
    if not rows:
        return 0
    base = dialect_insert(connection, table)
    excluded = base.excluded
    values: dict[str, Any] = {name: func.coalesce(excluded[name], table.c[name]) for name in update}
    if "updated_at" in table.c:
        values["updated_at"] = utcnow()
    differs = or_(
        *(
            and_(excluded[name].is_not(None), table.c[name].is_distinct_from(excluded[name]))
            for name in update
        )
    )
    statement = base.on_conflict_do_update(
        index_elements=list(conflict), set_=values, where=differs
    ).returning(table.c[conflict[0]])
    count = 0
    for chunk in chunks(rows, len(rows[0])):
        result = await connection.execute(statement, list(chunk))
        count += len(result.all())
    return count


# ---- checkpoints ---------------------------------------------------------------------

_checkpoint = table_of(ConnectorCheckpoint)


async def load_checkpoint(connection: AsyncConnection, name: str) -> JSONState:
    state = await connection.scalar(select(_checkpoint.c.state).where(_checkpoint.c.name == name))
    return dict(state) if state else {}


async def save_checkpoint(
    connection: AsyncConnection, name: str, kind: str, state: JSONState
) -> None:
    statement = dialect_insert(connection, _checkpoint).values(
        name=name, kind=kind, state=state, updated_at=utcnow()
    )
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"state": statement.excluded.state, "updated_at": statement.excluded.updated_at},
    )
    await connection.execute(statement)


async def reset_checkpoint(connection: AsyncConnection, name: str) -> None:
    await connection.execute(_checkpoint.delete().where(_checkpoint.c.name == name))


# ---- dead letters --------------------------------------------------------------------

_dead_letter = table_of(DeadLetter)


async def dead_letter(
    connection: AsyncConnection, connector: str, rejects: Sequence[Reject]
) -> int:
    """Keep rejected records; the same record rejected again (a replay) is kept once."""
    if not rejects:
        return 0
    now = utcnow()
    rows = []
    for reject in rejects:
        payload, encoding = reject.encoded_payload()
        rows.append(
            {
                "connector": connector,
                "received_at": now,
                "reason": reject.reason[:32],
                "detail": reject.detail,
                "locator": None if reject.locator is None else reject.locator[:256],
                "payload": payload,
                "payload_encoding": encoding,
                "fingerprint": reject.fingerprint(),
            }
        )
    inserted = await insert_ignore(connection, _dead_letter, rows, ("connector", "fingerprint"))
    return len(inserted)


async def dead_letter_counts(connection: AsyncConnection, connector: str) -> dict[str, int]:
    """Rejected records by reason."""
    rows = await connection.execute(
        select(_dead_letter.c.reason, func.count())
        .where(_dead_letter.c.connector == connector)
        .group_by(_dead_letter.c.reason)
        .order_by(_dead_letter.c.reason)
    )
    return {reason: int(count) for reason, count in rows}
