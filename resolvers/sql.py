"""SQL built from the catalog: selected columns, path predicates, keyset pages.

Row filters of every kind (user filters, district and enterprise domains) become WHERE
clauses here; nothing is filtered in Python after fetching.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.sql.elements import Label

from coalhub.catalog import ENTITIES, Entity, Filter, FilterOp
from coalhub.errors import BadRequestError

# labels of the bookkeeping columns of grouped pages (no catalog column is named like this)
PARENT_KEY = "parent__key"
ROW_NUMBER = "row__number"


def selected_columns(entity: Entity) -> list[Label[Any]]:
    return [entity.sql(attribute).label(attribute) for attribute in entity.columns]


def _compare(column: ColumnElement[Any], op: FilterOp, value: Any) -> ColumnElement[bool]:
    comparison: ColumnElement[bool]
    if op == "eq":
        comparison = column == value
    elif op == "in":
        comparison = column.in_(list(value))
    elif op == "gte":
        comparison = column >= value
    elif op == "lt":
        comparison = column < value
    else:
        comparison = column.contains(str(value), autoescape=True)
    return comparison


def path_predicate(
    entity: Entity, path: Sequence[str], op: FilterOp, value: Any
) -> ColumnElement[bool]:
    """`path` follows relations and ends in a column; each hop is an IN (subquery)."""
    if len(path) == 1:
        return _compare(entity.column_sql(path[0]), op, value)
    relation = entity.relations[path[0]]
    target = ENTITIES[relation.target]
    inner = path_predicate(target, path[1:], op, value)
    return entity.column_sql(relation.local).in_(
        select(target.column_sql(relation.remote)).where(inner)
    )


def filter_predicates(entity: Entity, values: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    predicates = []
    for name, value in values.items():
        if value is None:
            continue
        declared: Filter = entity.filters[name]
        predicates.append(
            or_(*(path_predicate(entity, path, declared.op, value) for path in declared.paths))
        )
    return predicates


def any_of(predicates: Iterable[ColumnElement[bool]]) -> ColumnElement[bool]:
    predicates = list(predicates)
    return or_(*predicates) if predicates else false()


# --- keyset pagination -------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    first: int
    after: tuple[Any, ...] | None = None


def order_by(entity: Entity) -> list[ColumnElement[Any]]:
    ordering = entity.ordering
    keys = [entity.column_sql(ordering.column)]
    if ordering.column != "id":
        keys.append(entity.column_sql("id"))
    return [key.desc() if ordering.descending else key.asc() for key in keys]


def _key_values(entity: Entity, row: Mapping[Any, Any]) -> list[Any]:
    ordering = entity.ordering
    return [row["id"]] if ordering.column == "id" else [row[ordering.column], row["id"]]


def after_predicate(entity: Entity, after: tuple[Any, ...] | None) -> ColumnElement[bool]:
    if after is None:
        return true()
    ordering = entity.ordering
    descending = ordering.descending
    id_column = entity.column_sql("id")
    id_beyond: ColumnElement[bool] = id_column < after[-1] if descending else id_column > after[-1]
    if ordering.column == "id":
        return id_beyond
    column = entity.column_sql(ordering.column)
    beyond: ColumnElement[bool] = column < after[0] if descending else column > after[0]
    return or_(beyond, and_(column == after[0], id_beyond))


def encode_cursor(entity: Entity, row: Mapping[Any, Any]) -> str:
    values = [v.isoformat() if isinstance(v, date) else v for v in _key_values(entity, row)]
    raw = json.dumps([entity.name, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(entity: Entity, cursor: str) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, *values = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as error:
        raise BadRequestError("BAD_CURSOR", "the cursor is not one this API issued") from error
    expected = 1 if entity.ordering.column == "id" else 2
    if name != entity.name or len(values) != expected:
        raise BadRequestError("BAD_CURSOR", f"the cursor does not belong to {entity.name}")
    if expected == 2:
        values[0] = _parse_key(entity, values[0])
    return tuple(values)


def _parse_key(entity: Entity, value: Any) -> Any:
    python_type = entity.column_sql(entity.ordering.column).type.python_type
    try:
        if python_type is datetime:
            return datetime.fromisoformat(value)
        if python_type is date:
            return date.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise BadRequestError("BAD_CURSOR", "the cursor is damaged") from error
    return value


def page_statement(
    entity: Entity, where: Sequence[ColumnElement[bool]], window: Window
) -> Select[Any]:
    """One page plus one row to tell whether another page follows."""
    return (
        select(*selected_columns(entity))
        .where(*where, after_predicate(entity, window.after))
        .order_by(*order_by(entity))
        .limit(window.first + 1)
    )


def count_statement(entity: Entity, where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    return select(func.count()).select_from(entity.table).where(*where)


def grouped_page_statement(
    entity: Entity,
    parent_column: str,
    parent_ids: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
    window: Window,
) -> Select[Any]:
    """Pages for many parents in one statement: number the rows per parent, keep the first
    `first + 1` of each."""
    parent = entity.column_sql(parent_column)
    numbered = (
        select(
            *selected_columns(entity),
            parent.label(PARENT_KEY),
            func.row_number()
            .over(partition_by=parent, order_by=order_by(entity))
            .label(ROW_NUMBER),
        )
        .where(parent.in_(parent_ids), *where, after_predicate(entity, window.after))
        .subquery()
    )
    return (
        select(numbered)
        .where(numbered.c[ROW_NUMBER] <= window.first + 1)
        .order_by(numbered.c[PARENT_KEY], numbered.c[ROW_NUMBER])
    )


def grouped_count_statement(
    entity: Entity,
    parent_column: str,
    parent_ids: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
) -> Select[object, int]:
    parent = entity.column_sql(parent_column)
    return (
        select(parent.label(PARENT_KEY), func.count().label("n"))
        .where(parent.in_(parent_ids), *where)
        .group_by(parent)
    )
