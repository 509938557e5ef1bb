"""The compiler's pure pieces: escaping, encodings, variable structure, response splicing,
decoding of first-occurrence paths."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from graphql import parse
from sqlalchemy import column
from sqlalchemy.dialects import sqlite

from coalhub.catalog import ENTITIES
from resolvers.compiler.binding import escape_like
from resolvers.compiler.cache import variable_structure
from resolvers.compiler.dialects import b64, b64url
from resolvers.compiler.plan import Site
from resolvers.compiler.response import RawJSON, SplicedData, encode_response
from resolvers.compiler.runtime import fill
from resolvers.sql import encode_cursor
from tests.policies.test_never_leaks import SCHEMA


def test_escape_like_is_sqlalchemys_autoescape() -> None:
    for value in ("a%b_c/d", "煤", "%%", "//"):
        clause = column("name").contains(value, autoescape=True)
        bound = clause.compile(dialect=sqlite.dialect()).params
        assert list(bound.values()) == [escape_like(value)]


def test_base64_functions_match_the_executor() -> None:
    weighed_at = datetime(2026, 11, 25, 8, 0, 1, 120000, tzinfo=UTC)
    row = {"weighed_at": weighed_at, "id": 42}
    entity = ENTITIES["WeighRecord"]
    text = json.dumps([entity.name, weighed_at.isoformat(), 42], separators=(",", ":"))
    assert b64url(text) == encode_cursor(entity, row)
    assert b64("Vehicle:7") == "VmVoaWNsZTo3"
    assert b64(None) is None


def test_variable_structure_keeps_what_changes_the_sql() -> None:
    document = parse("query($f: WeighRecordFilter, $b: Boolean!, $id: ID!, $n: Int) { __typename }")
    operation = document.definitions[0]

    def structure(variables: dict[str, object]) -> object:
        return variable_structure(SCHEMA, operation, variables)  # type: ignore[arg-type]

    base = {"f": {"plate": "a"}, "b": True, "id": b64("Vehicle:1"), "n": 3}
    assert structure(base) == structure(base | {"f": {"plate": "b"}, "n": 9})
    assert structure(base) == structure(base | {"id": b64("Vehicle:2")})
    assert structure(base) != structure(base | {"id": b64("Driver:1")})
    assert structure(base) != structure(base | {"b": False})
    assert structure(base) != structure(base | {"f": {"plate": None}})
    assert structure(base) != structure(base | {"f": {"direction": ["SALE"]}})
    assert structure(base) != structure({k: v for k, v in base.items() if k != "n"})


def test_the_database_json_is_spliced_unparsed() -> None:
    data = SplicedData(a=RawJSON('{"x" : [1, 2]}'), b=None, __typename="Query")
    errors = [{"message": "m", "path": ["b"]}]
    text = encode_response({"data": data, "errors": errors})
    assert '{"x" : [1, 2]}' in text
    assert json.loads(text) == {
        "data": {"a": {"x": [1, 2]}, "b": None, "__typename": "Query"},
        "errors": errors,
    }


def test_first_occurrence_paths_are_decoded() -> None:
    site = Site("T.f", "m", ("root", "edges", None, "node", "kids", "nodes", None, "f"))
    assert fill(site, "00030012") == ["root", "edges", 3, "node", "kids", "nodes", 12, "f"]
