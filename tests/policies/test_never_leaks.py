"""Property: whatever a client asks, no value above its clearance and no row outside its
domain ever comes back. Random clients, random queries drawn from the schema."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub.catalog import ENTITIES, Entity
from coalhub.secrecy import Secrecy
from schema.build import build_schema
from schema.root import NODE_TYPES
from tests.conftest import Hub

SCHEMA = build_schema()._schema
DEPARTMENTS = [
    "tax", "finance", "energy", "development_reform", "industry_it", "transport", "police",
    "market_regulation", "big_data_centre", "municipal_brain", "district", "enterprise",
]  # fmt: skip


@dataclass(frozen=True)
class ClientSpec:
    department: str
    clearance: Secrecy
    district_code: str
    enterprise_rank: int
    with_purpose: bool


clients = st.builds(
    ClientSpec,
    department=st.sampled_from(DEPARTMENTS),
    clearance=st.sampled_from(list(Secrecy)),
    district_code=st.sampled_from(["150302", "150303", "150304"]),
    enterprise_rank=st.integers(0, 5),
    with_purpose=st.booleans(),
)


def _object_fields(type_name: str) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """(scalar field names, [(relation field, target type, is connection)])"""
    graphql_type = SCHEMA.type_map[type_name]
    scalars, relations = [], []
    for name, field in graphql_type.fields.items():  # type: ignore[attr-defined]
        target = str(field.type).strip("!")
        if target.endswith("Connection") and target[: -len("Connection")] in NODE_TYPES:
            relations.append((name, target[: -len("Connection")], True))
        elif target in NODE_TYPES:
            relations.append((name, target, False))
        elif not field.args and name != "id":
            scalars.append(name)
    return scalars, relations


@st.composite
def selections(draw: st.DrawFn, type_name: str, depth: int) -> str:
    scalars, relations = _object_fields(type_name)
    chosen = draw(st.lists(st.sampled_from(scalars), min_size=1, max_size=6, unique=True))
    parts = ["__typename", "id", *chosen]
    if depth > 0 and relations:
        for name, target, many in draw(
            st.lists(st.sampled_from(relations), max_size=2, unique=True)
        ):
            inner = draw(selections(target, depth - 1))
            if many:
                parts.append(f"{name}(first: 3) {{ nodes {{ {inner} }} }}")
            else:
                parts.append(f"{name} {{ {inner} }}")
    return " ".join(parts)


ROOTS = {
    name: str(field.type).strip("!").removesuffix("Connection")
    for name, field in SCHEMA.query_type.fields.items()  # type: ignore[union-attr]
    if str(field.type).strip("!").endswith("Connection")
    and name not in ("trajectory", "auditEvents")
}


@st.composite
def queries(draw: st.DrawFn) -> str:
    root = draw(st.sampled_from(sorted(ROOTS)))
    inner = draw(selections(ROOTS[root], depth=2))
    query_type = SCHEMA.query_type
    assert query_type is not None
    page = "(first: 5)" if "first" in query_type.fields[root].args else ""
    return f"{{ {root}{page} {{ nodes {{ {inner} }} }} }}"


def objects(value: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(value, dict):
        if "__typename" in value:
            found.append(value)
        for item in value.values():
            found.extend(objects(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(objects(item))
    return found


def secrecy_of(type_name: str, graphql_name: str) -> tuple[Secrecy, bool]:
    entity = ENTITIES[type_name]
    for attribute, column in entity.columns.items():
        camel = attribute.split("_")[0] + "".join(p.title() for p in attribute.split("_")[1:])
        if camel == graphql_name:
            return column.secrecy, column.mask is not None
    return Secrecy.PUBLIC, False  # computed fields carry no data of their own


async def district_of(engine: AsyncEngine, entity: Entity, row_id: int) -> str | None:
    """Follow the declared district path one primary-key lookup at a time (deliberately not
    the SQL the resolvers build)."""
    current, key = entity, row_id
    async with engine.connect() as connection:
        for hop in entity.district_path[:-1]:
            relation = current.relations[hop]
            row = (
                (await connection.execute(select(current.table).where(current.table.c.id == key)))
                .mappings()
                .one()
            )
            current, key = ENTITIES[relation.target], row[relation.local]
            if key is None:
                return None
        row = (
            (await connection.execute(select(current.table).where(current.table.c.id == key)))
            .mappings()
            .one()
        )
        return str(row[entity.district_path[-1]])


def effective(spec: ClientSpec) -> Secrecy:
    return spec.clearance if spec.with_purpose else min(spec.clearance, Secrecy.INTERNAL)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(spec=clients, query=queries())
async def test_no_value_above_clearance_or_outside_the_domain(
    seeded_hub: Hub, engine: AsyncEngine, spec: ClientSpec, query: str
) -> None:
    hub = seeded_hub
    kwargs: dict[str, Any] = {"clearance": spec.clearance.value}
    if spec.department == "district":
        kwargs["district_code"] = spec.district_code
    if spec.department == "enterprise":
        kwargs["enterprise_id"] = spec.enterprise_rank + 1
    purpose = {} if spec.with_purpose else {"user_id": None, "purpose": None}
    caller = await hub.as_client(spec.department, **kwargs, **purpose)
    body = await caller.graphql(query)
    assert "errors" not in body or all(
        e["extensions"]["code"] == "FORBIDDEN" for e in body["errors"]
    ), body
    clearance = effective(spec)
    for obj in objects(body.get("data")):
        type_name = obj["__typename"]
        for name, value in obj.items():
            level, personal = secrecy_of(type_name, name)
            if value is not None and level > clearance:
                where = (spec, type_name, name)
                assert personal, where
                assert isinstance(value, str), where
                assert "*" in value, where
        entity = ENTITIES[type_name]
        if spec.department == "district" and not entity.reference and entity.district_path:
            row_id = int(base64.b64decode(obj["id"]).decode().split(":")[1])
            assert await district_of(engine, entity, row_id) == spec.district_code, (
                spec,
                type_name,
            )
