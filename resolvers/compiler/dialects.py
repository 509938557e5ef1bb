"""The SQL each database needs to build the response JSON exactly as the executor writes it.

PostgreSQL builds JSON with json_build_object/json_agg and formats values with to_char;
SQLite with json_object/json_group_array, printf and two small functions the runtime
registers on its connections (base64, which SQLite lacks). Both write every value as the
GraphQL scalar serialisation does in Python: DateTime as `isoformat()` in UTC, Decimal as
`str()`, enums by their GraphQL names, global ids and cursors base64-encoded."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import reduce
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Float,
    Text,
    case,
    cast,
    false,
    func,
    literal_column,
    null,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from coalhub.secrecy import Mask
from resolvers.compiler.plan import ValueKind

Expr = ColumnElement[Any]


def lit(value: str) -> Expr:
    """A string constant written into the SQL (keys, type names, formats), not a parameter."""
    return literal_column("'" + value.replace("'", "''") + "'")


def cat(*parts: Expr) -> Expr:
    """SQL string concatenation (NULL if any part is NULL, like the `||` operator)."""
    return reduce(lambda left, right: left.op("||")(right), parts)


class Emitter(Protocol):
    name: str

    def obj(self, pairs: Sequence[tuple[str, Expr]]) -> Expr: ...
    def agg(self, value: Expr, order: Expr, where: Expr) -> Expr: ...
    def boolean(self, condition: Expr) -> Expr: ...
    def constant(self, value: bool) -> Expr: ...
    def value(self, expr: Expr, kind: ValueKind) -> Expr: ...
    def key_text(self, expr: Expr, kind: ValueKind) -> Expr: ...
    def global_id(self, type_name: str, id_expr: Expr) -> Expr: ...
    def cursor(self, json_text: Expr) -> Expr: ...
    def pad(self, index: Expr) -> Expr: ...
    def stars(self, count: Expr) -> Expr: ...
    def greatest(self, left: Expr, right: Expr) -> Expr: ...
    def least(self, left: Expr, right: Expr) -> Expr: ...
    def text(self, document: Expr) -> Expr: ...


def masked(emitter: Emitter, value: Expr, mask: Mask) -> Expr:
    """policies/masking.py in SQL (NULL stays NULL)."""
    length = func.length(value)
    last_four = func.substr(value, length - 3)
    if mask is Mask.PHONE:
        shown = cat(func.substr(value, 1, 3), lit("****"), last_four)
        return case((length >= 7, shown), else_=emitter.stars(length))
    if mask is Mask.ID_NUMBER:
        shown = cat(func.substr(value, 1, 6), emitter.stars(length - 10), last_four)
        return case((length > 10, shown), else_=emitter.stars(length))
    initial = cat(func.substr(value, 1, 1), emitter.stars(emitter.greatest(length - 1, one())))
    return case((value == lit(""), value), else_=initial)


def one() -> Expr:
    return literal_column("1")


def enum_name(expr: Expr, kind: ValueKind) -> Expr:
    if all(name == value.upper() for value, name in kind.enum_names):
        return func.upper(expr)
    return case(*((expr == lit(value), lit(name)) for value, name in kind.enum_names))


class Postgres:
    name = "postgresql"

    def obj(self, pairs: Sequence[tuple[str, Expr]]) -> Expr:
        return func.json_build_object(*(part for key, v in pairs for part in (lit(key), v)))

    def agg(self, value: Expr, order: Expr, where: Expr) -> Expr:
        aggregated = func.json_agg(aggregate_order_by(value, order)).filter(where)
        return func.coalesce(aggregated, literal_column("'[]'::json"))

    def boolean(self, condition: Expr) -> Expr:
        return condition

    def constant(self, value: bool) -> Expr:
        return true() if value else false()

    def value(self, expr: Expr, kind: ValueKind) -> Expr:
        if kind.name == "datetime":
            # PostgreSQL's own JSON of a timestamptz is isoformat()'s text when the session's
            # time zone is UTC (statement.py sets it) and the microseconds are zero (it trims
            # trailing zeros of a fraction, isoformat() writes six digits): nearly every
            # timestamp here, at half the cost of to_char
            whole = func.date_trunc(lit("second"), expr) == expr
            return case((whole, func.to_json(expr)), else_=func.to_json(self._datetime(expr)))
        if kind.name == "date":
            return func.to_char(expr, lit("YYYY-MM-DD"))
        if kind.name == "decimal":
            return cast(expr, Text)
        if kind.name == "enum":
            return enum_name(expr, kind)
        return expr  # str, int, float, bool, json(b) are written by json_build_object itself

    def _datetime(self, expr: Expr) -> Expr:
        """isoformat() of a timestamptz in UTC, in any session time zone."""
        text = func.to_char(func.timezone(lit("UTC"), expr), lit('YYYY-MM-DD"T"HH24:MI:SS.US'))
        # isoformat() leaves out a zero microsecond part
        return cat(func.replace(text, lit(".000000"), lit("")), lit("+00:00"))

    def key_text(self, expr: Expr, kind: ValueKind) -> Expr:
        """A cursor key as JSON text (json.dumps of isoformat() or of the integer)."""
        if kind.name == "datetime":
            return cat(lit('"'), self._datetime(expr), lit('"'))
        if kind.name == "date":
            return cat(lit('"'), self.value(expr, kind), lit('"'))
        return cast(expr, Text)

    def global_id(self, type_name: str, id_expr: Expr) -> Expr:
        raw = func.convert_to(cat(lit(type_name + ":"), cast(id_expr, Text)), lit("UTF8"))
        return func.encode(raw, lit("base64"))

    def cursor(self, json_text: Expr) -> Expr:
        encoded = func.encode(func.convert_to(json_text, lit("UTF8")), lit("base64"))
        unwrapped = func.replace(encoded, func.chr(10), lit(""))  # encode() wraps at 76
        return func.translate(func.rtrim(unwrapped, lit("=")), lit("+/"), lit("-_"))

    def pad(self, index: Expr) -> Expr:
        return func.lpad(cast(index, Text), 4, lit("0"))

    def stars(self, count: Expr) -> Expr:
        return func.repeat(lit("*"), count)

    def greatest(self, left: Expr, right: Expr) -> Expr:
        return func.greatest(left, right)

    def least(self, left: Expr, right: Expr) -> Expr:
        return func.least(left, right)

    def text(self, document: Expr) -> Expr:
        return cast(document, Text)


STARS = "*" * 255  # longer than any masked column


class Sqlite:
    name = "sqlite"

    def obj(self, pairs: Sequence[tuple[str, Expr]]) -> Expr:
        return func.json_object(*(part for key, v in pairs for part in (lit(key), v)))

    def agg(self, value: Expr, order: Expr, where: Expr) -> Expr:
        # SQLite 3.40 has no ORDER BY inside aggregates: the rows arrive ordered (see emit)
        return func.json_group_array(value).filter(where)

    def boolean(self, condition: Expr) -> Expr:
        json_true, json_false = func.json(lit("true")), func.json(lit("false"))
        return case((condition.is_(None), null()), (condition, json_true), else_=json_false)

    def constant(self, value: bool) -> Expr:
        return func.json(lit("true" if value else "false"))

    def value(self, expr: Expr, kind: ValueKind) -> Expr:
        if kind.name == "datetime":
            # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
            text = func.replace(func.replace(expr, lit(" "), lit("T")), lit(".000000"), lit(""))
            return cat(text, lit("+00:00"))
        if kind.name == "decimal":
            # SQLAlchemy reads SQLite's floating point back as Decimal("%.{scale}f" % value)
            return self._unless_null(expr, func.printf(lit(f"%.{kind.scale}f"), expr))
        if kind.name == "float":
            return self._unless_null(expr, func.json(self._float(expr)))
        if kind.name == "bool":
            return self.boolean(expr)
        if kind.name == "json":
            return func.json(expr)
        if kind.name == "enum":
            return enum_name(expr, kind)
        return expr  # str, int, date (stored as ISO text)

    def _unless_null(self, expr: Expr, shown: Expr) -> Expr:
        return case((expr.is_(None), null()), else_=shown)  # printf() writes NULL as 0

    def _float(self, expr: Expr) -> Expr:
        # json_object writes REAL with 15 digits: give the digits that read back exactly
        short = func.printf(lit("%!.15g"), expr)
        return case((cast(short, Float()) == expr, short), else_=func.printf(lit("%!.17g"), expr))

    def key_text(self, expr: Expr, kind: ValueKind) -> Expr:
        if kind.name in ("datetime", "date"):
            return cat(lit('"'), self.value(expr, kind), lit('"'))
        return cast(expr, Text)

    def global_id(self, type_name: str, id_expr: Expr) -> Expr:
        return func.coalhub_b64(cat(lit(type_name + ":"), id_expr))

    def cursor(self, json_text: Expr) -> Expr:
        return func.coalhub_b64url(json_text)

    def pad(self, index: Expr) -> Expr:
        return func.printf(lit("%04d"), index)

    def stars(self, count: Expr) -> Expr:
        return func.substr(lit(STARS), 1, count)

    def greatest(self, left: Expr, right: Expr) -> Expr:
        return func.max(left, right)

    def least(self, left: Expr, right: Expr) -> Expr:
        return func.min(left, right)

    def text(self, document: Expr) -> Expr:
        return document


# --- the functions SQLite lacks, registered on each connection the runtime uses -----------


def b64(text: str | None) -> str | None:
    return None if text is None else base64.b64encode(text.encode()).decode()


def b64url(text: str | None) -> str | None:
    if text is None:
        return None
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


SQLITE_FUNCTIONS = {"coalhub_b64": b64, "coalhub_b64url": b64url}


def emitter_for(dialect_name: str) -> Emitter:
    if dialect_name == "postgresql":
        return Postgres()
    if dialect_name == "sqlite":
        return Sqlite()
    raise ValueError(f"no compiled reads for {dialect_name}")
