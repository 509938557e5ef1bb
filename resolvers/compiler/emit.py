"""A plan becomes one SELECT whose columns are the response JSON of each root field, the
rows returned per type (for the audit trail) and where each FORBIDDEN entry arises.

Every connection is a keyset page of its table (the executor's own predicates: filters,
policy scope, cursor; row_number for order), aggregated into JSON. Objects of `one`
relations are LEFT JOINs with the target's scope in the ON clause; connections below a row
are correlated subqueries: LATERAL on PostgreSQL, a packed JSON array in a derived table on
SQLite (which has no LATERAL). Each level reports, besides its JSON, how many objects of each
type it holds and, per refused subject, the list indices of its first occurrence encoded as
4-digit groups (`min` of those strings is the executor's first occurrence).

    levels.py  the rows of one level and what a level reports up
    pages.py   the aggregate over a connection's page (edges, nodes, pageInfo, cursors)"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    FromClause,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.types import TypeEngine

from coalhub.catalog import ENTITIES, Entity
from policies.access import RowScope
from resolvers.compiler.dialects import Emitter, lit, masked
from resolvers.compiler.levels import ONE, ZERO, Expr, Level, Output, Rows, adapted
from resolvers.compiler.pages import PageView, counts_only, needed
from resolvers.compiler.plan import (
    ConnectionPlan,
    Denied,
    GlobalId,
    Literal,
    Many,
    ObjectField,
    ObjectPlan,
    One,
    Plan,
    RootConnection,
    RootNode,
    RootNodes,
    Scalar,
    TotalCount,
)
from resolvers.scope import scope_predicates
from resolvers.sql import ROW_NUMBER, after_predicate, filter_predicates, order_by


@dataclass(frozen=True)
class RootLayout:
    """Where a root field's values are in the statement's one row."""

    key: str
    item: int | None  # the position in nodes(ids:)
    json: int
    counts: tuple[tuple[int, str], ...]
    paths: tuple[tuple[int, str], ...]


class Builder:
    def __init__(self, emitter: Emitter, scope: RowScope) -> None:
        self.emitter = emitter
        self.scope = scope
        self._names = itertools.count()
        self._params: dict[str, BindParameter[Any]] = {}

    def name(self, prefix: str) -> str:
        return f"{prefix}{next(self._names)}"

    def param(self, name: str, type_: TypeEngine[Any]) -> BindParameter[Any]:
        if name not in self._params:
            self._params[name] = bindparam(name, value=None, type_=type_)
        return self._params[name]

    # --- the statement ---------------------------------------------------------------------

    def statement(self, plan: Plan) -> tuple[Select[Any], tuple[RootLayout, ...]]:
        """One row: per root position its JSON (text), counts and first-occurrence paths."""
        self._from: FromClause = select(ONE.label("one")).subquery("base")
        self._columns: list[Expr] = []
        layouts = []
        for key, root in plan.roots:
            if isinstance(root, RootConnection):
                layouts.append(self.root(key, None, self.connection(root.connection, (), None)))
            elif isinstance(root, RootNode):
                layouts.append(self.root(key, None, self.node(root)))
            elif isinstance(root, RootNodes):
                for n, item in enumerate(root.items):
                    if isinstance(item, RootNode):
                        layouts.append(self.root(key, n, self.node(item)))
        return select(*self._columns).select_from(self._from), tuple(layouts)

    def root(self, key: str, item: int | None, level: Level) -> RootLayout:
        labelled = [c.label(f"x{n}") for n, c in enumerate(level.columns())]
        sub = select(*labelled).select_from(level.from_).where(*level.where)
        derived = sub.subquery(self.name("r"))
        self._from = self._from.outerjoin(derived, true())
        picked = [derived.c[f"x{n}"] for n in range(len(labelled))]
        start = len(self._columns)
        self._columns += [self.emitter.text(picked[0]), *picked[1:]]
        n = len(level.types)
        return RootLayout(
            key,
            item,
            start,
            tuple((start + 1 + k, t) for k, t in enumerate(level.types)),
            tuple((start + 1 + n + k, s) for k, s in enumerate(level.subjects)),
        )

    # --- positions -------------------------------------------------------------------------

    def node(self, root: RootNode) -> Level:
        entity = root.target.entity
        alias = entity.table.alias(self.name("t"))
        rows = Rows(self, alias, lambda attribute: adapted(alias, entity.sql(attribute)))
        output = self.object_json(root.target, rows, 0)
        output.counts.setdefault(entity.name, []).append(ONE)
        where = [
            adapted(alias, entity.column_sql("id"))
            == self.param(f"n{root.index}_id", BigInteger()),
            *(adapted(alias, p) for p in scope_predicates(entity, self.scope)),
        ]
        from_, outer_where = rows.finish(None, where)
        return Level(output, from_, outer_where)

    def connection(
        self,
        connection: ConnectionPlan,
        outer: tuple[FromClause, ...],
        correlation: Callable[[FromClause], Expr] | None,
    ) -> Level:
        if counts_only(connection):
            return self.count(connection, outer, correlation)
        entity = connection.entity
        prefix = f"c{connection.index}_"
        alias = entity.table.alias(self.name("t"))
        ordering = [adapted(alias, key) for key in order_by(entity)]
        page = (
            select(
                *(adapted(alias, entity.sql(a)).label(a) for a in needed(connection)),
                func.row_number().over(order_by=ordering).label(ROW_NUMBER),
            )
            .where(*self.where(connection, alias, correlation), self.after(connection, alias))
            .order_by(*ordering)
            .limit(self.param(prefix + "limit", Integer()))
            .correlate(*outer)
            .subquery(self.name("p"))
        )
        rows = Rows(self, page, lambda attribute: page.c[attribute])
        page_view = PageView(self, connection, rows, outer, correlation)
        output = page_view.output()
        if correlation is None:  # a root field: its resolver runs once (below: per parent)
            output.counts["@" + entity.name] = [ONE]
        from_, _ = rows.finish(page.c[ROW_NUMBER])
        return Level(output, from_)

    def count(
        self,
        connection: ConnectionPlan,
        outer: tuple[FromClause, ...],
        correlation: Callable[[FromClause], Expr] | None,
    ) -> Level:
        """A connection asked only for totalCount (and __typename): one count, no page. Its
        page would hold min(first, count) rows, which is what the executor counts."""
        entity = connection.entity
        alias = entity.table.alias(self.name("t"))
        where = self.where(connection, alias, correlation)
        counted = (
            select(func.count().label("n"))
            .select_from(alias)
            .where(*where)
            .correlate(*outer)
            .subquery(self.name("k"))
        )
        n = counted.c.n
        pairs = [
            (key, n if isinstance(value, TotalCount) else lit(value.value))
            for key, value in connection.fields
            if isinstance(value, TotalCount | Literal)
        ]
        first = self.param(f"c{connection.index}_first", Integer())
        output = Output(self.emitter.obj(pairs), {entity.name: [self.emitter.least(n, first)]})
        if correlation is None:
            output.counts["@" + entity.name] = [ONE]
        return Level(output, counted)

    def where(
        self,
        connection: ConnectionPlan,
        alias: FromClause,
        correlation: Callable[[FromClause], Expr] | None,
    ) -> list[Expr]:
        entity = connection.entity
        prefix = f"c{connection.index}_f_"
        values: dict[str, Any] = {}
        predicates: list[Expr] = []
        for name, length in connection.arguments.filters:
            declared = entity.filters[name]
            type_ = leaf_type(entity, declared.paths[0])
            if declared.op == "contains":
                value = self.param(prefix + name, type_)
                predicates.append(or_(*(contains(entity, p, value) for p in declared.paths)))
            elif length >= 0:
                values[name] = [self.param(f"{prefix}{name}_{n}", type_) for n in range(length)]
            else:
                values[name] = self.param(prefix + name, type_)
        predicates += filter_predicates(entity, values)
        predicates += scope_predicates(entity, self.scope)
        found = [adapted(alias, p) for p in predicates]
        return found if correlation is None else [correlation(alias), *found]

    def after(self, connection: ConnectionPlan, alias: FromClause) -> Expr:
        if not connection.arguments.after:
            return true()
        entity = connection.entity
        columns = [entity.ordering.column, "id"] if entity.ordering.column != "id" else ["id"]
        keys = tuple(
            self.param(f"c{connection.index}_after{n}", entity.column_sql(c).type)
            for n, c in enumerate(columns)
        )
        return adapted(alias, after_predicate(entity, keys))

    # --- objects ---------------------------------------------------------------------------

    def object_json(self, plan: ObjectPlan, rows: Rows, ref: int) -> Output:
        output = Output(null())
        pairs = [(key, self.object_field(value, rows, ref, output)) for key, value in plan.fields]
        output.j = self.emitter.obj(pairs)
        return output

    def object_field(self, value: ObjectField, rows: Rows, ref: int, output: Output) -> Expr:
        """One field's value; its counts and refused subjects go to `output`."""
        if isinstance(value, Literal):
            return lit(value.value)
        if isinstance(value, GlobalId):
            return self.emitter.global_id(value.type_name, rows.outer(ref, "id"))
        if isinstance(value, Scalar):
            shown = self.emitter.value(rows.outer(ref, value.attribute), value.kind)
            return shown if value.mask is None else masked(self.emitter, shown, value.mask)
        if isinstance(value, Denied):
            output.paths[value.site.subject] = self.refused_at(value, rows, ref)
            return null()
        if isinstance(value, One):
            return self.one(value, rows, ref, output)
        inner = self.many(value, rows, ref)
        exists = rows.exists(ref)
        ran = ONE if exists is None else case((exists, ONE), else_=ZERO)
        output.counts.setdefault("@" + value.relation.target, []).append(ran)
        output.merge(inner)
        return inner.j

    def refused_at(self, value: Denied, rows: Rows, ref: int) -> Expr:
        """'' where the resolver refuses (the object is there; for a `one` relation, its
        key is set), else NULL."""
        trigger = rows.exists(ref)
        if value.foreign_key is not None:
            present = rows.outer(ref, value.foreign_key).is_not(None)
            trigger = present if trigger is None else and_(trigger, present)
        return lit("") if trigger is None else case((trigger, lit("")))

    def one(self, value: One, rows: Rows, ref: int, output: Output) -> Expr:
        relation = value.relation
        target = ENTITIES[relation.target]
        child = rows.join_one(ref, relation.local, target, relation.remote)
        inner = self.object_json(value.target, rows, child)
        present = rows.exists(child)
        assert present is not None
        output.counts.setdefault(target.name, []).append(case((present, ONE), else_=ZERO))
        output.merge(inner)
        return case((present, inner.j))

    def many(self, value: Many, rows: Rows, ref: int) -> Output:
        relation = value.relation
        target = ENTITIES[relation.target]
        local = rows.direct(ref, relation.local)

        def correlation(alias: FromClause) -> Expr:
            return adapted(alias, target.column_sql(relation.remote)) == local

        return rows.child(value.connection, correlation)


def leaf_type(entity: Entity, path: Sequence[str]) -> TypeEngine[Any]:
    current = entity
    for hop in path[:-1]:
        current = ENTITIES[current.relations[hop].target]
    return current.column_sql(path[-1]).type


def contains(entity: Entity, path: Sequence[str], value: BindParameter[Any]) -> Expr:
    """resolvers/sql.path_predicate for `contains`, with the escaped value bound per request
    (SQLAlchemy escapes a literal itself, which a statement cache cannot keep)."""
    if len(path) == 1:
        return entity.column_sql(path[0]).contains(value, escape="/")
    relation = entity.relations[path[0]]
    target = ENTITIES[relation.target]
    inner = contains(target, path[1:], value)
    return entity.column_sql(relation.local).in_(
        select(target.column_sql(relation.remote)).where(inner)
    )
