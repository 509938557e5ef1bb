"""Coal quality samples."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry import relay

from schema.base import CatalogNode, Info, related
from schema.district import CoalProduct
from schema.enterprise import Enterprise
from schema.weighing import WeighRecord


@strawberry.type(description="A laboratory analysis of a coal sample.")
class QualitySample(CatalogNode):
    entity_name = "QualitySample"
    id: relay.NodeID[int]
    sample_no: str
    sampled_at: datetime
    laboratory: str | None
    total_moisture_pct: Decimal | None = strawberry.field(description="Mt, %")
    ash_pct: Decimal | None = strawberry.field(description="Ad, %")
    volatile_pct: Decimal | None = strawberry.field(description="Vdaf, %")
    sulphur_pct: Decimal | None = strawberry.field(description="St,d, %")
    calorific_mj_kg: Decimal | None = strawberry.field(description="Qnet,ar, MJ/kg")
    caking_index: int | None = strawberry.field(description="G")
    enterprise_id: strawberry.Private[int]
    product_id: strawberry.Private[int]
    weigh_record_id: strawberry.Private[int | None]

    @strawberry.field
    async def enterprise(self, info: Info) -> Enterprise | None:
        return await related(info, self, "enterprise", Enterprise)

    @strawberry.field
    async def product(self, info: Info) -> CoalProduct | None:
        return await related(info, self, "product", CoalProduct)

    @strawberry.field
    async def weigh_record(self, info: Info) -> WeighRecord | None:
        return await related(info, self, "weigh_record", WeighRecord)


@strawberry.input
class QualitySampleFilter:
    enterprise_id: relay.GlobalID | None = None
    product_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None
