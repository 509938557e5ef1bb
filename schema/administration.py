"""R7 tiered administration mutations."""

from __future__ import annotations

import strawberry
from strawberry import relay

from coalhub.models import RegistrationStatus
from resolvers import administration as a
from schema.base import Info
from schema.enterprise import Enterprise
from schema.registration import local_id, reload


@strawberry.input(description="A grant to one enterprise or device client of the district")
class AccessGrantInput:
    client_id: str = strawberry.field(description="The OAuth client id of the grantee")
    type: str = strawberry.field(description="Object type name, e.g. Contract")
    action: str = strawberry.field(description="read, identify or ingest")


@strawberry.type
class AccessGrantPayload:
    changed: bool = strawberry.field(description="False when the grant was already so")


async def grant_access(info: Info, input: AccessGrantInput) -> AccessGrantPayload:
    grant = a.Grant(input.client_id, input.type, input.action)
    return AccessGrantPayload(changed=await a.grant_access(info.context, grant))


async def revoke_access(info: Info, input: AccessGrantInput) -> AccessGrantPayload:
    grant = a.Grant(input.client_id, input.type, input.action)
    return AccessGrantPayload(changed=await a.revoke_access(info.context, grant))


@strawberry.type
class EnterprisePayload:
    enterprise: Enterprise | None


async def set_enterprise_registration_status(
    info: Info, id: relay.GlobalID, status: RegistrationStatus
) -> EnterprisePayload:
    enterprise_id = local_id("id", id, Enterprise)
    assert enterprise_id is not None
    await a.set_registration_status(info.context, enterprise_id, status)
    return EnterprisePayload(enterprise=await reload(info, Enterprise, enterprise_id))


@strawberry.input
class UpdateEnterpriseInput:
    id: relay.GlobalID
    name: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    legal_representative: str | None = None
    contact_phone: str | None = None


async def update_enterprise(info: Info, input: UpdateEnterpriseInput) -> EnterprisePayload:
    enterprise_id = local_id("id", input.id, Enterprise)
    assert enterprise_id is not None
    changes = a.BaseDataChanges(
        name=input.name,
        address=input.address,
        latitude=input.latitude,
        longitude=input.longitude,
        legal_representative=input.legal_representative,
        contact_phone=input.contact_phone,
    )
    await a.update_enterprise(info.context, enterprise_id, changes)
    return EnterprisePayload(enterprise=await reload(info, Enterprise, enterprise_id))
