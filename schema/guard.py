"""Field-level secrecy: fields above the caller's clearance are nulled (with one FORBIDDEN
entry per field) or, for personal data the caller's duty lets it identify, masked.

The guard is installed once on the graphql-core fields that can ever be restricted, so
public fields pay nothing; a guarded field costs one dictionary lookup per value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, default_field_resolver
from strawberry import Schema

from coalhub.catalog import ENTITIES
from coalhub.secrecy import Secrecy
from policies.access import FieldAccess
from policies.masking import apply_mask
from schema.root import NODE_TYPES

Resolver = Callable[..., Any]


def _guarded(type_name: str, attribute: str, graphql_name: str, resolve: Resolver) -> Resolver:
    subject = f"{type_name}.{graphql_name}"

    key = (type_name, attribute)

    def resolve_guarded(root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        decision = info.context.access
        if key not in decision.restricted_fields:  # the common case: one set lookup
            return resolve(root, info, **args)
        access, mask = decision.field_access(type_name, attribute)
        if access is FieldAccess.DENY:
            info.context.deny(
                subject,
                info.path,
                f"密级不足，无权查看 {subject} / clearance too low for {subject}",
            )
            return None
        value = resolve(root, info, **args)
        return value if mask is None else apply_mask(mask, value)

    return resolve_guarded


def install_field_guards(schema: Schema) -> None:
    for type_name, node in NODE_TYPES.items():
        graphql_type = schema._schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        definition = node.__strawberry_definition__  # type: ignore[attr-defined]
        names = {
            f.python_name: schema.config.name_converter.get_graphql_name(f)
            for f in definition.fields
        }
        for attribute, column in ENTITIES[type_name].columns.items():
            if column.secrecy == Secrecy.PUBLIC or attribute not in names:
                continue
            field = graphql_type.fields[names[attribute]]
            field.resolve = _guarded(
                type_name, attribute, names[attribute], field.resolve or default_field_resolver
            )
