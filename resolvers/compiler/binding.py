"""Per-request values of a compiled statement: page sizes, cursors, filters, node ids.

A binding is made once, when a query is compiled, from the field and its AST node; each
request re-reads the arguments from its own variables as the resolver would receive them
(strawberry's conversion: python names, global ids to row ids, filter inputs to the
non-null values `schema.base.filter_values` keeps), checks them as the resolver would (page
size, cursor, required filters) and turns them into the statement's parameters. Arguments
without variables are read once. Anything the resolver would refuse with an error makes
the request fall back to the executor, which reports that error itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode, GraphQLField, GraphQLInputObjectType, VariableNode, get_named_type
from graphql.execution.values import VariableValues, get_argument_values
from graphql.language import Visitor, visit
from strawberry import relay
from strawberry.types.base import StrawberryContainer

from coalhub.catalog import Entity
from coalhub.errors import BadRequestError
from coalhub.settings import Settings
from policies.access import AccessDecision
from resolvers.compiler.plan import Arguments, DeclineError, UnboundError, freeze
from resolvers.sql import decode_cursor


@dataclass(frozen=True)
class Request:
    """What a request brings to its bindings."""

    variables: VariableValues
    settings: Settings
    access: AccessDecision
    client_id: str


def row_id(value: Any) -> int:
    """schema.base._plain of a global id: its row id (-1 for one that is not a number)."""
    try:
        node_id = relay.GlobalID.from_id(value).node_id
    except Exception as error:  # strawberry refuses it while converting the arguments
        raise UnboundError("bad global id") from error
    return int(node_id) if node_id.isdigit() else -1


def plain(value: Any, global_id: bool) -> Any:
    if isinstance(value, list):
        return [plain(v, global_id) for v in value]
    return row_id(value) if global_id else value


def escape_like(value: str) -> str:
    """The escaping SQLAlchemy's `contains(..., autoescape=True)` applies (escape '/')."""
    return value.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _unwrapped(type_: Any) -> Any:
    while isinstance(type_, StrawberryContainer):
        type_ = type_.of_type
    return type_


