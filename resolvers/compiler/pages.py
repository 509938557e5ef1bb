"""The aggregate over one connection's page: edges, nodes, pageInfo, totalCount, and the
executor's cursors (resolvers/sql.encode_cursor) in SQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import FromClause, Integer, func, null, select

from resolvers.compiler.dialects import cat, lit
from resolvers.compiler.levels import ZERO, Expr, Output, Rows, total
from resolvers.compiler.plan import (
    ConnectionPlan,
    Cursor,
    Denied,
    Edges,
    Literal,
    Many,
    Node,
    Nodes,
    ObjectPlan,
    One,
    PageFlag,
    PageInfo,
    Scalar,
    TotalCount,
    ValueKind,
)
from resolvers.compiler.values import key_kind
from resolvers.sql import ROW_NUMBER

if TYPE_CHECKING:
    from resolvers.compiler.emit import Builder


class PageView:
    """The aggregate over one connection's page: edges, nodes, pageInfo, totalCount."""

    def __init__(
        self,
        builder: Builder,
        connection: ConnectionPlan,
        rows: Rows,
        outer: tuple[FromClause, ...],
        correlation: Callable[[FromClause], Expr] | None,
    ) -> None:
        self.builder = builder
        self.emitter = builder.emitter
        self.connection = connection
        self.rows = rows
        self.outer = outer
        self.correlation = correlation
        prefix = f"c{connection.index}_"
        self.first = builder.param(prefix + "first", Integer())
        self.rn = rows.outer(0, ROW_NUMBER)
        self.in_page = self.rn <= self.first
        self.stats = Output(null())

    def output(self) -> Output:
        entity = self.connection.entity
        pairs = [(key, self.field(value)) for key, value in self.connection.fields]
        counts: dict[str, list[Expr]] = {entity.name: [func.count().filter(self.in_page)]}
        for type_name, exprs in self.stats.counts.items():
            counts.setdefault(type_name, []).append(
                func.coalesce(func.sum(total(exprs)).filter(self.in_page), ZERO)
            )
        index = self.emitter.pad(self.rn - 1)
        paths: dict[str, Expr] = {
            subject: func.min(cat(index, expr)).filter(self.in_page)
            for subject, expr in self.stats.paths.items()
        }
        return Output(self.emitter.obj(pairs), counts, paths)

    def field(self, value: Any) -> Expr:
        if isinstance(value, Literal):
            return lit(value.value)
        if isinstance(value, TotalCount):
            return self.total_count()
        if isinstance(value, PageInfo):
            return self.emitter.obj([(k, self.page_flag(f)) for k, f in value.fields])
        if isinstance(value, Nodes):
            return self.emitter.agg(self.node(value.target), self.rn, self.in_page)
        assert isinstance(value, Edges)
        edge = self.emitter.obj([(k, self.edge_field(f)) for k, f in value.fields])
        return self.emitter.agg(edge, self.rn, self.in_page)

    def node(self, target: ObjectPlan) -> Expr:
        inner = self.builder.object_json(target, self.rows, 0)
        self.stats.merge(inner)
        return inner.j

    def edge_field(self, value: Any) -> Expr:
        if isinstance(value, Literal):
            return lit(value.value)
        if isinstance(value, Cursor):
            return self.cursor()
        assert isinstance(value, Node)
        return self.node(value.target)

    def page_flag(self, value: Any) -> Expr:
        if isinstance(value, Literal):
            return lit(value.value)
        assert isinstance(value, PageFlag)
        if value.name == "hasNextPage":
            return self.emitter.boolean(func.count() > self.first)
        if value.name == "hasPreviousPage":
            return self.emitter.constant(self.connection.arguments.after)
        ranked = cat(self.emitter.pad(self.rn), self.cursor())
        chosen = func.min if value.name == "startCursor" else func.max
        return func.substr(chosen(ranked).filter(self.in_page), 5)

    def cursor(self) -> Expr:
        """resolvers/sql.encode_cursor in SQL."""
        entity = self.connection.entity
        column = entity.ordering.column
        keys = (
            []
            if column == "id"
            else [self.emitter.key_text(self.rows.outer(0, column), key_kind(entity))]
        )
        keys.append(self.emitter.key_text(self.rows.outer(0, "id"), ValueKind("int")))
        parts: list[Expr] = [lit(f'["{entity.name}"')]
        for key in keys:
            parts += [lit(","), key]
        parts.append(lit("]"))
        return self.emitter.cursor(cat(*parts))

    def total_count(self) -> Expr:
        entity = self.connection.entity
        alias = entity.table.alias(self.builder.name("t"))
        where = self.builder.where(self.connection, alias, self.correlation)
        counted = select(func.count()).select_from(alias).where(*where).correlate(*self.outer)
        return counted.scalar_subquery()


def counts_only(connection: ConnectionPlan) -> bool:
    if connection.arguments.after:
        return False  # the page starts after the cursor: its size is not the count's
    return all(isinstance(value, TotalCount | Literal) for _, value in connection.fields)


def needed(connection: ConnectionPlan) -> list[str]:
    """The page's columns: what its objects show or follow, and the cursor's keys."""
    entity = connection.entity
    attributes = {"id", entity.ordering.column}
    for target in page_objects(connection):
        for _, value in target.fields:
            if isinstance(value, Scalar):
                attributes.add(value.attribute)
            elif isinstance(value, Denied) and value.foreign_key is not None:
                attributes.add(value.foreign_key)
            elif isinstance(value, One | Many):
                attributes.add(value.relation.local)
    return sorted(attributes)


def page_objects(connection: ConnectionPlan) -> Iterator[ObjectPlan]:
    for _, value in connection.fields:
        if isinstance(value, Nodes):
            yield value.target
        elif isinstance(value, Edges):
            for _, edge_field in value.fields:
                if isinstance(edge_field, Node):
                    yield edge_field.target
