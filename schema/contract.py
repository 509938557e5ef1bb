"""Supply contracts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry import relay

from coalhub.models import ContractStatus
from schema.base import CatalogNode, Connection, Info, child_connection, related
from schema.district import CoalProduct
from schema.enterprise import Enterprise
from schema.weighing import WeighRecord


@strawberry.type(
    description="A supply contract; guaranteed-supply (保供) contracts are tracked end to end."
)
class Contract(CatalogNode):
    entity_name = "Contract"
    id: relay.NodeID[int]
    number: str
    quantity_t: Decimal = strawberry.field(description="Contracted tonnes")
    period_start: date
    period_end: date
    guaranteed_supply: bool
    status: ContractStatus
    unit_price: Decimal | None = strawberry.field(description="Yuan per tonne, tax included")
    seller_id: strawberry.Private[int]
    buyer_id: strawberry.Private[int]
    product_id: strawberry.Private[int]

    @strawberry.field
    async def seller(self, info: Info) -> Enterprise | None:
        return await related(info, self, "seller", Enterprise)

    @strawberry.field
    async def buyer(self, info: Info) -> Enterprise | None:
        return await related(info, self, "buyer", Enterprise)

    @strawberry.field
    async def product(self, info: Info) -> CoalProduct | None:
        return await related(info, self, "product", CoalProduct)

    @strawberry.field(description="Weighings booked against this contract")
    async def weigh_records(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WeighRecord] | None:
        return await child_connection(info, self, "weigh_records", WeighRecord, {}, first, after)


@strawberry.input
class ContractFilter:
    enterprise_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Seller or buyer"
    )
    seller_id: relay.GlobalID | None = None
    buyer_id: relay.GlobalID | None = None
    product_code: str | None = None
    guaranteed_supply: bool | None = None
    status: list[ContractStatus] | None = None
    district_code: str | None = None
