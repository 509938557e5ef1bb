"""What the compiler reads from a document and from the strawberry schema: the operation,
the fragments, a field's strawberry definition and the resolver behind it."""

from __future__ import annotations

from typing import Any

from graphql import FragmentDefinitionNode, GraphQLField, OperationDefinitionNode
from graphql.execution.collect_fields import FragmentDetails
from strawberry.types.field import StrawberryField

from resolvers.compiler.plan import DeclineError


def strawberry_field(field_def: GraphQLField) -> StrawberryField:
    found = field_def.extensions.get("strawberry-definition")
    if not isinstance(found, StrawberryField):
        raise DeclineError("not a strawberry field")
    return found


def resolver_names(field_def: GraphQLField) -> tuple[str, str, tuple[str, ...]]:
    resolver = strawberry_field(field_def).base_resolver
    if resolver is None:
        return "", "", ()
    function: Any = resolver.wrapped_func
    return function.__module__, function.__qualname__, function.__code__.co_names


def operation_of(document: Any, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) != 1:
            raise DeclineError("no single operation")
        return operations[0]
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    raise DeclineError("unknown operation")


def fragments_of(document: Any) -> dict[str, FragmentDetails]:
    fragments = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:
                raise DeclineError("fragment variables")
            fragments[definition.name.value] = FragmentDetails(definition, None)
    return fragments
