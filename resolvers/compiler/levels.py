"""The levels of a compiled statement: a position's rows (its page or node row, the `one`
relations joined to it, the connections correlated to it) and what each level reports up:
its JSON, the objects it holds per type, and where refused subjects first occur."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, FromClause, and_, func, literal_column, select, true
from sqlalchemy.sql.util import ClauseAdapter

from coalhub.catalog import Entity
from resolvers.compiler.dialects import lit
from resolvers.compiler.plan import ConnectionPlan
from resolvers.scope import scope_predicates

if TYPE_CHECKING:
    from resolvers.compiler.emit import Builder

Expr = ColumnElement[Any]
# written into the SQL, not parameters
ZERO: Expr = literal_column("0")
ONE: Expr = literal_column("1")


def adapted(alias: FromClause, expr: Expr) -> Expr:
    """An expression the catalog wrote against a table, moved onto an alias of it."""
    result: Expr = ClauseAdapter(alias).traverse(expr)
    return result


@dataclass
class Output:
    """A position's JSON with, per type, the objects it holds and, per refused subject, the
    encoded path of its first occurrence (SQL NULL: none)."""

    j: Expr
    counts: dict[str, list[Expr]] = field(default_factory=dict)
    paths: dict[str, Expr] = field(default_factory=dict)

    def merge(self, other: Output) -> None:
        for type_name, exprs in other.counts.items():
            self.counts.setdefault(type_name, []).extend(exprs)
        self.paths.update(other.paths)


def total(exprs: Sequence[Expr]) -> Expr:
    summed = exprs[0]
    for expr in exprs[1:]:
        summed = summed + expr
    return summed


class Rows:
    """One level of rows: the base (a connection's page, or a node's row), the `one`
    relations joined to it, and the connections below it."""

    def __init__(self, builder: Builder, base: FromClause, columns: Callable[[str], Expr]):
        self.builder = builder
        self.emitter = builder.emitter
        self.from_: FromClause = base
        self.froms: list[FromClause] = [base]
        self.sources: list[tuple[Entity | None, FromClause | None]] = [(None, None)]
        self.base_columns = columns
        self.qname = builder.name("q")
        self.proxied: dict[tuple[int, str], tuple[str, Expr]] = {}

    @property
    def sqlite(self) -> bool:
        return self.emitter.name == "sqlite"

    def direct(self, ref: int, attribute: str) -> Expr:
        """A column of an object of this level, as the level's FROM sees it."""
        entity, alias = self.sources[ref]
        if entity is None or alias is None:
            return self.base_columns(attribute)
        return adapted(alias, entity.sql(attribute))

    def outer(self, ref: int, attribute: str) -> Expr:
        """The same column as the level's aggregate sees it (SQLite: through the derived
        table that evaluates each correlated subquery once)."""
        if not self.sqlite:
            return self.direct(ref, attribute)
        return self._proxy((ref, attribute), lambda: self.direct(ref, attribute))

    def _proxy(self, key: tuple[int, str], build: Callable[[], Expr]) -> Expr:
        if key not in self.proxied:
            self.proxied[key] = (f"v{len(self.proxied)}", build())
        return literal_column(f"{self.qname}.{self.proxied[key][0]}")

    def exists(self, ref: int) -> Expr | None:
        """Whether the object is there (None: always, the level's own row)."""
        return None if ref == 0 else self.outer(ref, "id").is_not(None)

    def join_one(self, ref: int, relation_local: str, target: Entity, remote: str) -> int:
        alias = target.table.alias(self.builder.name("t"))
        on = [
            adapted(alias, target.column_sql(remote)) == self.direct(ref, relation_local),
            *(adapted(alias, p) for p in scope_predicates(target, self.builder.scope)),
        ]
        self.from_ = self.from_.outerjoin(alias, and_(*on))
        self.froms.append(alias)
        self.sources.append((target, alias))
        return len(self.sources) - 1

    def child(
        self, connection: ConnectionPlan, correlation: Callable[[FromClause], Expr]
    ) -> Output:
        level = self.builder.connection(connection, tuple(self.froms), correlation)
        columns = level.columns()
        if not self.sqlite:
            lateral = (
                select(*(c.label(f"x{n}") for n, c in enumerate(columns)))
                .select_from(level.from_)
                .lateral(self.builder.name("l"))
            )
            self.from_ = self.from_.outerjoin(lateral, true())
            return level.unpack([lateral.c[f"x{n}"] for n in range(len(columns))])
        packed = select(func.json_array(*columns)).select_from(level.from_).scalar_subquery()
        name = self._proxy((-len(self.proxied) - 1, "child"), lambda: packed)
        picked: list[Expr] = [name.op("->")(lit("$[0]"))]
        picked += [name.op("->>")(lit(f"$[{n}]")) for n in range(1, len(columns))]
        return level.unpack(picked)

    def finish(
        self, order: Expr | None, where: Sequence[Expr] = ()
    ) -> tuple[FromClause, Sequence[Expr]]:
        """The FROM of the level's aggregate, and the WHERE it still needs."""
        if not self.sqlite:
            return self.from_, where
        labelled = [expr.label(label) for label, expr in self.proxied.values()]
        if not labelled:
            labelled = [ONE.label("v")]
        inner = select(*labelled).select_from(self.from_).where(*where)
        if order is not None:
            inner = inner.order_by(order)  # json_group_array takes the rows in this order
        return inner.subquery(self.qname), ()


@dataclass
class Level:
    """A position's subquery: JSON, counts and paths as columns, and its FROM."""

    output: Output
    from_: FromClause
    where: Sequence[Expr] = ()
    types: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.types = list(self.output.counts)
        self.subjects = list(self.output.paths)

    def columns(self) -> list[Expr]:
        counts = [total(self.output.counts[t]) for t in self.types]
        return [self.output.j, *counts, *(self.output.paths[s] for s in self.subjects)]

    def unpack(self, picked: Sequence[Expr]) -> Output:
        """The level's columns as the enclosing level sees them."""
        n = len(self.types)
        counts: dict[str, list[Expr]] = {
            t: [func.coalesce(picked[1 + k], ZERO)] for k, t in enumerate(self.types)
        }
        paths = {s: picked[1 + n + k] for k, s in enumerate(self.subjects)}
        return Output(picked[0], counts, paths)
