"""Electronic invoices and payments (the invoice and funds flows)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry import relay

from coalhub.models import InvoiceKind
from schema.base import CatalogNode, Connection, Info, child_connection, related
from schema.contract import Contract
from schema.district import CoalProduct
from schema.enterprise import Enterprise


@strawberry.type(
    description="An electronic VAT invoice (数电票); red invoices reverse an original."
)
class Invoice(CatalogNode):
    entity_name = "Invoice"
    id: relay.NodeID[int]
    number: str = strawberry.field(description="20-digit invoice number")
    kind: InvoiceKind
    issued_at: datetime
    seller_tax_id: str
    seller_name: str
    buyer_tax_id: str
    buyer_name: str
    total_amount: Decimal | None = strawberry.field(description="Yuan, before tax")
    total_tax: Decimal | None
    original_number: str | None = strawberry.field(
        description="For a red invoice: the number of the invoice it reverses (`original` is "
        "null until that invoice is imported)"
    )
    seller_id: strawberry.Private[int | None]
    buyer_id: strawberry.Private[int | None]
    original_invoice_id: strawberry.Private[int | None]

    @strawberry.field(description="The registered enterprise matching the seller's tax id")
    async def seller(self, info: Info) -> Enterprise | None:
        return await related(info, self, "seller", Enterprise)

    @strawberry.field(description="The registered enterprise matching the buyer's tax id")
    async def buyer(self, info: Info) -> Enterprise | None:
        return await related(info, self, "buyer", Enterprise)

    @strawberry.field(description="For a red invoice: the invoice it reverses")
    async def original(self, info: Info) -> Invoice | None:
        return await related(info, self, "original", Invoice)

    @strawberry.field
    async def lines(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[InvoiceLine] | None:
        return await child_connection(info, self, "lines", InvoiceLine, {}, first, after)


@strawberry.type(description="A line of an invoice.")
class InvoiceLine(CatalogNode):
    entity_name = "InvoiceLine"
    id: relay.NodeID[int]
    line_no: int
    item_name: str
    specification: str | None
    unit: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal | None
    tax_rate: Decimal | None = strawberry.field(description="Percent, e.g. 13")
    tax_amount: Decimal | None
    invoice_id: strawberry.Private[int]
    product_id: strawberry.Private[int | None]

    @strawberry.field
    async def product(self, info: Info) -> CoalProduct | None:
        return await related(info, self, "product", CoalProduct)


@strawberry.type(description="A payment between enterprises (the funds flow).")
class Payment(CatalogNode):
    entity_name = "Payment"
    id: relay.NodeID[int]
    reference: str
    amount: Decimal
    paid_at: datetime
    payer_id: strawberry.Private[int]
    payee_id: strawberry.Private[int]
    invoice_id: strawberry.Private[int | None]
    contract_id: strawberry.Private[int | None]

    @strawberry.field
    async def payer(self, info: Info) -> Enterprise | None:
        return await related(info, self, "payer", Enterprise)

    @strawberry.field
    async def payee(self, info: Info) -> Enterprise | None:
        return await related(info, self, "payee", Enterprise)

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice | None:
        return await related(info, self, "invoice", Invoice)

    @strawberry.field
    async def contract(self, info: Info) -> Contract | None:
        return await related(info, self, "contract", Contract)


@strawberry.input
class InvoiceFilter:
    enterprise_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Seller or buyer"
    )
    seller_tax_id: str | None = None
    buyer_tax_id: str | None = None
    kind: list[InvoiceKind] | None = None
    number: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.input
class PaymentFilter:
    enterprise_id: relay.GlobalID | None = None
    invoice_id: relay.GlobalID | None = None
    since: datetime | None = None
    until: datetime | None = None
