"""Road checkpoints (police bayonet cameras) and the vehicle passes they capture."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.identifiers import PlateColour
from coalhub.models.base import Base, BigId, IdMixin, StrEnumColumn, utcnow


class Checkpoint(IdMixin, Base):
    __tablename__ = "checkpoint"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    district_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("district.id"))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    # passes here count coal entering and leaving the city
    on_city_boundary: Mapped[bool] = mapped_column(Boolean, default=False)


class PassDirection(enum.StrEnum):
    INBOUND = "inbound"  # towards the city centre / entering the city at a boundary
    OUTBOUND = "outbound"
    UNKNOWN = "unknown"


class CheckpointPass(IdMixin, Base):
    __tablename__ = "checkpoint_pass"
    __table_args__ = (
        UniqueConstraint("checkpoint_id", "plate", "passed_at"),
        Index("ix_checkpoint_pass_vehicle_passed", "vehicle_id", "passed_at"),
        Index("ix_checkpoint_pass_passed", "passed_at"),
    )

    checkpoint_id: Mapped[int] = mapped_column(BigId, ForeignKey("checkpoint.id"))
    vehicle_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("vehicle.id"))
    plate: Mapped[str] = mapped_column(String(10))
    plate_colour: Mapped[PlateColour | None] = mapped_column(StrEnumColumn(PlateColour))
    direction: Mapped[PassDirection] = mapped_column(StrEnumColumn(PassDirection))
    lane: Mapped[int | None] = mapped_column(SmallInteger)
    passed_at: Mapped[datetime]
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
