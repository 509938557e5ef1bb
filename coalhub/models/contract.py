"""Supply contracts between enterprises, including guaranteed-supply (保供) contracts."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import (
    Base,
    BigId,
    IdMixin,
    Money,
    Quantity,
    StrEnumColumn,
    TimestampMixin,
)


class ContractStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class Contract(IdMixin, TimestampMixin, Base):
    __tablename__ = "contract"
    __table_args__ = (CheckConstraint("period_end >= period_start", name="period_order"),)

    number: Mapped[str] = mapped_column(String(40), unique=True)
    seller_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprise.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprise.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("coal_product.id"))
    quantity_t: Mapped[Decimal] = mapped_column(Quantity())
    unit_price: Mapped[Decimal] = mapped_column(Money())  # yuan per tonne, tax included
    period_start: Mapped[date]
    period_end: Mapped[date]
    guaranteed_supply: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ContractStatus] = mapped_column(
        StrEnumColumn(ContractStatus), default=ContractStatus.ACTIVE
    )
