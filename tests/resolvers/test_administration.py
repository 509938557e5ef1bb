"""R7: districts administer their own enterprises' access and registration; enterprises
maintain their own base data; every policy change is audited."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from coalhub.models import AuditEvent
from tests.conftest import Hub
from tests.factories import World, seed_world

GRANT = """mutation($input: AccessGrantInput!) { grantAccess(input: $input) { changed } }"""
REVOKE = """mutation($input: AccessGrantInput!) { revokeAccess(input: $input) { changed } }"""


def gid(type_name: str, row_id: int) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


async def enterprise_in(engine: AsyncEngine, world: World, code: str) -> int:
    async with engine.connect() as connection:
        statement = select(m.Enterprise.id).where(
            m.Enterprise.district_id == world.district_ids[code], m.Enterprise.kind == "mine"
        )
        return int((await connection.execute(statement)).scalars().first() or 0)


async def client_id_of(caller: Hub) -> str:
    return str((await caller.data("{ me { clientId } }"))["me"]["clientId"])


async def test_a_district_grants_and_revokes_its_enterprise(hub: Hub, engine: AsyncEngine) -> None:
    world = await seed_world(engine)
    mine = await enterprise_in(engine, world, "150302")
    enterprise = await hub.as_client("enterprise", enterprise_id=mine)
    district = await hub.as_client("district", district_code="150302")
    grantee = await client_id_of(enterprise)
    query = '{ trajectory(plate: "蒙C10000") { totalCount } }'

    refused = await enterprise.graphql(query)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    grant = {"clientId": grantee, "type": "TrajectoryPoint", "action": "read"}
    assert (await district.data(GRANT, {"input": grant}))["grantAccess"]["changed"] is True
    assert (await district.data(GRANT, {"input": grant}))["grantAccess"]["changed"] is False
    allowed = await enterprise.graphql(query)
    assert "errors" not in allowed
    # still confined to its own enterprise: the truck is owned by it
    assert allowed["data"]["trajectory"]["totalCount"] == 30

    assert (await district.data(REVOKE, {"input": grant}))["revokeAccess"]["changed"] is True
    again = await enterprise.graphql(query)
    assert again["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    await hub.flush_audit()
    async with engine.connect() as connection:
        changes = (
            await connection.execute(
                select(AuditEvent.operation_name).where(AuditEvent.operation_name.like("policy:%"))
            )
        ).scalars()
        assert sorted(str(change) for change in changes) == ["policy:grant", "policy:revoke"]


async def test_a_district_cannot_touch_another_districts_clients(
    hub: Hub, engine: AsyncEngine
) -> None:
    world = await seed_world(engine)
    wuda_mine = await enterprise_in(engine, world, "150304")
    grantee = await client_id_of(await hub.as_client("enterprise", enterprise_id=wuda_mine))
    haibowan = await hub.as_client("district", district_code="150302")
    body = await haibowan.graphql(
        GRANT, {"input": {"clientId": grantee, "type": "Contract", "action": "read"}}
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_only_district_administrators_grant(hub: Hub, engine: AsyncEngine) -> None:
    world = await seed_world(engine)
    mine = await enterprise_in(engine, world, "150302")
    grantee = await client_id_of(await hub.as_client("enterprise", enterprise_id=mine))
    for department in ("tax", "enterprise"):
        extra: dict[str, Any] = {"enterprise_id": mine} if department == "enterprise" else {}
        caller = await hub.as_client(department, **extra)
        body = await caller.graphql(
            GRANT, {"input": {"clientId": grantee, "type": "Contract", "action": "read"}}
        )
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", department


async def test_enterprises_edit_their_base_data_but_not_their_status(
    hub: Hub, engine: AsyncEngine
) -> None:
    world = await seed_world(engine)
    mine = await enterprise_in(engine, world, "150302")
    other = await enterprise_in(engine, world, "150303")
    enterprise = await hub.as_client("enterprise", enterprise_id=mine)
    update = """mutation($input: UpdateEnterpriseInput!) {
        updateEnterprise(input: $input) { enterprise { name address } } }"""
    data = await enterprise.data(
        update, {"input": {"id": gid("Enterprise", mine), "address": "乌海市海勃湾区新华大街1号"}}
    )
    assert data["updateEnterprise"]["enterprise"]["address"] == "乌海市海勃湾区新华大街1号"
    foreign_input = {"input": {"id": gid("Enterprise", other), "name": "x"}}
    foreign = await enterprise.graphql(update, foreign_input)
    assert foreign["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    status = """mutation($id: ID!) {
        setEnterpriseRegistrationStatus(id: $id, status: APPROVED) {
            enterprise { registrationStatus } } }"""
    refused = await enterprise.graphql(status, {"id": gid("Enterprise", mine)})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    district = await hub.as_client("district", district_code="150302")
    approved = await district.data(status, {"id": gid("Enterprise", mine)})
    changed = approved["setEnterpriseRegistrationStatus"]["enterprise"]
    assert changed["registrationStatus"] == "APPROVED"
