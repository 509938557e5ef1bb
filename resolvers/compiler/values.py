"""How each column's value reaches the response: by its GraphQL scalar, and for decimals
and enums by what the column stores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from graphql import GraphQLEnumType, GraphQLNamedType
from sqlalchemy import Enum, Numeric

from coalhub.catalog import Entity
from resolvers.compiler.plan import DeclineError, ValueKind

SCALARS = {
    "String": "str",
    "Int": "int",
    "Float": "float",
    "Boolean": "bool",
    "DateTime": "datetime",
    "Date": "date",
    "JSON": "json",
}


def value_kind(entity: Entity, attribute: str, graphql_type: GraphQLNamedType) -> ValueKind:
    column_type: Any = entity.sql(attribute).type
    if isinstance(graphql_type, GraphQLEnumType):
        if not isinstance(column_type, Enum):
            raise DeclineError(f"enum {graphql_type.name} over a non-enum column")
        names = tuple(
            (str(getattr(value.value, "value", value.value)), name)
            for name, value in graphql_type.values.items()
        )
        if {value for value, _ in names} != set(column_type.enums):
            raise DeclineError(f"enum {graphql_type.name} does not match its column")
        return ValueKind("enum", enum_names=names)
    if graphql_type.name == "Decimal":
        if not isinstance(column_type, Numeric) or column_type.scale is None:
            raise DeclineError("a decimal of unknown scale")
        return ValueKind("decimal", scale=column_type.scale)
    name = SCALARS.get(graphql_type.name)
    if name is None:
        raise DeclineError(f"scalar {graphql_type.name}")
    return ValueKind(name)


def key_kind(entity: Entity) -> ValueKind:
    """The kind of the ordering column, as a cursor holds it."""
    python_type = entity.column_sql(entity.ordering.column).type.python_type
    if python_type is datetime:
        return ValueKind("datetime")
    if python_type is date:
        return ValueKind("date")
    if python_type is int:
        return ValueKind("int")
    raise DeclineError(f"cursor over {python_type.__name__}")
