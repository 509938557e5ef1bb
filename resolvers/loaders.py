"""Per-request DataLoaders: every relation is fetched in one statement per page of parents.

Loaders are keyed by what changes the SQL (entity, parent column, filters, window), so one
GraphQL field over a page of parents costs one statement, whatever the page size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, select
from strawberry.dataloader import DataLoader

from coalhub.catalog import Entity
from resolvers.context import RequestContext
from resolvers.sql import (
    PARENT_KEY,
    Window,
    count_statement,
    filter_predicates,
    grouped_count_statement,
    grouped_page_statement,
    page_statement,
    selected_columns,
)


@dataclass(frozen=True)
class RowPage:
    rows: list[RowMapping]
    has_next: bool
    has_previous: bool


def _freeze(values: Mapping[str, Any]) -> Hashable:
    return tuple(
        sorted(
            (k, tuple(v) if isinstance(v, list) else v) for k, v in values.items() if v is not None
        )
    )


def _loader(ctx: RequestContext, key: Hashable, build: Any) -> Any:
    loader = ctx.loaders.get(key)
    if loader is None:
        loader = ctx.loaders[key] = build()
    return loader


def rows_by_id(ctx: RequestContext, entity: Entity) -> DataLoader[int, RowMapping | None]:
    async def load(ids: Sequence[int]) -> list[RowMapping | None]:
        statement = select(*selected_columns(entity)).where(
            entity.column_sql("id").in_(ids), *ctx.readable(entity)
        )
        found = {row["id"]: row for row in (await ctx.execute(statement)).mappings()}
        return [found.get(i) for i in ids]

    return _loader(ctx, ("by_id", entity.name), lambda: DataLoader(load_fn=load))  # type: ignore[no-any-return]


def _where(
    ctx: RequestContext, entity: Entity, filters: Mapping[str, Any]
) -> list[ColumnElement[bool]]:
    return [*filter_predicates(entity, filters), *ctx.readable(entity)]


async def fetch_page(
    ctx: RequestContext, entity: Entity, filters: Mapping[str, Any], window: Window
) -> RowPage:
    statement = page_statement(entity, _where(ctx, entity, filters), window)
    rows = list((await ctx.execute(statement)).mappings())
    return RowPage(rows[: window.first], len(rows) > window.first, window.after is not None)


async def count_rows(ctx: RequestContext, entity: Entity, filters: Mapping[str, Any]) -> int:
    result = await ctx.execute(count_statement(entity, _where(ctx, entity, filters)))
    return int(result.scalar_one())


def children_pages(
    ctx: RequestContext,
    entity: Entity,
    parent_column: str,
    filters: Mapping[str, Any],
    window: Window,
) -> DataLoader[Any, RowPage]:
    async def load(parent_ids: Sequence[Any]) -> list[RowPage]:
        where = _where(ctx, entity, filters)
        statement = grouped_page_statement(entity, parent_column, parent_ids, where, window)
        grouped: dict[Any, list[RowMapping]] = defaultdict(list)
        for row in (await ctx.execute(statement)).mappings():
            grouped[row[PARENT_KEY]].append(row)
        return [
            RowPage(
                grouped[p][: window.first],
                len(grouped[p]) > window.first,
                window.after is not None,
            )
            for p in parent_ids
        ]

    key = ("children", entity.name, parent_column, _freeze(filters), window)
    return _loader(ctx, key, lambda: DataLoader(load_fn=load))  # type: ignore[no-any-return]


def children_counts(
    ctx: RequestContext, entity: Entity, parent_column: str, filters: Mapping[str, Any]
) -> DataLoader[Any, int]:
    async def load(parent_ids: Sequence[Any]) -> list[int]:
        where = _where(ctx, entity, filters)
        statement = grouped_count_statement(entity, parent_column, parent_ids, where)
        counts = {row[PARENT_KEY]: row["n"] for row in (await ctx.execute(statement)).mappings()}
        return [int(counts.get(p, 0)) for p in parent_ids]

    key = ("counts", entity.name, parent_column, _freeze(filters))
    return _loader(ctx, key, lambda: DataLoader(load_fn=load))  # type: ignore[no-any-return]
