"""Electronic VAT invoices (数电票) with their lines, and payments: the invoice and funds flows."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import (
    Base,
    BigId,
    IdMixin,
    Money,
    Percent,
    Quantity,
    StrEnumColumn,
    utcnow,
)


class InvoiceKind(enum.StrEnum):
    NORMAL = "normal"  # 蓝字发票
    RED = "red"  # 红字发票: reverses (part of) an original invoice


class Invoice(IdMixin, Base):
    __tablename__ = "invoice"
    __table_args__ = (
        Index("ix_invoice_seller_issued", "seller_id", "issued_at"),
        Index("ix_invoice_buyer_issued", "buyer_id", "issued_at"),
        # red invoices waiting for their original (imported later) are found by its number
        Index("ix_invoice_original_number", "original_number"),
    )

    number: Mapped[str] = mapped_column(String(20), unique=True)  # 20 digits, no separate code
    kind: Mapped[InvoiceKind] = mapped_column(StrEnumColumn(InvoiceKind))
    # a red invoice names its original by number; the link is set once both are stored
    original_number: Mapped[str | None] = mapped_column(String(20))
    original_invoice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("invoice.id"))
    issued_at: Mapped[datetime]
    # parties as printed; the ids are set when the tax id matches a registered enterprise
    seller_tax_id: Mapped[str] = mapped_column(String(20))
    seller_name: Mapped[str] = mapped_column(String(128))
    seller_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("enterprise.id"))
    buyer_tax_id: Mapped[str] = mapped_column(String(20))
    buyer_name: Mapped[str] = mapped_column(String(128))
    buyer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("enterprise.id"))
    total_amount: Mapped[Decimal] = mapped_column(Money())  # before tax
    total_tax: Mapped[Decimal] = mapped_column(Money())
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvoiceLine(IdMixin, Base):
    __tablename__ = "invoice_line"
    __table_args__ = (UniqueConstraint("invoice_id", "line_no"),)

    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("invoice.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(SmallInteger)
    item_name: Mapped[str] = mapped_column(String(128))  # e.g. *煤炭*洗精煤
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("coal_product.id"))
    specification: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(8))  # 吨 usually; kg confusions are flagged
    quantity: Mapped[Decimal] = mapped_column(Quantity())
    unit_price: Mapped[Decimal] = mapped_column(Quantity())  # before tax
    amount: Mapped[Decimal] = mapped_column(Money())
    tax_rate: Mapped[Decimal] = mapped_column(Percent())  # percent, e.g. 13
    tax_amount: Mapped[Decimal] = mapped_column(Money())


class Payment(IdMixin, Base):
    __tablename__ = "payment"

    reference: Mapped[str] = mapped_column(String(64), unique=True)  # bank transaction id
    payer_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprise.id"), index=True)
    payee_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprise.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    paid_at: Mapped[datetime]
    invoice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("invoice.id"))
    contract_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contract.id"))
