"""R1 registration mutations: inputs, payloads and the fields that run them."""

from __future__ import annotations

import strawberry
from strawberry import relay

from coalhub.errors import InvalidInputError
from coalhub.identifiers import PlateColour
from coalhub.models import EnergyType, EnterpriseKind, Suspension
from resolvers import registration as r
from schema.base import CatalogNode, Info, NodeT
from schema.enterprise import Enterprise
from schema.vehicle import Driver, Vehicle


def local_id(field: str, value: relay.GlobalID | None, node: type[CatalogNode]) -> int | None:
    if value is None:
        return None
    if value.type_name != node.entity_name or not value.node_id.isdigit():
        raise InvalidInputError(field, "wrong_type", f"{field} must be a {node.entity_name} id")
    return int(value.node_id)


async def reload(info: Info, node: type[NodeT], row_id: int) -> NodeT:
    nodes = await node.resolve_nodes(info=info, node_ids=[str(row_id)])
    loaded = nodes[0]
    assert loaded is not None  # just written in this transaction
    return loaded


@strawberry.input
class RegisterEnterpriseInput:
    uscc: str
    name: str
    kind: EnterpriseKind
    district_code: str
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    legal_representative: str | None = None
    contact_phone: str | None = None
    annual_capacity_t: int | None = None


@strawberry.type
class RegisterEnterprisePayload:
    enterprise: Enterprise


@strawberry.input
class RegisterVehicleInput:
    plate: str
    plate_colour: PlateColour
    axles: int
    energy_type: EnergyType
    rated_payload_kg: int
    transport_certificate: str = strawberry.field(description="道路运输证号")
    suspension: Suspension = Suspension.STEEL
    curb_weight_kg: int | None = None
    is_combination: bool = False
    tractor_single_drive_axle: bool = False
    owner_enterprise_id: relay.GlobalID | None = None


@strawberry.type
class RegisterVehiclePayload:
    vehicle: Vehicle


@strawberry.input
class RegisterDriverInput:
    name: str
    id_number: str
    phone: str
    licence_class: str | None = None
    qualification_certificate: str | None = None
    employer_id: relay.GlobalID | None = None


@strawberry.type
class RegisterDriverPayload:
    driver: Driver


async def register_enterprise(
    info: Info, input: RegisterEnterpriseInput
) -> RegisterEnterprisePayload:
    fields = r.EnterpriseFields(**vars(input))
    row_id = await r.register_enterprise(info.context, fields)
    return RegisterEnterprisePayload(enterprise=await reload(info, Enterprise, row_id))


async def register_vehicle(info: Info, input: RegisterVehicleInput) -> RegisterVehiclePayload:
    values = vars(input) | {
        "owner_enterprise_id": local_id("ownerEnterpriseId", input.owner_enterprise_id, Enterprise)
    }
    row_id = await r.register_vehicle(info.context, r.VehicleFields(**values))
    return RegisterVehiclePayload(vehicle=await reload(info, Vehicle, row_id))


async def register_driver(info: Info, input: RegisterDriverInput) -> RegisterDriverPayload:
    values = vars(input) | {"employer_id": local_id("employerId", input.employer_id, Enterprise)}
    row_id = await r.register_driver(info.context, r.DriverFields(**values))
    return RegisterDriverPayload(driver=await reload(info, Driver, row_id))
