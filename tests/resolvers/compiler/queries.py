"""Random valid queries drawn from the schema, for the differential test: root connections
with filters, page sizes and cursors, nested relations and connections, edges / nodes /
pageInfo / totalCount, node(id:), aliases, named and inline fragments, variables,
@include/@skip and __typename."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
)
from hypothesis import strategies as st

from coalhub.catalog import ENTITIES
from resolvers.sql import encode_cursor
from tests.policies.test_never_leaks import SCHEMA, _object_fields

INSTANTS = [
    "2026-11-23T16:00:00Z",
    "2026-11-24T12:00:00+08:00",
    "2026-11-24T18:30:00Z",
    "2026-11-25T00:00:00Z",
]
DISTRICTS = ["150302", "150303", "150304"]
# roots whose answers depend on the moment of asking (the audit trail grows with each request)
UNSTABLE_ROOTS = {"auditEvents"}


@dataclass
class Samples:
    """Values that exist in the seeded database, by filter field name."""

    strings: dict[str, list[str]]


def connection_roots() -> dict[str, str]:
    query = SCHEMA.query_type
    assert query is not None
    roots = {}
    for name, root in query.fields.items():
        type_name = str(root.type).strip("!")
        if type_name.endswith("Connection") and name not in UNSTABLE_ROOTS:
            roots[name] = type_name.removesuffix("Connection")
    return roots


ROOTS = connection_roots()
NODE_TYPES = sorted(
    name
    for name, t in SCHEMA.type_map.items()
    if isinstance(t, GraphQLObjectType) and name in ENTITIES and name != "AuditEvent"
)


def global_id(type_name: str, n: int) -> str:
    return base64.b64encode(f"{type_name}:{n}".encode()).decode()


def literal(value: Any) -> str:
    """A JSON-like value as a GraphQL literal (enum names are marked with a leading '=')."""
    if isinstance(value, str):
        return value[1:] if value.startswith("=") else json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def as_variable(value: Any) -> Any:
    """The same value as JSON variables carry it (enum names unmarked)."""
    if isinstance(value, str) and value.startswith("="):
        return value[1:]
    if isinstance(value, list):
        return [as_variable(v) for v in value]
    if isinstance(value, dict):
        return {k: as_variable(v) for k, v in value.items()}
    return value


@dataclass
class QueryBuilder:
    draw: Any  # hypothesis data.draw
    samples: Samples
    variables: dict[str, Any] = field(default_factory=dict)
    definitions: list[str] = field(default_factory=list)
    fragments: dict[str, str] = field(default_factory=dict)
    aliases: int = 0
    root_names: set[str] = field(default_factory=set)

    def document(self) -> tuple[str, dict[str, Any]]:
        count = self.draw(st.integers(1, 3))
        roots = [self.root() for _ in range(count)]
        if self.draw(st.booleans()):
            roots.insert(0, "__typename")
        head = "query Q" + (f"({', '.join(self.definitions)})" if self.definitions else "")
        body = f"{head} {{ {' '.join(roots)} }}"
        return " ".join([body, *self.fragments.values()]), self.variables

    # --- roots -----------------------------------------------------------------------------

    def root(self) -> str:
        kind = self.draw(st.integers(0, 9))
        if kind == 0:
            return self.node_root()
        if kind == 1:
            return self.nodes_root()
        if kind == 2 and "me" not in self.root_names:
            self.root_names.add("me")
            fields = ["clientId", "department", "clearance", "districtCode", "userId"]
            fields += ["purpose", "readableTypes", "__typename"]
            chosen = self.draw(st.lists(st.sampled_from(fields), min_size=1, unique=True))
            return f"me {{ {' '.join(chosen)} }}"
        name = self.draw(st.sampled_from(sorted(ROOTS)))
        repeated = name in self.root_names
        self.root_names.add(name)
        query = SCHEMA.query_type
        assert query is not None
        arguments = self.arguments(query.fields[name].args, ROOTS[name], root=name)
        inner = self.connection(ROOTS[name], depth=2)
        return f"{self.alias(force=repeated)}{name}{arguments} {{ {inner} }}"

    def node_root(self) -> str:
        type_name = self.draw(st.sampled_from(NODE_TYPES))
        value = global_id(type_name, self.draw(st.integers(1, 12)))
        argument = self.argument("id", "ID!", value)
        inner = self.selection(type_name, depth=1)
        force = "node" in self.root_names
        self.root_names.add("node")
        fields = f"__typename id ... on {type_name} {{ {inner} }}"
        return f"{self.alias(force)}node(id: {argument}) {{ {fields} }}"

    def nodes_root(self) -> str:
        types = self.draw(st.lists(st.sampled_from(NODE_TYPES), min_size=1, max_size=3))
        ids = [global_id(t, self.draw(st.integers(1, 12))) for t in types]
        argument = self.argument("ids", "[ID!]!", ids)
        inner = " ".join(
            f"... on {t} {{ {self.selection(t, depth=1)} }}" for t in sorted(set(types))
        )
        force = "nodes" in self.root_names
        self.root_names.add("nodes")
        return f"{self.alias(force)}nodes(ids: {argument}) {{ __typename id {inner} }}"

    # --- arguments -------------------------------------------------------------------------

    def arguments(self, args: dict[str, Any], type_name: str, root: str | None = None) -> str:
        given: list[str] = []
        if "first" in args and self.draw(st.integers(0, 3)):
            given.append("first: " + self.argument("first", "Int", self.draw(st.integers(0, 6))))
        if "after" in args and self.draw(st.integers(0, 3)) == 0:
            given.append("after: " + self.argument("after", "String", self.cursor(type_name)))
        if "filter" in args and self.draw(st.booleans()):
            filter_type = get_named_type(args["filter"].type)
            assert isinstance(filter_type, GraphQLInputObjectType)
            value = self.input_object(filter_type)
            given.append("filter: " + self.argument("filter", filter_type.name, value))
        for name in ("since", "until"):
            if name in args and self.draw(st.integers(0, 3)) == 0:
                given.append(f"{name}: " + self.argument(name, "DateTime", self.instant()))
        if root == "trajectory":
            plate = self.draw(st.sampled_from(self.samples.strings["plate"]))
            given.append("plate: " + self.argument("plate", "String", plate))
        return f"({', '.join(given)})" if given else ""

    def argument(self, name: str, type_text: str, value: Any) -> str:
        """The value as a literal, or as a variable of the operation."""
        if not self.draw(st.booleans()):
            return literal(value)
        variable = f"v{len(self.variables)}"
        self.variables[variable] = as_variable(value)
        self.definitions.append(f"${variable}: {type_text}")
        return f"${variable}"

    def input_object(self, input_type: GraphQLInputObjectType) -> dict[str, Any]:
        names = sorted(input_type.fields)
        chosen = self.draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
        return {name: self.input_value(name, input_type.fields[name].type) for name in chosen}

    def input_value(self, name: str, type_: GraphQLInputType) -> Any:
        if isinstance(type_, GraphQLNonNull):
            return self.input_value(name, type_.of_type)
        if isinstance(type_, GraphQLList):
            size = self.draw(st.integers(0, 2))
            return [self.input_value(name, type_.of_type) for _ in range(size)]
        if isinstance(type_, GraphQLEnumType):
            return "=" + self.draw(st.sampled_from(sorted(type_.values)))
        kind = getattr(type_, "name", "")
        if kind == "ID":
            target = name.removesuffix("Id")
            type_name = target[:1].upper() + target[1:]
            return global_id(type_name, self.draw(st.integers(1, 12)))
        if kind == "Boolean":
            return self.draw(st.booleans())
        if kind == "Int":
            return self.draw(st.integers(1, 4))
        if kind == "DateTime":
            return self.instant()
        if name == "districtCode":
            return self.draw(st.sampled_from(DISTRICTS))
        if name == "nameContains":
            return self.draw(st.sampled_from(["煤", "乌海", "%", "_", "公司", "x/"]))
        options = self.samples.strings.get(name) or ["nothing-like-this"]
        return self.draw(st.sampled_from(options))

    def instant(self) -> str:
        return str(self.draw(st.sampled_from(INSTANTS)))

    def cursor(self, type_name: str) -> str:
        """A cursor this API could have issued for `type_name` (sometimes a damaged one)."""
        entity = ENTITIES[type_name]
        if self.draw(st.integers(0, 9)) == 0:
            return "not-a-cursor"
        column = entity.ordering.column
        python_type = entity.column_sql(column).type.python_type
        key: Any = self.draw(st.integers(1, 60))
        if python_type is datetime:
            key = datetime.fromisoformat(self.instant().replace("Z", "+00:00")).astimezone(UTC)
        elif python_type is date:
            key = date(2026, self.draw(st.integers(1, 12)), 1)
        return encode_cursor(entity, {column: key, "id": self.draw(st.integers(1, 60))})

    # --- selections ------------------------------------------------------------------------

    def alias(self, force: bool = False) -> str:
        if not force and self.draw(st.integers(0, 3)):
            return ""
        self.aliases += 1
        return f"a{self.aliases}: "

    def connection(self, type_name: str, depth: int) -> str:
        parts = []
        if self.draw(st.booleans()):
            parts.append(f"{self.alias()}totalCount")
        if self.draw(st.integers(0, 2)) == 0:
            flags = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]
            chosen = self.draw(st.lists(st.sampled_from(flags), min_size=1, unique=True))
            parts.append(f"pageInfo {{ {' '.join(chosen)} }}")
        shape = self.draw(st.sampled_from(["edges", "nodes", "both", "none"]))
        if shape in ("edges", "both"):
            cursor = "cursor " if self.draw(st.booleans()) else ""
            node = self.selection(type_name, depth)
            parts.append(f"edges {{ {cursor}node {{ {node} }} }}")
        if shape in ("nodes", "both"):
            parts.append(f"{self.alias()}nodes {{ {self.selection(type_name, depth)} }}")
        if not parts or self.draw(st.integers(0, 4)) == 0:
            parts.append("__typename")
        return " ".join(parts)

    def selection(self, type_name: str, depth: int) -> str:
        scalars, relations = _object_fields(type_name)
        chosen = self.draw(st.lists(st.sampled_from(scalars), min_size=1, max_size=5, unique=True))
        parts = [self.field(name) for name in chosen]
        if self.draw(st.integers(0, 5)) == 0:
            parts.append(parts[0])  # the same field twice: merged into one key
        if self.draw(st.booleans()):
            parts.append("id")
        if self.draw(st.booleans()):
            parts.append("__typename")
        if depth > 0 and relations:
            picked = self.draw(st.lists(st.sampled_from(relations), max_size=2, unique=True))
            for name, target, many in picked:
                if name in ("trips",) or (type_name, name) == ("Shipment", "trajectory"):
                    continue  # special resolvers: the executor's (tested for fallback elsewhere)
                parts.append(self.relation(type_name, name, target, many, depth))
        return self.wrap(type_name, parts)

    def field(self, name: str) -> str:
        text = self.alias() + name
        switch = self.draw(st.integers(0, 14))
        if switch == 0:
            condition = self.argument("if", "Boolean!", self.draw(st.booleans()))
            return f"{text} @include(if: {condition})"
        if switch == 1:
            return f"{text} @skip(if: {literal(self.draw(st.booleans()))})"
        return text

    def relation(self, parent: str, name: str, target: str, many: bool, depth: int) -> str:
        if not many:
            return f"{self.alias()}{name} {{ {self.selection(target, depth - 1)} }}"
        parent_type = SCHEMA.type_map[parent]
        assert isinstance(parent_type, GraphQLObjectType)
        arguments = self.arguments(parent_type.fields[name].args, target)
        return f"{self.alias()}{name}{arguments} {{ {self.connection(target, depth - 1)} }}"

    def wrap(self, type_name: str, parts: list[str]) -> str:
        """Some fields through an inline or a named fragment."""
        how = self.draw(st.integers(0, 5))
        if how > 1 or len(parts) < 2:
            return " ".join(parts)
        cut = self.draw(st.integers(1, len(parts) - 1))
        inner = " ".join(parts[cut:])
        if how == 0:
            return " ".join([*parts[:cut], f"... on {type_name} {{ {inner} }}"])
        fragment = f"F{len(self.fragments)}"
        self.fragments[fragment] = f"fragment {fragment} on {type_name} {{ {inner} }}"
        return " ".join([*parts[:cut], f"...{fragment}"])
