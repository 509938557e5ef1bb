"""Coal quality samples (market regulation compares them with recorded grade and price)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import Base, BigId, IdMixin, Percent


class QualitySample(IdMixin, Base):
    __tablename__ = "quality_sample"

    sample_no: Mapped[str] = mapped_column(String(40), unique=True)
    enterprise_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprise.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("coal_product.id"))
    weigh_record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("weigh_record.id"))
    sampled_at: Mapped[datetime]
    laboratory: Mapped[str | None] = mapped_column(String(128))
    total_moisture_pct: Mapped[Decimal | None] = mapped_column(Percent())  # Mt
    ash_pct: Mapped[Decimal | None] = mapped_column(Percent())  # Ad
    volatile_pct: Mapped[Decimal | None] = mapped_column(Percent())  # Vdaf
    sulphur_pct: Mapped[Decimal | None] = mapped_column(Percent())  # St,d
    calorific_mj_kg: Mapped[Decimal | None] = mapped_column(Percent())  # Qnet,ar
    caking_index: Mapped[int | None]  # G
