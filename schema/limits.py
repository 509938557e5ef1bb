"""GraphQL hardening: every limit refuses the whole operation with its own error code.

Depth, aliases, directives, duplicated fields and cost are measured in one walk over the
parsed document (cost multiplies list sizes: `first`, or the default page size); tokens are
limited while parsing. Introspection and "did you mean" suggestions are for developers:
on in dev mode and for the developer role, off for everyone else."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from resolvers.context import RequestContext


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_directives: int = 10
    max_duplicate_fields: int = 3  # the same field (and alias) in one selection set
    max_cost: int = 50_000
    max_tokens: int = 5_000


@dataclass
class _Walk:
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    default_page: int
    connection_fields: Set[str]
    max_duplicates: int
    aliases: int = 0
    directives: int = 0
    depth: int = 0
    cost: int = 0
    duplicate: str | None = None


def _list_size(node: FieldNode, walk: _Walk) -> int:
    for argument in node.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(int(value.value), 1)
        if isinstance(value, VariableNode):
            given = walk.variables.get(value.name.value)
            return max(int(given), 1) if isinstance(given, int) else walk.default_page
    # a connection without `first` still returns a default page
    return walk.default_page if node.name.value in walk.connection_fields else 1


def _visit(
    selection_set: SelectionSetNode, walk: _Walk, depth: int, multiplier: int, seen: set[str]
) -> None:
    walk.depth = max(walk.depth, depth)
    keys: Counter[str] = Counter()
    for selection in selection_set.selections:
        walk.directives += len(selection.directives or ())
        if isinstance(selection, FieldNode):
            walk.aliases += selection.alias is not None
            key = (selection.alias.value + ":" if selection.alias else "") + selection.name.value
            keys[key] += 1
            walk.cost += multiplier
            if selection.selection_set is not None:
                size = multiplier * _list_size(selection, walk)
                _visit(selection.selection_set, walk, depth + 1, size, seen)
        elif isinstance(selection, InlineFragmentNode):
            _visit(selection.selection_set, walk, depth, multiplier, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = walk.fragments.get(name)
            if fragment is not None and name not in seen:  # cycles are the validator's to report
                _visit(fragment.selection_set, walk, depth, multiplier, seen | {name})
    for key, count in keys.items():
        if count > walk.max_duplicates and walk.duplicate is None:
            walk.duplicate = key


def measure(
    document: DocumentNode,
    variables: Mapping[str, Any],
    *,
    default_page: int,
    connection_fields: Set[str],
    limits: Limits,
) -> _Walk:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(fragments, variables, default_page, connection_fields, limits.max_duplicate_fields)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walk.directives += len(definition.directives or ())
            _visit(definition.selection_set, walk, 1, 1, set())
    return walk


def violations(walk: _Walk, limits: Limits) -> Iterator[GraphQLError]:
    checks = (
        ("DEPTH_LIMIT_EXCEEDED", walk.depth, limits.max_depth, "查询嵌套过深 / query too deep"),
        ("ALIAS_LIMIT_EXCEEDED", walk.aliases, limits.max_aliases, "别名过多 / too many aliases"),
        (
            "DIRECTIVE_LIMIT_EXCEEDED",
            walk.directives,
            limits.max_directives,
            "指令过多 / too many directives",
        ),
        ("COST_LIMIT_EXCEEDED", walk.cost, limits.max_cost, "查询代价过高 / query too costly"),
    )
    for code, measured, maximum, message in checks:
        if measured > maximum:
            yield GraphQLError(
                message, extensions={"code": code, "measured": measured, "maximum": maximum}
            )
    if walk.duplicate is not None:
        yield GraphQLError(
            f"重复字段过多 / field {walk.duplicate!r} repeated too often",
            extensions={"code": "DUPLICATE_FIELD_LIMIT_EXCEEDED", "field": walk.duplicate},
        )


def within_limits(
    document: DocumentNode,
    variables: Mapping[str, Any],
    *,
    default_page: int,
    connection_fields: Set[str],
) -> bool:
    """Whether the document, with these variables, is within every limit measured here."""
    walk = measure(
        document,
        variables,
        default_page=default_page,
        connection_fields=connection_fields,
        limits=RequestLimits.limits,
    )
    return next(violations(walk, RequestLimits.limits), None) is None


_SUGGESTION = re.compile(r"\s*Did you mean .*\?$")


def connection_field_names(schema: GraphQLSchema) -> frozenset[str]:
    """Names of fields that return a connection, wherever they appear."""
    names = set()
    for graphql_type in schema.type_map.values():
        if isinstance(graphql_type, GraphQLObjectType):
            for name, field in graphql_type.fields.items():
                if get_named_type(field.type).name.endswith("Connection"):
                    names.add(name)
    return frozenset(names)


class IntrospectionGate(SchemaExtension):
    """Runs before validation: adds the no-introspection rule for non-developers."""

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        if not _is_developer(execution.context):
            execution.validation_rules = (
                *execution.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield


class RequestLimits(SchemaExtension):
    """Runs after validation (list it after the validation cache): refuses documents over
    a limit and hides suggestions from non-developers. Strawberry checks for errors before
    leaving the validation hooks, so this works on the way in."""

    limits = Limits()

    def __init__(self, connection_fields: Set[str]) -> None:
        super().__init__()
        self.connection_fields = connection_fields  # shared, filled when the schema is built

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        context: RequestContext = execution.context
        errors = list(execution.pre_execution_errors or [])
        if not _is_developer(context):
            errors = [_without_suggestion(error) for error in errors]
        if not errors and execution.graphql_document is not None:
            walk = measure(
                execution.graphql_document,
                execution.variables or {},
                default_page=context.settings.default_page_size,
                connection_fields=self.connection_fields,
                limits=self.limits,
            )
            errors = list(violations(walk, self.limits))
        # always a new list: the validation cache may hold (and share) the old one
        execution.pre_execution_errors = errors
        yield


def label_token_limit(errors: list[GraphQLError]) -> None:
    """The parser enforces the token limit (MaxTokensLimiter); its error gets our code."""
    for error in errors:
        if "Document contains more than" in error.message and not error.extensions:
            error.extensions = {"code": "TOKEN_LIMIT_EXCEEDED"}


def _is_developer(context: RequestContext) -> bool:
    return context.settings.dev or context.caller.department == "developer"


def _without_suggestion(error: GraphQLError) -> GraphQLError:
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(message, nodes=error.nodes, extensions=error.extensions)
