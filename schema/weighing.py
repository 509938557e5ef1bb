"""Weigh records (electronic weigh tickets) and shipments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from coalhub.models import RecordSource, WeighDirection
from schema.base import CatalogNode, Connection, Info, child_connection, related
from schema.district import CoalProduct
from schema.enterprise import Device, Enterprise, Site
from schema.vehicle import Driver, Vehicle

if TYPE_CHECKING:
    from schema.checkpoint import CheckpointPass
    from schema.contract import Contract
    from schema.trajectory import TrajectoryPoint


@strawberry.type(description="An electronic weigh ticket: gross, tare and net in kilograms.")
class WeighRecord(CatalogNode):
    entity_name = "WeighRecord"
    id: relay.NodeID[int]
    ticket_no: str
    direction: WeighDirection
    plate_read: str = strawberry.field(description="The plate as the gate camera read it")
    gross_kg: int
    tare_kg: int
    net_kg: int
    gross_at: datetime
    tare_at: datetime
    weighed_at: datetime = strawberry.field(description="When the ticket was completed")
    source: RecordSource
    received_at: datetime
    unit_price: Decimal | None = strawberry.field(description="Yuan per tonne, tax included")
    evidence: JSON | None = strawberry.field(
        description="Raw indicator frames of the stable windows, image hashes, timings"
    )
    site_id: strawberry.Private[int]
    device_id: strawberry.Private[int | None]
    contract_id: strawberry.Private[int | None]
    vehicle_id: strawberry.Private[int]
    driver_id: strawberry.Private[int | None]
    product_id: strawberry.Private[int]
    shipper_id: strawberry.Private[int]
    consignee_id: strawberry.Private[int]

    @strawberry.field
    async def site(self, info: Info) -> Site | None:
        return await related(info, self, "site", Site)

    @strawberry.field
    async def device(self, info: Info) -> Device | None:
        return await related(info, self, "device", Device)

    @strawberry.field
    async def vehicle(self, info: Info) -> Vehicle | None:
        return await related(info, self, "vehicle", Vehicle)

    @strawberry.field
    async def driver(self, info: Info) -> Driver | None:
        return await related(info, self, "driver", Driver)

    @strawberry.field
    async def product(self, info: Info) -> CoalProduct | None:
        return await related(info, self, "product", CoalProduct)

    @strawberry.field
    async def shipper(self, info: Info) -> Enterprise | None:
        return await related(info, self, "shipper", Enterprise)

    @strawberry.field
    async def consignee(self, info: Info) -> Enterprise | None:
        return await related(info, self, "consignee", Enterprise)

    @strawberry.field
    async def contract(
        self, info: Info
    ) -> Annotated[Contract, strawberry.lazy("schema.contract")] | None:
        from schema.contract import Contract

        return await related(info, self, "contract", Contract)


@strawberry.type(description="A haul: the origin sale weighing and, once matched, the destination.")
class Shipment(CatalogNode):
    entity_name = "Shipment"
    id: relay.NodeID[int]
    matched_at: datetime | None
    origin_weigh_record_id: strawberry.Private[int]
    destination_weigh_record_id: strawberry.Private[int | None]
    exit_checkpoint_pass_id: strawberry.Private[int | None]

    @strawberry.field
    async def origin(self, info: Info) -> WeighRecord | None:
        return await related(info, self, "origin", WeighRecord)

    @strawberry.field
    async def destination(self, info: Info) -> WeighRecord | None:
        return await related(info, self, "destination", WeighRecord)

    @strawberry.field(description="The boundary checkpoint pass when the coal left the city")
    async def exit_pass(
        self, info: Info
    ) -> Annotated[CheckpointPass, strawberry.lazy("schema.checkpoint")] | None:
        from schema.checkpoint import CheckpointPass

        return await related(info, self, "exit_pass", CheckpointPass)

    @strawberry.field(description="Positions of the vehicle between the two weighings")
    async def trajectory(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[TrajectoryPoint, strawberry.lazy("schema.trajectory")]] | None:
        from resolvers.weighing import trip_window

        origin = await related(info, self, "origin", WeighRecord)
        if origin is None:
            return None
        destination = await related(info, self, "destination", WeighRecord)
        arrived = None if destination is None else destination.weighed_at
        since, until = trip_window(origin.weighed_at, arrived)
        vehicle = await related(info, origin, "vehicle", Vehicle)
        if vehicle is None:
            return None
        from schema.trajectory import TrajectoryPoint

        filters = {"since": since, "until": until}
        return await child_connection(
            info, vehicle, "trajectory", TrajectoryPoint, filters, first, after
        )


@strawberry.input
class WeighRecordFilter:
    district_code: str | None = None
    enterprise_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Shipper or consignee"
    )
    shipper_id: relay.GlobalID | None = None
    consignee_id: relay.GlobalID | None = None
    site_id: relay.GlobalID | None = None
    vehicle_id: relay.GlobalID | None = None
    contract_id: relay.GlobalID | None = None
    plate: str | None = None
    product_code: str | None = None
    direction: list[WeighDirection] | None = None
    since: datetime | None = strawberry.field(default=None, description="weighedAt >= since")
    until: datetime | None = strawberry.field(default=None, description="weighedAt < until")


@strawberry.input
class ShipmentFilter:
    district_code: str | None = None
    shipper_id: relay.GlobalID | None = None
    consignee_id: relay.GlobalID | None = None
    vehicle_id: relay.GlobalID | None = None
    plate: str | None = None
    product_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None
