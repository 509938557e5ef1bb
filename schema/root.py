"""The table of contents: every root field of the public contract and what guards it.

Root field names are a public contract that agency apps code against: `node`, `me`,
`enterprises`, `vehicles`, `drivers`, `sites`, `contracts`, `weighRecords`, `shipments`,
`trajectory`, `checkpointPasses`, `invoices` (and more may be added, never renamed)."""

# No `from __future__ import annotations` here: connection_field builds resolvers whose
# annotations must be real objects at definition time.

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from coalhub.errors import BadRequestError
from schema import administration, audit, ingest, registration
from schema import enums as _enums  # noqa: F401 - registers the domain enums
from schema.alert import Alert, AlertFilter
from schema.base import CatalogNode, Connection, Info, filter_values, root_connection
from schema.booking import Booking, BookingFilter
from schema.checkpoint import Checkpoint, CheckpointFilter, CheckpointPass, CheckpointPassFilter
from schema.contract import Contract, ContractFilter
from schema.district import CoalProduct, District
from schema.enterprise import Device, DeviceFilter, Enterprise, EnterpriseFilter, Site, SiteFilter
from schema.invoice import Invoice, InvoiceFilter, InvoiceLine, Payment, PaymentFilter
from schema.me import Caller, me
from schema.quality import QualitySample, QualitySampleFilter
from schema.trajectory import TrajectoryPoint
from schema.vehicle import Driver, DriverFilter, Vehicle, VehicleFilter
from schema.weighing import Shipment, ShipmentFilter, WeighRecord, WeighRecordFilter


def connection_field(node: type[CatalogNode], filter_type: type, description: str) -> Any:
    async def resolve(
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: filter_type | None = None,  # type: ignore[valid-type]
    ) -> Connection[node] | None:  # type: ignore[valid-type]
        return await root_connection(info, node, filter_values(filter), first, after)

    return strawberry.field(resolver=resolve, description=description)


async def resolve_trajectory(
    info: Info,
    vehicle_id: relay.GlobalID | None = None,
    plate: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[TrajectoryPoint] | None:
    if vehicle_id is None and plate is None:
        raise BadRequestError("FILTER_REQUIRED", "give vehicleId or plate")
    filters = filter_values(
        TrajectoryArgs(vehicle_id=vehicle_id, plate=plate, since=since, until=until)
    )
    return await root_connection(info, TrajectoryPoint, filters, first, after)


async def resolve_node(info: Info, global_id: relay.GlobalID) -> relay.Node | None:
    node_type = NODE_TYPES.get(global_id.type_name)
    if node_type is None:
        raise BadRequestError("BAD_ID", f"no object type named {global_id.type_name!r}")
    [found] = await node_type.resolve_nodes(info=info, node_ids=[global_id.node_id])
    return found


@strawberry.input
class TrajectoryArgs:
    vehicle_id: relay.GlobalID | None = None
    plate: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id")
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description="Objects by their global ids, in the order given")
    async def nodes(self, info: Info, ids: list[relay.GlobalID]) -> list[relay.Node | None]:
        return [await resolve_node(info, global_id) for global_id in ids]

    me: Caller = strawberry.field(resolver=me, description="The calling client")

    @strawberry.field(description="The three districts of Wuhai")
    async def districts(self, info: Info) -> Connection[District] | None:
        return await root_connection(info, District, {}, None, None)

    @strawberry.field(description="The coal product dictionary")
    async def products(self, info: Info) -> Connection[CoalProduct] | None:
        return await root_connection(info, CoalProduct, {}, 100, None)

    enterprises = connection_field(Enterprise, EnterpriseFilter, "Registered enterprises")
    sites = connection_field(Site, SiteFilter, "Gates, weighbridges, belt scales")
    devices = connection_field(Device, DeviceFilter, "Devices at sites")
    vehicles = connection_field(Vehicle, VehicleFilter, "Transport vehicles")
    drivers = connection_field(Driver, DriverFilter, "Registered drivers")
    contracts = connection_field(Contract, ContractFilter, "Supply contracts")
    weigh_records = connection_field(WeighRecord, WeighRecordFilter, "Weigh tickets, newest first")
    shipments = connection_field(Shipment, ShipmentFilter, "Hauls, newest first")
    trajectory = strawberry.field(
        resolver=resolve_trajectory, description="Positions of one vehicle, newest first"
    )
    checkpoints = connection_field(Checkpoint, CheckpointFilter, "Road checkpoints")
    checkpoint_passes = connection_field(
        CheckpointPass, CheckpointPassFilter, "Checkpoint captures, newest first"
    )
    invoices = connection_field(Invoice, InvoiceFilter, "Electronic invoices, newest first")
    payments = connection_field(Payment, PaymentFilter, "Payments, newest first")
    quality_samples = connection_field(QualitySample, QualitySampleFilter, "Quality samples")
    alerts = connection_field(Alert, AlertFilter, "Alerts, newest first")
    bookings = connection_field(Booking, BookingFilter, "Bookings and queues")
    audit_events = strawberry.field(
        resolver=audit.audit_events,
        description="The audit trail: auditors see every event, other clients their own",
    )


@strawberry.type
class Mutation:
    register_enterprise = strawberry.mutation(
        resolver=registration.register_enterprise, description="R1: register an enterprise"
    )
    register_vehicle = strawberry.mutation(
        resolver=registration.register_vehicle, description="R1: register a vehicle"
    )
    register_driver = strawberry.mutation(
        resolver=registration.register_driver, description="R1: register a driver"
    )
    update_enterprise = strawberry.mutation(
        resolver=administration.update_enterprise,
        description="R7: an enterprise edits its own base data (not its registration status)",
    )
    set_enterprise_registration_status = strawberry.mutation(
        resolver=administration.set_enterprise_registration_status,
        description="R7: a district approves, suspends or revokes its enterprises",
    )
    grant_access = strawberry.mutation(
        resolver=administration.grant_access,
        description="R7: a district grants one of its enterprise or device clients access",
    )
    revoke_access = strawberry.mutation(
        resolver=administration.revoke_access,
        description="R7: a district revokes a grant it made",
    )
    ingest_weigh_records = strawberry.mutation(
        resolver=ingest.ingest_weigh_records,
        description="R2: a site bridge delivers completed weighings (at most 500); device "
        "clients only, for their own site. Redelivery is harmless: one result per record",
    )
    report_device_status = strawberry.mutation(
        resolver=ingest.report_device_status,
        description="R2: a site bridge reports its devices' state (heartbeat); device "
        "clients only, for their own site",
    )


# types reachable only through the Node interface must still be in the schema
EXTRA_TYPES: list[type] = [InvoiceLine]

NODE_TYPES: dict[str, type[CatalogNode]] = {
    node.entity_name: node
    for node in (
        audit.AuditEvent,
        Alert,
        Booking,
        Checkpoint,
        CheckpointPass,
        CoalProduct,
        Contract,
        Device,
        District,
        Driver,
        Enterprise,
        Invoice,
        InvoiceLine,
        Payment,
        QualitySample,
        Shipment,
        Site,
        TrajectoryPoint,
        Vehicle,
        WeighRecord,
    )
}
