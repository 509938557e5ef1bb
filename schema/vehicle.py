"""Transport vehicles and drivers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from coalhub.identifiers import PlateColour
from coalhub.models import EnergyType, Suspension, VehicleStatus
from schema.base import CatalogNode, Connection, Info, child_connection, filter_values, related
from schema.enterprise import Enterprise

if TYPE_CHECKING:
    from schema.checkpoint import CheckpointPass
    from schema.trajectory import TrajectoryPoint
    from schema.weighing import Shipment, WeighRecord, WeighRecordFilter


@strawberry.type(description="A registered (or seen but unregistered) transport vehicle.")
class Vehicle(CatalogNode):
    entity_name = "Vehicle"
    id: relay.NodeID[int]
    plate: str
    plate_colour: PlateColour
    status: VehicleStatus
    axles: int | None
    suspension: Suspension | None
    energy_type: EnergyType | None
    rated_payload_kg: int | None
    curb_weight_kg: int | None
    is_combination: bool = strawberry.field(description="Tractor with semi-trailer")
    tractor_single_drive_axle: bool
    transport_certificate: str | None = strawberry.field(description="道路运输证号")
    owner_enterprise_id: strawberry.Private[int | None]

    @strawberry.field
    async def owner(self, info: Info) -> Enterprise | None:
        return await related(info, self, "owner", Enterprise)

    @strawberry.field(description="Weighings of this vehicle, newest first")
    async def weigh_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[WeighRecordFilter, strawberry.lazy("schema.weighing")] | None = None,
    ) -> Connection[Annotated[WeighRecord, strawberry.lazy("schema.weighing")]] | None:
        from schema.weighing import WeighRecord

        filters = filter_values(filter)
        return await child_connection(
            info, self, "weigh_records", WeighRecord, filters, first, after
        )

    @strawberry.field(description="Hauls: sale weighings with their matched destinations")
    async def trips(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Connection[Annotated[Shipment, strawberry.lazy("schema.weighing")]] | None:
        from schema.base import root_connection
        from schema.weighing import Shipment

        filters = {"vehicle_id": self.id, "since": since, "until": until}
        return await root_connection(info, Shipment, filters, first, after)

    @strawberry.field(description="Positions, newest first")
    async def trajectory(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Connection[Annotated[TrajectoryPoint, strawberry.lazy("schema.trajectory")]] | None:
        from schema.trajectory import TrajectoryPoint

        filters = {"since": since, "until": until}
        return await child_connection(
            info, self, "trajectory", TrajectoryPoint, filters, first, after
        )

    @strawberry.field
    async def checkpoint_passes(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Connection[Annotated[CheckpointPass, strawberry.lazy("schema.checkpoint")]] | None:
        from schema.checkpoint import CheckpointPass

        filters = {"since": since, "until": until}
        return await child_connection(
            info, self, "checkpoint_passes", CheckpointPass, filters, first, after
        )


@strawberry.type(description="A registered driver. Name, ID number and phone are personal data.")
class Driver(CatalogNode):
    entity_name = "Driver"
    id: relay.NodeID[int]
    name: str | None
    id_number: str | None
    phone: str | None
    licence_class: str | None
    qualification_certificate: str | None = strawberry.field(description="从业资格证号")
    employer_id: strawberry.Private[int | None]

    @strawberry.field
    async def employer(self, info: Info) -> Enterprise | None:
        return await related(info, self, "employer", Enterprise)


@strawberry.input
class VehicleFilter:
    plate: str | None = None
    plate_colour: list[PlateColour] | None = None
    energy_type: list[EnergyType] | None = None
    status: list[VehicleStatus] | None = None
    owner_enterprise_id: relay.GlobalID | None = None
    district_code: str | None = None


@strawberry.input
class DriverFilter:
    employer_id: relay.GlobalID | None = None
