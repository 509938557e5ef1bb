"""Alerts raised for officials and enterprises."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from coalhub.models import AlertKind, AlertStatus
from schema.base import CatalogNode, Info, related
from schema.district import District
from schema.enterprise import Enterprise, Site
from schema.vehicle import Vehicle
from schema.weighing import WeighRecord


@strawberry.type(description="An alert (预警), graded 1 (general) to 4 (most severe).")
class Alert(CatalogNode):
    entity_name = "Alert"
    id: relay.NodeID[int]
    kind: AlertKind
    severity: int
    status: AlertStatus
    title: str = strawberry.field(description="zh-CN text shown to officials")
    routed_to: str = strawberry.field(description="Department code the alert is routed to")
    raised_at: datetime
    closed_at: datetime | None
    detail: str | None
    district_id: strawberry.Private[int | None]
    enterprise_id: strawberry.Private[int | None]
    site_id: strawberry.Private[int | None]
    vehicle_id: strawberry.Private[int | None]
    weigh_record_id: strawberry.Private[int | None]

    @strawberry.field
    async def district(self, info: Info) -> District | None:
        return await related(info, self, "district", District)

    @strawberry.field
    async def enterprise(self, info: Info) -> Enterprise | None:
        return await related(info, self, "enterprise", Enterprise)

    @strawberry.field
    async def site(self, info: Info) -> Site | None:
        return await related(info, self, "site", Site)

    @strawberry.field
    async def vehicle(self, info: Info) -> Vehicle | None:
        return await related(info, self, "vehicle", Vehicle)

    @strawberry.field
    async def weigh_record(self, info: Info) -> WeighRecord | None:
        return await related(info, self, "weigh_record", WeighRecord)


@strawberry.input
class AlertFilter:
    kind: list[AlertKind] | None = None
    status: list[AlertStatus] | None = None
    district_code: str | None = None
    enterprise_id: relay.GlobalID | None = None
    min_severity: int | None = None
    since: datetime | None = None
    until: datetime | None = None
