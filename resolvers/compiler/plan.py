"""What the walker makes of a query: a tree of positions, free of SQL.

A position is one place in the response where objects of one type appear (a root
connection, the node of a connection's edges, a related object, ...). The emitter turns
the tree into one SQL statement; the runtime binds each request's values into it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coalhub.catalog import Entity, Relation
from coalhub.secrecy import Mask

if TYPE_CHECKING:
    from resolvers.compiler.binding import Binding

# a response path: keys and known list indices, with None where a page's index goes
PathTemplate = tuple[str | int | None, ...]


class DeclineError(Exception):
    """The compiler does not answer this request; the executor will. The message says why
    (it names the fallback in the counters)."""


class UnboundError(DeclineError):
    """This request's values do not bind (page size, cursor, id ...): the executor reports
    the error. Unlike other declines it is not remembered for the query."""


@dataclass(frozen=True)
class Site:
    """Where a FORBIDDEN entry can arise: the subject (type or Type.field), its message and
    the response path of the field whose resolver would refuse it."""

    subject: str
    message: str
    path: PathTemplate


# --- values --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueKind:
    """How a column's value is written in the response (GraphQL scalar serialisation)."""

    name: str  # str, int, float, bool, datetime, date, decimal, json, enum
    scale: int = 0  # decimals
    enum_names: tuple[tuple[str, str], ...] = ()  # database value -> GraphQL name


# --- object fields -------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    """A fixed string, e.g. __typename."""

    value: str


@dataclass(frozen=True)
class GlobalId:
    type_name: str


@dataclass(frozen=True)
class Scalar:
    attribute: str
    kind: ValueKind
    mask: Mask | None = None


@dataclass(frozen=True)
class Denied:
    """Null in the response and a FORBIDDEN entry. `foreign_key`: the entry arises only when
    this column of the object is not null (a refused `one` relation)."""

    site: Site
    foreign_key: str | None = None


@dataclass(frozen=True)
class One:
    relation: Relation
    target: ObjectPlan


@dataclass(frozen=True)
class Many:
    relation: Relation
    connection: ConnectionPlan


ObjectField = Literal | GlobalId | Scalar | Denied | One | Many


@dataclass(frozen=True)
class ObjectPlan:
    entity: Entity
    fields: tuple[tuple[str, ObjectField], ...]


# --- connections ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    pass


@dataclass(frozen=True)
class Node:
    target: ObjectPlan


EdgeField = Literal | Cursor | Node


@dataclass(frozen=True)
class PageFlag:
    name: str  # hasNextPage, hasPreviousPage, startCursor, endCursor


PageInfoField = Literal | PageFlag


@dataclass(frozen=True)
class Edges:
    fields: tuple[tuple[str, EdgeField], ...]


@dataclass(frozen=True)
class Nodes:
    target: ObjectPlan


@dataclass(frozen=True)
class PageInfo:
    fields: tuple[tuple[str, PageInfoField], ...]


@dataclass(frozen=True)
class TotalCount:
    pass


ConnectionField = Literal | Edges | Nodes | PageInfo | TotalCount


@dataclass(frozen=True)
class Arguments:
    """The structure of a connection's arguments (their values are bound per request):
    the filters given (with list lengths, -1 for scalars) and whether `after` was given."""

    filters: tuple[tuple[str, int], ...]
    after: bool


@dataclass(frozen=True)
class ConnectionPlan:
    index: int  # names this connection's parameters
    entity: Entity
    arguments: Arguments
    fields: tuple[tuple[str, ConnectionField], ...]
    own_events_of: bool = False  # auditEvents for a non-auditor: the caller's own events


# --- roots ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RootConnection:
    connection: ConnectionPlan


@dataclass(frozen=True)
class RootNode:
    index: int  # names the id parameter
    target: ObjectPlan


@dataclass(frozen=True)
class RootNull:
    """Null without a statement: a refused type (its site) or an object that cannot exist."""

    site: Site | None


@dataclass(frozen=True)
class RootNodes:
    """nodes(ids:): one node (or null) per id, in order."""

    items: tuple[RootNode | RootNull, ...]


@dataclass(frozen=True)
class RootCaller:
    """me: the caller as the request context knows it; (key, attribute) pairs."""

    fields: tuple[tuple[str, str], ...]
    type_name: str


RootField = Literal | RootConnection | RootNode | RootNull | RootNodes | RootCaller


@dataclass(frozen=True)
class Plan:
    roots: tuple[tuple[str, RootField], ...]
    sites: tuple[Site, ...]  # every site, each subject once
    bindings: tuple[Binding, ...] = field(default=())  # the per-request values

    def needs_statement(self) -> bool:
        for _, root in self.roots:
            if isinstance(root, RootConnection | RootNode):
                return True
            if isinstance(root, RootNodes) and any(isinstance(i, RootNode) for i in root.items):
                return True
        return False


def freeze(values: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    """The structure of filter values: names and list lengths (-1: not a list)."""
    return tuple(sorted((k, len(v) if isinstance(v, list) else -1) for k, v in values.items()))


def by_subject(sites: list[Site]) -> dict[str, list[Site]]:
    found: dict[str, list[Site]] = {}
    for site in sites:
        found.setdefault(site.subject, []).append(site)
    return found


def ordered(sites: list[Site]) -> bool:
    """Whether the executor's first occurrence among these sites is known: one site, or the
    same place in several items of one nodes(ids:) (the items complete in order)."""
    if len(sites) == 1:
        return True
    # the items' own refusals (path: the field itself), or one place in each item's object
    places = {
        (site.path[0], site.path[2:]) if item_index(site) is not None else site.path
        for site in sites
    }
    indexed = {item_index(site) is not None for site in sites}
    return len(places) == 1 and len(indexed) == 1


def item_index(site: Site) -> int | None:
    """The item of nodes(ids:) the site is in (None: not in an item's object)."""
    position = site.path[1] if len(site.path) > 1 else None
    return position if isinstance(position, int) else None
