"""Every cell of the documented matrix (department × type) and every field of every type,
checked against the running API with real tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from coalhub.catalog import ENTITIES
from coalhub.synthetic import Scale, generate
from schema.build import build_schema
from schema.root import NODE_TYPES
from tests.conftest import Hub
from tests.policies.matrix import Documented, documented

SCHEMA = build_schema()


def scalar_fields(type_name: str) -> dict[str, str]:
    """attribute -> GraphQL name, for the type's plain (column) fields."""
    definition = NODE_TYPES[type_name].__strawberry_definition__  # type: ignore[attr-defined]
    columns = ENTITIES[type_name].columns
    exposed = SCHEMA._schema.type_map[type_name].fields  # type: ignore[attr-defined]
    names = {
        f.python_name: SCHEMA.config.name_converter.get_graphql_name(f)
        for f in definition.fields
        if f.base_resolver is None and f.python_name in columns and f.python_name != "id"
    }
    return {attribute: name for attribute, name in names.items() if name in exposed}


def root_fields() -> dict[str, str]:
    """type name -> a root connection field listing it (InvoiceLine has none)."""
    query = SCHEMA._schema.query_type
    assert query is not None
    found = {}
    for name, field in query.fields.items():
        type_name = str(field.type).removesuffix("!").removesuffix("Connection")
        if type_name in NODE_TYPES and not field.args.get("vehicleId"):
            found[type_name] = name
    return found


async def in_domain_id(caller: Hub, type_name: str) -> str | None:
    """An id the caller itself lists: a row inside its own domain."""
    field = root_fields().get(type_name)
    if field is None:
        return None
    data = await caller.data(f"{{ {field}(first: 1) {{ edges {{ node {{ id }} }} }} }}")
    edges = data[field]["edges"]
    return edges[0]["node"]["id"] if edges else None


def node_query(type_name: str) -> str:
    selection = " ".join(scalar_fields(type_name).values())
    return f"query($id: ID!) {{ node(id: $id) {{ ... on {type_name} {{ {selection} }} }} }}"


def global_id(type_name: str, row_id: int) -> str:
    import base64

    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def forbidden(body: dict[str, Any]) -> set[str]:
    return {
        e["extensions"]["field"]
        for e in body.get("errors", [])
        if e.get("extensions", {}).get("code") == "FORBIDDEN"
    }


async def first_ids(engine: AsyncEngine) -> dict[str, int]:
    ids = {}
    async with engine.connect() as connection:
        for name, entity in ENTITIES.items():
            found = (await connection.execute(select(func.min(entity.table.c.id)))).scalar()
            assert found is not None, f"the synthetic data has no {name}"
            ids[name] = int(found)
    return ids


async def scoped_kwargs(engine: AsyncEngine, department: str) -> dict[str, Any]:
    async with engine.connect() as connection:
        enterprise = (await connection.execute(select(func.min(m.WeighRecord.shipper_id)))).scalar()
        site = (await connection.execute(select(func.min(m.Site.id)))).scalar()
    scopes: dict[str, dict[str, Any]] = {
        "district": {"district_code": "150302"},
        "enterprise": {"enterprise_id": enterprise},
        "device": {"site_id": site},
    }
    return scopes.get(department, {})


def check_fields(
    doc: Documented, department: str, type_name: str, node: dict[str, Any], denied: set[str]
) -> None:
    clearance = doc.clearance[department]
    identify = doc.grants[(department, type_name)] == "R·id"
    for attribute, name in scalar_fields(type_name).items():
        rule = doc.field_rule(type_name, attribute)
        subject = f"{type_name}.{name}"
        where = (department, subject)
        if rule.secrecy <= clearance:
            assert subject not in denied, where
        elif rule.mask is not None and identify:
            assert subject not in denied, where
            assert node[name] is None or "*" in node[name], where
        else:
            assert node[name] is None, where
            assert subject in denied, where


async def test_every_department_sees_exactly_its_documented_cells(
    hub: Hub, engine: AsyncEngine
) -> None:
    await generate(engine, Scale.tiny())
    await hub.data("{ me { clientId } }")  # leaves an audit event to read
    await hub.flush_audit()
    doc = documented()
    ids = await first_ids(engine)
    for department in doc.departments:
        caller = await hub.as_client(department, **await scoped_kwargs(engine, department))
        scoped = department in ("district", "enterprise", "device")
        for type_name in doc.types:
            body = await caller.graphql(
                node_query(type_name), {"id": global_id(type_name, ids[type_name])}
            )
            denied = forbidden(body)
            readable = (
                doc.grants[(department, type_name)] != "—"
                and doc.type_level[type_name] <= doc.clearance[department]
            )
            assert (type_name not in denied) == readable, (department, type_name, body)
            assert body["data"] is not None, (department, type_name, body)
            node = body["data"]["node"]
            if not readable:
                assert node is None
                continue
            if node is None:
                assert scoped, (department, type_name, "an unscoped reader got nothing")
                row_id = await in_domain_id(caller, type_name)
                if row_id is None:
                    continue  # nothing of this type in the caller's domain
                body = await caller.graphql(node_query(type_name), {"id": row_id})
                node, denied = body["data"]["node"], forbidden(body)
            check_fields(doc, department, type_name, node, denied)
