"""Enterprises, their sites and site devices."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from coalhub.models import DeviceKind, DeviceStatus, EnterpriseKind, RegistrationStatus, SiteKind
from schema.base import CatalogNode, Connection, Info, child_connection, related
from schema.district import District

if TYPE_CHECKING:
    from schema.quality import QualitySample
    from schema.vehicle import Vehicle
    from schema.weighing import WeighRecord, WeighRecordFilter

WeighRecordRef = Annotated["WeighRecord", strawberry.lazy("schema.weighing")]
WeighRecordFilterRef = Annotated["WeighRecordFilter", strawberry.lazy("schema.weighing")]


@strawberry.type(description="A registered coal enterprise (R1).")
class Enterprise(CatalogNode):
    entity_name = "Enterprise"
    id: relay.NodeID[int]
    uscc: str = strawberry.field(description="Unified social credit code, also the tax id")
    name: str
    kind: EnterpriseKind
    address: str | None
    latitude: float | None
    longitude: float | None
    registration_status: RegistrationStatus
    created_at: datetime
    annual_capacity_t: int | None = strawberry.field(description="Tonnes per year")
    legal_representative: str | None = strawberry.field(description="Personal data")
    contact_phone: str | None = strawberry.field(description="Personal data")
    district_id: strawberry.Private[int]

    @strawberry.field
    async def district(self, info: Info) -> District | None:
        return await related(info, self, "district", District)

    @strawberry.field
    async def sites(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Site] | None:
        return await child_connection(info, self, "sites", Site, {}, first, after)

    @strawberry.field(description="Vehicles the enterprise owns")
    async def vehicles(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Vehicle, strawberry.lazy("schema.vehicle")]] | None:
        from schema.vehicle import Vehicle

        return await child_connection(info, self, "vehicles", Vehicle, {}, first, after)

    @strawberry.field(description="Weighings where the enterprise is the shipper (sales out)")
    async def outbound_weigh_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: WeighRecordFilterRef | None = None,
    ) -> Connection[WeighRecordRef] | None:
        return await _weigh_records(info, self, "outbound_weigh_records", first, after, filter)

    @strawberry.field(description="Weighings where the enterprise is the consignee")
    async def inbound_weigh_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: WeighRecordFilterRef | None = None,
    ) -> Connection[WeighRecordRef] | None:
        return await _weigh_records(info, self, "inbound_weigh_records", first, after, filter)

    @strawberry.field
    async def quality_samples(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[QualitySample, strawberry.lazy("schema.quality")]] | None:
        from schema.quality import QualitySample

        return await child_connection(
            info, self, "quality_samples", QualitySample, {}, first, after
        )


async def _weigh_records(
    info: Info,
    parent: CatalogNode,
    relation: str,
    first: int | None,
    after: str | None,
    filter_input: object | None,
) -> Connection[WeighRecord] | None:
    from schema.base import filter_values
    from schema.weighing import WeighRecord

    filters = filter_values(filter_input)
    return await child_connection(info, parent, relation, WeighRecord, filters, first, after)


@strawberry.type(description="A gate, weighbridge, belt scale or metering point of an enterprise.")
class Site(CatalogNode):
    entity_name = "Site"
    id: relay.NodeID[int]
    code: str
    name: str
    kind: SiteKind
    latitude: float | None
    longitude: float | None
    geofence: JSON | None = strawberry.field(
        description="Closed ring of [longitude, latitude] pairs (WGS-84)"
    )
    capacity_kg: int | None
    last_seen_at: datetime | None = strawberry.field(description="Last heartbeat of any device")
    enterprise_id: strawberry.Private[int]

    @strawberry.field
    async def enterprise(self, info: Info) -> Enterprise | None:
        return await related(info, self, "enterprise", Enterprise)

    @strawberry.field
    async def devices(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Device] | None:
        return await child_connection(info, self, "devices", Device, {}, first, after)

    @strawberry.field
    async def weigh_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: WeighRecordFilterRef | None = None,
    ) -> Connection[WeighRecordRef] | None:
        return await _weigh_records(info, self, "weigh_records", first, after, filter)


@strawberry.type(description="An indicator, belt scale, camera or bridge at a site.")
class Device(CatalogNode):
    entity_name = "Device"
    id: relay.NodeID[int]
    code: str
    kind: DeviceKind
    protocol: str
    model: str | None
    status: DeviceStatus
    last_heartbeat_at: datetime | None
    last_state: JSON | None
    site_id: strawberry.Private[int]

    @strawberry.field
    async def site(self, info: Info) -> Site | None:
        return await related(info, self, "site", Site)


@strawberry.input
class EnterpriseFilter:
    district_code: str | None = None
    kind: list[EnterpriseKind] | None = None
    uscc: str | None = None
    name_contains: str | None = None
    registration_status: list[RegistrationStatus] | None = None


@strawberry.input
class SiteFilter:
    enterprise_id: relay.GlobalID | None = None
    district_code: str | None = None
    kind: list[SiteKind] | None = None


@strawberry.input
class DeviceFilter:
    site_id: relay.GlobalID | None = None
    kind: list[DeviceKind] | None = None
