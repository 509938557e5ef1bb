"""Vehicle positions."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from coalhub.models import LoadState, PositionSource
from schema.base import CatalogNode, Info, related
from schema.vehicle import Vehicle


@strawberry.type(description="A position report, raw WGS-84/CGCS2000 (convert to GCJ-02 on maps).")
class TrajectoryPoint(CatalogNode):
    entity_name = "TrajectoryPoint"
    id: relay.NodeID[int]
    recorded_at: datetime
    latitude: float
    longitude: float
    altitude_m: int | None
    speed_kmh: float | None
    heading: int | None
    load_state: LoadState | None
    source: PositionSource
    vehicle_id: strawberry.Private[int]

    @strawberry.field
    async def vehicle(self, info: Info) -> Vehicle | None:
        return await related(info, self, "vehicle", Vehicle)
