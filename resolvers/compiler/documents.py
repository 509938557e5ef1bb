"""What the compiler reads from a document and from the strawberry schema: the operation,
the fragments, the root fields, the variables that size pages, a field's strawberry
definition and the resolver behind it."""

from __future__ import annotations

from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    OperationDefinitionNode,
    VariableNode,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.language import Visitor, visit
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


def root_fields(document: DocumentNode) -> tuple[str, ...]:
    """The names of the operations' root fields, sorted (the audit record's `fields`)."""
    names = set()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    names.add(selection.name.value)
    return tuple(sorted(names))


def page_variables(document: DocumentNode) -> frozenset[str]:
    """Variables given as `first` anywhere in the document: the cost limit depends on them
    (`schema.limits.measure`)."""
    found: set[str] = set()

    class Pages(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            if node.name.value == "first" and isinstance(node.value, VariableNode):
                found.add(node.value.name.value)

    visit(document, Pages())
    return frozenset(found)
