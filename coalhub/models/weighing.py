"""Weigh records (electronic weigh tickets) and shipments that pair origin and destination."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, column_property, mapped_column

from coalhub.models.base import Base, BigId, IdMixin, Money, StrEnumColumn, utcnow


class WeighDirection(enum.StrEnum):
    SALE = "sale"  # coal leaves the site to a buyer
    PURCHASE = "purchase"  # coal arrives at the site from a supplier
    TRANSFER = "transfer"  # between sites of one enterprise
    OTHER = "other"


class RecordSource(enum.StrEnum):
    BRIDGE = "bridge"  # a device bridge at the site
    MANUAL = "manual"
    LEGACY_IMPORT = "legacy_import"  # the districts' former coal tax-control systems
    DEMO = "demo"


class WeighRecord(IdMixin, Base):
    __tablename__ = "weigh_record"
    __table_args__ = (
        CheckConstraint("gross_kg >= tare_kg", name="gross_not_below_tare"),
        CheckConstraint("tare_kg >= 0", name="tare_not_negative"),
        Index("ix_weigh_record_site_weighed", "site_id", "weighed_at"),
        Index("ix_weigh_record_vehicle_weighed", "vehicle_id", "weighed_at"),
        Index("ix_weigh_record_shipper_weighed", "shipper_id", "weighed_at"),
        Index("ix_weigh_record_consignee_weighed", "consignee_id", "weighed_at"),
    )

    ticket_no: Mapped[str] = mapped_column(String(40), unique=True)
    # chosen by the sender (the bridge's record UUID); a retry with the same key stores nothing
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(BigId, ForeignKey("site.id"))
    device_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("device.id"))
    direction: Mapped[WeighDirection] = mapped_column(StrEnumColumn(WeighDirection))
    contract_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contract.id"), index=True)
    booking_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("booking.id"))
    vehicle_id: Mapped[int] = mapped_column(BigId, ForeignKey("vehicle.id"))
    plate_read: Mapped[str] = mapped_column(String(10))  # as the gate camera read it
    driver_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("driver.id"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("coal_product.id"), index=True)
    gross_kg: Mapped[int] = mapped_column()
    tare_kg: Mapped[int] = mapped_column()
    net_kg: Mapped[int] = column_property(gross_kg - tare_kg)
    gross_at: Mapped[datetime]
    tare_at: Mapped[datetime]
    weighed_at: Mapped[datetime]  # when the ticket was completed (second weighing)
    shipper_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprise.id"))
    consignee_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprise.id"))
    unit_price: Mapped[Decimal | None] = mapped_column(Money())  # yuan per tonne
    # raw frames of the stable windows, image hashes, timings, device counters
    evidence: Mapped[dict[str, Any] | None]
    source: Mapped[RecordSource] = mapped_column(StrEnumColumn(RecordSource))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Shipment(IdMixin, Base):
    """One haul: the sale weighing at the origin and, once matched, the purchase at the
    destination. A haul leaving the city has no destination weighing; its exit is seen at a
    boundary checkpoint instead."""

    __tablename__ = "shipment"

    origin_weigh_record_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("weigh_record.id"), unique=True
    )
    destination_weigh_record_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("weigh_record.id"), unique=True
    )
    exit_checkpoint_pass_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("checkpoint_pass.id")
    )
    matched_at: Mapped[datetime | None]
