"""Districts and the coal product dictionary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from coalhub.models import ProductCategory
from schema.base import CatalogNode, Connection, Info, child_connection

if TYPE_CHECKING:
    from schema.enterprise import Enterprise


@strawberry.type(description="A district of Wuhai (区); each is a policy domain.")
class District(CatalogNode):
    entity_name = "District"
    id: relay.NodeID[int]
    code: str = strawberry.field(description="GB/T 2260 division code, e.g. 150302")
    name: str
    name_en: str

    @strawberry.field
    async def enterprises(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Enterprise, strawberry.lazy("schema.enterprise")]] | None:
        from schema.enterprise import Enterprise

        return await child_connection(info, self, "enterprises", Enterprise, {}, first, after)


@strawberry.type(description="A coal product of the dictionary (原煤, 洗精煤, 焦炭 ...).")
class CoalProduct(CatalogNode):
    entity_name = "CoalProduct"
    id: relay.NodeID[int]
    code: str
    name: str = strawberry.field(description="Chinese name as used on tickets")
    name_en: str
    category: ProductCategory
    rank: str | None = strawberry.field(description="GB/T 5751 rank code, e.g. JM (焦煤)")
