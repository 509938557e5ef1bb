"""VAT invoices (数电票) and their lines, blue and red."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from coalhub.models import InvoiceKind, ProductCategory
from coalhub.synthetic.clock import DAY_S, local_date, to_datetime
from coalhub.synthetic.context import Context, Row
from coalhub.synthetic.entities import Company
from coalhub.synthetic.products import CENT, Product

VAT_RATE = Decimal(13)
_KG_LINE_SHARE = 0.005  # a line in kilograms where tonnes are meant
_PRICE_PLACES = Decimal("0.000001")
_QUANTITY_PLACES = Decimal("0.001")
_TONNE, _KILOGRAM = "吨", "千克"


class Terms(Protocol):
    # Who invoices whom for what at which price: a contract, or a deal without one.

    @property
    def seller(self) -> Company: ...
    @property
    def buyer(self) -> Company: ...
    @property
    def product(self) -> Product: ...
    @property
    def unit_price(self) -> Decimal: ...  # yuan per tonne, tax included


@dataclass(frozen=True)
class Deal:
    seller: Company
    buyer: Company
    product: Product
    unit_price: Decimal


class Invoices:
    def __init__(self, ctx: Context, product_ids: dict[str, int]) -> None:
        self.rng, self.keys, self.rows = ctx.rng, ctx.keys, ctx.rows
        self.product_ids = product_ids
        self.end = ctx.scale.end_ts
        self.count = 0

    def issue(
        self,
        terms: Terms,
        quantities_kg: list[int],
        issued: int,
        *,
        kind: InvoiceKind = InvoiceKind.NORMAL,
        original: Row | None = None,
    ) -> tuple[Row, Row]:
        # the invoice, one line per quantity; returns the invoice and its first line
        invoice_id = self.keys.next("invoice")
        lines = [
            self._line(invoice_id, n, terms, kg) for n, kg in enumerate(quantities_kg, start=1)
        ]
        seller, buyer = terms.seller, terms.buyer
        invoice = {
            "id": invoice_id,
            # 数电票: year, province (15 = Inner Mongolia), channel, 15-digit sequence
            "number": f"{local_date(issued):%y}152{invoice_id + 5_000_000:015d}",
            "kind": kind,
            "original_number": None if original is None else original["number"],
            "original_invoice_id": None if original is None else original["id"],
            "issued_at": to_datetime(issued),
            "seller_tax_id": seller.uscc,
            "seller_name": seller.name,
            "seller_id": seller.id,
            "buyer_tax_id": buyer.uscc,
            "buyer_name": buyer.name,
            "buyer_id": buyer.id,
            "total_amount": sum((line["amount"] for line in lines), Decimal(0)),
            "total_tax": sum((line["tax_amount"] for line in lines), Decimal(0)),
            "received_at": to_datetime(min(issued + self.rng.randrange(5, 300), self.end - 1)),
        }
        self.rows.add("invoice", invoice)
        for line in lines:
            self.rows.add("invoice_line", line)
        self.count += 1
        return invoice, lines[0]

    def reverse(self, original: Row, first_line: Row, terms: Terms) -> None:
        # a red invoice for part of the first line, e.g. after a quality claim
        issued = int(original["issued_at"].timestamp()) + self.rng.randrange(DAY_S, 5 * DAY_S)
        share = self.rng.choice((Decimal(1), Decimal("0.2"), Decimal("0.1")))
        per_unit_kg = 1000 if first_line["unit"] == _TONNE else 1
        kg = int(first_line["quantity"] * share * per_unit_kg)
        if issued < self.end and kg > 0:
            self.issue(terms, [-kg], issued, kind=InvoiceKind.RED, original=original)

    def _line(self, invoice_id: int, line_no: int, terms: Terms, kg: int) -> Row:
        product = terms.product
        before_tax = (terms.unit_price * 100 / (100 + VAT_RATE)).quantize(_PRICE_PLACES)
        unit, quantity = _TONNE, (Decimal(kg) / 1000).quantize(_QUANTITY_PLACES)
        if self.rng.random() < _KG_LINE_SHARE:
            unit, quantity = _KILOGRAM, Decimal(kg)
            before_tax = (before_tax / 1000).quantize(_PRICE_PLACES)
        amount = (quantity * before_tax).quantize(CENT, ROUND_HALF_UP)
        category = "炼焦产品" if product.category == ProductCategory.COKE else "煤炭"
        return {
            "id": self.keys.next("invoice_line"),
            "invoice_id": invoice_id,
            "line_no": line_no,
            "item_name": f"*{category}*{product.name}",
            "product_id": self.product_ids[product.code],
            "specification": product.rank,
            "unit": unit,
            "quantity": quantity,
            "unit_price": before_tax,
            "amount": amount,
            "tax_rate": VAT_RATE,
            "tax_amount": (amount * VAT_RATE / 100).quantize(CENT, ROUND_HALF_UP),
        }