@dataclass(frozen=True)
class Names:
    """GraphQL argument (and filter field) names -> python names, and which are global ids."""

    arguments: Mapping[str, str]
    filters: Mapping[str, str] = field(default_factory=dict)
    global_ids: frozenset[str] = frozenset()  # python names

    def convert(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(first/after by python name, filters): non-null values, global ids as row ids."""
        window: dict[str, Any] = {}
        filters: dict[str, Any] = {}
        for name, value in raw.items():
            python = self.arguments[name]
            if python in ("first", "after"):
                window[python] = value
            elif python == "filter":
                for key, given in (value or {}).items():
                    if given is not None:
                        inner = self.filters[key]
                        filters[inner] = plain(given, inner in self.global_ids)
            elif value is not None:
                filters[python] = plain(value, python in self.global_ids)
        return window, filters


def names_of(field_def: GraphQLField, config: Any) -> Names:
    """The names of a strawberry field's arguments, and of its `filter` input's fields."""
    definition = field_def.extensions["strawberry-definition"]
    arguments, filters, global_ids = {}, {}, set()
    for argument in definition.arguments:
        arguments[config.name_converter.from_argument(argument)] = argument.python_name
        target = _unwrapped(argument.type)
        if target is relay.GlobalID:
            global_ids.add(argument.python_name)
        if argument.python_name == "filter":
            input_type = get_named_type(field_def.args[argument.graphql_name or "filter"].type)
            assert isinstance(input_type, GraphQLInputObjectType)
            for input_field in input_type.extensions["strawberry-definition"].fields:
                graphql_name = config.name_converter.get_graphql_name(input_field)
                if graphql_name not in input_type.fields:
                    raise DeclineError("a filter input unlike its GraphQL type")
                filters[graphql_name] = input_field.python_name
                if _unwrapped(input_field.type) is relay.GlobalID:
                    global_ids.add(input_field.python_name)
    return Names(arguments, filters, frozenset(global_ids))


def has_variables(node: FieldNode) -> bool:
    found = False

    class Finder(Visitor):
        def enter_variable(self, _node: VariableNode, *_: Any) -> None:
            nonlocal found
            found = True

    for argument in node.arguments or ():
        visit(argument, Finder())
    return found


@dataclass(frozen=True)
class Page:
    first: int
    after: tuple[Any, ...] | None
    filters: dict[str, Any]


@dataclass(frozen=True)
class ConnectionBinding:
    """`kind`: field (first/after/filter or named filter arguments), districts (no
    arguments, default page), products (no arguments, 100), trajectory (vehicleId or plate
    required)."""

    index: int
    entity: Entity
    kind: str
    field_def: GraphQLField | None = None
    node: FieldNode | None = None
    names: Names | None = None
    own_events: bool = False
    expected: Arguments | None = None  # the shape compiled for; set by the walker
    fixed: Mapping[str, Any] | None = None  # the parameters, when no variable changes them

    def page(self, request: Request) -> Page:
        if self.kind == "districts":
            return self._window(request, None, None, {})
        if self.kind == "products":
            return self._window(request, 100, None, {})
        assert self.field_def is not None
        assert self.node is not None
        assert self.names is not None
        try:
            raw = get_argument_values(self.field_def, self.node, request.variables)
        except Exception as error:  # the executor reports it
            raise UnboundError("arguments not coercible") from error
        window, filters = self.names.convert(raw)
        if self.kind == "trajectory" and "vehicle_id" not in filters and "plate" not in filters:
            raise UnboundError("trajectory without vehicleId or plate")
        if self.own_events:
            filters["client_id"] = request.client_id
        return self._window(request, window.get("first"), window.get("after"), filters)

    def _window(
        self, request: Request, first: int | None, after: str | None, filters: dict[str, Any]
    ) -> Page:
        """schema.base.window: the same limits; errors are the executor's to report."""
        limit = min(request.settings.max_page_size, request.access.max_page_size)
        size = request.settings.default_page_size if first is None else first
        if size < 0 or size > limit:
            raise UnboundError("page size out of range")
        if set(filters) - set(self.entity.filters):
            raise DeclineError("unknown filter")
        try:
            cursor = None if after is None else decode_cursor(self.entity, after)
        except BadRequestError as error:
            raise UnboundError("bad cursor") from error
        return Page(size, cursor, filters)

    def shape(self, request: Request) -> Arguments:
        page = self.page(request)
        return Arguments(freeze(page.filters), page.after is not None)

    def constant(self) -> bool:
        """Whether every request binds the same values (no variables, not the caller's)."""
        return not self.own_events and (self.node is None or not has_variables(self.node))

    def parameters(self, request: Request) -> Mapping[str, Any]:
        if self.fixed is not None:
            return self.fixed
        page = self.page(request)
        if Arguments(freeze(page.filters), page.after is not None) != self.expected:
            raise UnboundError("arguments changed shape")
        prefix = f"c{self.index}_"
        values: dict[str, Any] = {prefix + "first": page.first, prefix + "limit": page.first + 1}
        for n, key in enumerate(page.after or ()):
            values[f"{prefix}after{n}"] = key
        for name, value in page.filters.items():
            if isinstance(value, list):
                values.update({f"{prefix}f_{name}_{n}": v for n, v in enumerate(value)})
            elif self.entity.filters[name].op == "contains":
                values[f"{prefix}f_{name}"] = escape_like(str(value))
            else:
                values[f"{prefix}f_{name}"] = value
        return values


@dataclass(frozen=True)
class NodeBinding:
    """node(id:), or one id of nodes(ids:) (`position`): the row id of the global id, for
    the type the plan was compiled for."""

    index: int
    type_name: str
    field_def: GraphQLField
    node: FieldNode
    position: int | None = None

    def global_ids(self, request: Request) -> list[relay.GlobalID]:
        try:
            raw = get_argument_values(self.field_def, self.node, request.variables)
            given = [raw["id"]] if self.position is None else raw["ids"]
            return [relay.GlobalID.from_id(value) for value in given]
        except Exception as error:  # the executor reports it
            raise UnboundError("bad global id") from error

    def global_id(self, request: Request) -> relay.GlobalID:
        found = self.global_ids(request)
        position = self.position or 0
        if position >= len(found):
            raise UnboundError("fewer ids")
        return found[position]

    def parameters(self, request: Request) -> Mapping[str, Any]:
        global_id = self.global_id(request)
        if global_id.type_name != self.type_name:
            raise UnboundError("node type changed")
        node_id = global_id.node_id
        try:
            found = int(node_id) if node_id.isdigit() else -1
        except ValueError as error:  # digits int() does not read: the executor fails too
            raise UnboundError("unreadable node id") from error
        return {f"n{self.index}_id": found}


Binding = ConnectionBinding | NodeBinding


def parameters(bindings: tuple[Binding, ...], request: Request) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for binding in bindings:
        values.update(binding.parameters(request))
    return values
