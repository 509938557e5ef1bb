"""Shared pieces of the GraphQL surface: catalog-backed nodes, connections, relation fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import fields as dataclass_fields
from typing import Any, ClassVar, Generic, Self, TypeVar

import strawberry
from sqlalchemy import RowMapping
from strawberry import relay

from coalhub.catalog import Entity, entity
from coalhub.errors import BadRequestError
from resolvers.context import RequestContext
from resolvers.loaders import (
    RowPage,
    children_counts,
    children_pages,
    count_rows,
    fetch_page,
    rows_by_id,
)
from resolvers.sql import Window, decode_cursor, encode_cursor

Info = strawberry.Info[RequestContext, None]
NodeT = TypeVar("NodeT", bound="CatalogNode")


class CatalogNode(relay.Node):
    """A Relay node whose fields are the columns its catalog entity declares."""

    entity_name: ClassVar[str]

    @classmethod
    def entity(cls) -> Entity:
        return entity(cls.entity_name)

    @classmethod
    def from_row(cls, row: RowMapping) -> Self:
        return cls(**{name: row[name] for name in cls.entity().columns})

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        ids = [int(i) if i.isdigit() else -1 for i in node_ids]
        if not readable(info, cls):
            return [None for _ in ids]
        rows = await rows_by_id(info.context, cls.entity()).load_many(ids)
        info.context.count_rows(cls.entity_name, sum(row is not None for row in rows))
        return [None if row is None else cls.from_row(row) for row in rows]


def readable(info: Info, node: type[CatalogNode]) -> bool:
    """Whether the caller may read `node`'s type; if not, a FORBIDDEN entry says so."""
    if info.context.access.can_read_type(node.entity_name):
        return True
    info.context.deny(
        node.entity_name,
        info.path,
        f"无权访问 {node.entity_name} 数据 / not permitted to read {node.entity_name}",
    )
    return False


@strawberry.type(description="A page of a list, with keyset cursors (Relay connection).")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: relay.PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="The nodes of this page, without cursors.")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items match, over all pages.")
    async def total_count(self) -> int:
        return await self._count()


@strawberry.type(description="An item of a connection and its cursor.")
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


def window(info: Info, node: type[CatalogNode], first: int | None, after: str | None) -> Window:
    settings = info.context.settings
    limit = min(settings.max_page_size, info.context.access.max_page_size)
    size = settings.default_page_size if first is None else first
    if size < 0 or size > limit:
        raise BadRequestError(
            "PAGE_SIZE_EXCEEDED", f"first must be between 0 and {limit}", maximum=limit
        )
    cursor = None if after is None else decode_cursor(node.entity(), after)
    return Window(first=size, after=cursor)


def to_connection(
    node: type[NodeT], page: RowPage, count: Callable[[], Awaitable[int]]
) -> Connection[NodeT]:
    entity_ = node.entity()
    edges = [Edge(cursor=encode_cursor(entity_, row), node=node.from_row(row)) for row in page.rows]
    return Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count=count,
    )


async def root_connection(
    info: Info,
    node: type[NodeT],
    filters: Mapping[str, Any],
    first: int | None,
    after: str | None,
    *,
    check: bool = True,
) -> Connection[NodeT] | None:
    """`check=False` only where the caller narrowed `filters` to what it may see anyway."""
    ctx = info.context
    if check and not readable(info, node):
        return None
    page = await fetch_page(ctx, node.entity(), filters, window(info, node, first, after))
    ctx.count_rows(node.entity_name, len(page.rows))
    return to_connection(node, page, lambda: count_rows(ctx, node.entity(), filters))


async def child_connection(
    info: Info,
    parent: CatalogNode,
    relation_name: str,
    node: type[NodeT],
    filters: Mapping[str, Any],
    first: int | None,
    after: str | None,
) -> Connection[NodeT] | None:
    ctx = info.context
    if not readable(info, node):
        return None
    relation = parent.entity().relations[relation_name]
    key = getattr(parent, relation.local)
    target = node.entity()
    loader = children_pages(ctx, target, relation.remote, filters, window(info, node, first, after))
    page = await loader.load(key)
    ctx.count_rows(node.entity_name, len(page.rows))
    return to_connection(
        node, page, lambda: children_counts(ctx, target, relation.remote, filters).load(key)
    )


async def related(
    info: Info, parent: CatalogNode, relation_name: str, node: type[NodeT]
) -> NodeT | None:
    relation = parent.entity().relations[relation_name]
    key = getattr(parent, relation.local)
    if key is None or not readable(info, node):
        return None
    row = await rows_by_id(info.context, node.entity()).load(key)
    if row is None:
        return None
    info.context.count_rows(node.entity_name, 1)
    return node.from_row(row)


def filter_values(filter_input: object | None) -> dict[str, Any]:
    if filter_input is None:
        return {}
    return {
        f.name: _plain(getattr(filter_input, f.name))
        for f in dataclass_fields(filter_input)  # type: ignore[arg-type]
        if getattr(filter_input, f.name) is not None
    }


def _plain(value: Any) -> Any:
    if isinstance(value, relay.GlobalID):
        return int(value.node_id) if value.node_id.isdigit() else -1
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
