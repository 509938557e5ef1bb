"""Vehicle positions (JT/T 808/809 or HTTP feeds), stored raw in WGS-84/CGCS2000."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, SmallInteger, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import Base, BigId, IdMixin, StrEnumColumn, utcnow


class LoadState(enum.StrEnum):
    EMPTY = "empty"
    HALF = "half"
    FULL = "full"


class PositionSource(enum.StrEnum):
    JT808 = "jt808"
    JT809 = "jt809"
    HTTP = "http"
    DEMO = "demo"


class TrajectoryPoint(IdMixin, Base):
    __tablename__ = "trajectory_point"
    # one position per vehicle and instant: a replayed or duplicated report stores nothing
    __table_args__ = (UniqueConstraint("vehicle_id", "recorded_at"),)

    vehicle_id: Mapped[int] = mapped_column(BigId, ForeignKey("vehicle.id"))
    recorded_at: Mapped[datetime]
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    altitude_m: Mapped[int | None] = mapped_column(SmallInteger)
    speed_kmh: Mapped[float | None] = mapped_column(Float)
    heading: Mapped[int | None] = mapped_column(SmallInteger)
    load_state: Mapped[LoadState | None] = mapped_column(StrEnumColumn(LoadState))
    source: Mapped[PositionSource] = mapped_column(StrEnumColumn(PositionSource))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
