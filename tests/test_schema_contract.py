"""The public contract: root field names, the committed SDL, and the catalog agreeing with
the GraphQL types it maps."""

from __future__ import annotations

from pathlib import Path

import strawberry

from coalhub.catalog import ENTITIES
from schema.build import build_schema
from schema.root import NODE_TYPES

CONTRACT_ROOT_FIELDS = {
    "node",
    "me",
    "enterprises",
    "vehicles",
    "drivers",
    "sites",
    "contracts",
    "weighRecords",
    "shipments",
    "trajectory",
    "checkpointPasses",
    "invoices",
}


def test_public_root_fields_exist() -> None:
    query_type = build_schema()._schema.query_type
    assert query_type is not None
    assert set(query_type.fields) >= CONTRACT_ROOT_FIELDS


def test_committed_sdl_matches_the_code() -> None:
    committed = Path(__file__).parents[1] / "schema" / "schema.graphql"
    assert committed.read_text(encoding="utf-8") == build_schema().as_str() + "\n", (
        "run: coalhub schema export --output schema/schema.graphql"
    )


def test_every_catalog_entity_has_a_node_type_with_exactly_its_columns() -> None:
    assert set(NODE_TYPES) == set(ENTITIES)
    for name, node in NODE_TYPES.items():
        declared = set(node.__annotations__)  # columns, foreign keys (private) and the id
        assert declared == set(ENTITIES[name].columns), name


def test_every_relation_field_is_declared_in_the_catalog() -> None:
    for name, node in NODE_TYPES.items():
        definition = node.__strawberry_definition__  # type: ignore[attr-defined]
        resolved = {f.python_name for f in definition.fields if f.base_resolver is not None}
        relations = set(ENTITIES[name].relations)
        # relation fields are resolved through the catalog; computed ones are listed here
        computed = {"trips", "trajectory"} if name in {"Vehicle", "Shipment"} else set()
        assert resolved - computed <= relations | {"_id"}, (name, resolved - relations)
        assert isinstance(definition, strawberry.types.base.StrawberryObjectDefinition)
