"""Bookings, check-in and queues at sites."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from coalhub.models import BookingStatus
from schema.base import CatalogNode, Info, related
from schema.contract import Contract
from schema.enterprise import Site
from schema.vehicle import Driver, Vehicle


@strawberry.type(description="A booked loading or unloading slot; check-in gives a queue number.")
class Booking(CatalogNode):
    entity_name = "Booking"
    id: relay.NodeID[int]
    slot_start: datetime
    status: BookingStatus
    checked_in_at: datetime | None
    queue_number: int | None
    priority: int = strawberry.field(description="Higher is called first (new-energy trucks)")
    site_id: strawberry.Private[int]
    vehicle_id: strawberry.Private[int]
    driver_id: strawberry.Private[int | None]
    contract_id: strawberry.Private[int | None]

    @strawberry.field
    async def site(self, info: Info) -> Site | None:
        return await related(info, self, "site", Site)

    @strawberry.field
    async def vehicle(self, info: Info) -> Vehicle | None:
        return await related(info, self, "vehicle", Vehicle)

    @strawberry.field
    async def driver(self, info: Info) -> Driver | None:
        return await related(info, self, "driver", Driver)

    @strawberry.field
    async def contract(self, info: Info) -> Contract | None:
        return await related(info, self, "contract", Contract)


@strawberry.input
class BookingFilter:
    site_id: relay.GlobalID | None = None
    vehicle_id: relay.GlobalID | None = None
    status: list[BookingStatus] | None = None
    since: datetime | None = None
    until: datetime | None = None
