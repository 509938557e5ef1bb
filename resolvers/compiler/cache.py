"""Compiled statements, cached per (document, operation, policy shape, variable structure).

Values are bound per request; what changes the SQL is in the key: the access decision's
shape (readable types, refused and masked fields, row scope, page limit) and the structure
of the variables (null or given, list lengths, input object fields, booleans for
@skip/@include, the type named by a global id)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from cachetools import LRUCache
from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.utilities import type_from_ast
from strawberry import relay

from policies.access import AccessDecision

MISSING = "\u2205"


class PolicyShapes:
    """The policy shape of an access decision, remembered per decision object (the policy
    store hands the same object to every request of a client until the policy changes)."""

    def __init__(self, size: int = 4096) -> None:
        self._known: LRUCache[int, tuple[AccessDecision, Hashable]] = LRUCache(size)

    def key(self, access: AccessDecision) -> Hashable:
        known = self._known.get(id(access))
        if known is not None and known[0] is access:
            return known[1]
        shape = (
            access.readable_types,
            frozenset(access.restricted_fields.items()),
            access.scope,
            access.max_page_size,
        )
        self._known[id(access)] = (access, shape)
        return shape


def variable_structure(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> Hashable:
    structure = []
    for definition in operation.variable_definitions or ():
        type_ = type_from_ast(schema, definition.type)
        name = definition.variable.name.value
        structure.append(_shape(variables.get(name, MISSING), type_))  # type: ignore[arg-type]
    return tuple(structure)


def _shape(value: Any, type_: GraphQLInputType | None) -> Hashable:
    if value is MISSING or value is None or type_ is None:
        return value if value is None else MISSING
    if isinstance(type_, GraphQLNonNull):
        return _shape(value, type_.of_type)
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return tuple(_shape(item, type_.of_type) for item in items)
    if isinstance(type_, GraphQLInputObjectType):
        if not isinstance(value, dict):
            return "!"
        return tuple(
            (name, _shape(value.get(name, MISSING), f.type)) for name, f in type_.fields.items()
        )
    if type_.name == "Boolean":
        return value if isinstance(value, bool) else "!"
    if type_.name == "ID":
        try:
            return "ID:" + relay.GlobalID.from_id(value).type_name
        except Exception:  # a bad id: the executor reports it
            return "!"
    return "v"
