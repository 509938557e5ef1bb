"""Road checkpoints and vehicle passes."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from coalhub.identifiers import PlateColour
from coalhub.models import PassDirection
from schema.base import CatalogNode, Connection, Info, child_connection, related
from schema.district import District
from schema.vehicle import Vehicle


@strawberry.type(description="A police road checkpoint (卡口).")
class Checkpoint(CatalogNode):
    entity_name = "Checkpoint"
    id: relay.NodeID[int]
    code: str
    name: str
    latitude: float
    longitude: float
    on_city_boundary: bool = strawberry.field(description="Passes here count coal in and out")
    district_id: strawberry.Private[int | None]

    @strawberry.field
    async def district(self, info: Info) -> District | None:
        return await related(info, self, "district", District)

    @strawberry.field
    async def passes(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[CheckpointPass] | None:
        return await child_connection(info, self, "passes", CheckpointPass, {}, first, after)


@strawberry.type(description="A vehicle captured passing a checkpoint.")
class CheckpointPass(CatalogNode):
    entity_name = "CheckpointPass"
    id: relay.NodeID[int]
    plate: str
    plate_colour: PlateColour | None
    direction: PassDirection
    lane: int | None
    passed_at: datetime
    image_sha256: str | None
    checkpoint_id: strawberry.Private[int]
    vehicle_id: strawberry.Private[int | None]

    @strawberry.field
    async def checkpoint(self, info: Info) -> Checkpoint | None:
        return await related(info, self, "checkpoint", Checkpoint)

    @strawberry.field
    async def vehicle(self, info: Info) -> Vehicle | None:
        return await related(info, self, "vehicle", Vehicle)


@strawberry.input
class CheckpointFilter:
    district_code: str | None = None
    on_city_boundary: bool | None = None


@strawberry.input
class CheckpointPassFilter:
    checkpoint_id: relay.GlobalID | None = None
    vehicle_id: relay.GlobalID | None = None
    plate: str | None = None
    direction: list[PassDirection] | None = None
    on_city_boundary: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
