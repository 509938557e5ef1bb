"""Online bookings of supply and haulage, remote check-in and per-site queues (R1)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import Base, BigId, IdMixin, StrEnumColumn, TimestampMixin


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"  # remote check-in: now holds a queue number
    CALLED = "called"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Booking(IdMixin, TimestampMixin, Base):
    __tablename__ = "booking"
    __table_args__ = (Index("ix_booking_site_slot", "site_id", "slot_start"),)

    site_id: Mapped[int] = mapped_column(BigId, ForeignKey("site.id"))
    vehicle_id: Mapped[int] = mapped_column(BigId, ForeignKey("vehicle.id"), index=True)
    driver_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("driver.id"))
    contract_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contract.id"))
    slot_start: Mapped[datetime]
    status: Mapped[BookingStatus] = mapped_column(
        StrEnumColumn(BookingStatus), default=BookingStatus.BOOKED
    )
    checked_in_at: Mapped[datetime | None]
    queue_number: Mapped[int | None]
    # new-energy trucks are dispatched first (smart dispatching)
    priority: Mapped[int] = mapped_column(default=0)
