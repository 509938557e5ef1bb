"""Alerts (R5): graded, routed to a department or enterprise, with a response workflow."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import Base, BigId, IdMixin, StrEnumColumn, utcnow


class AlertKind(enum.StrEnum):
    ABNORMAL_VOLUME = "abnormal_volume"
    ABNORMAL_PRICE = "abnormal_price"
    FLOW_MISMATCH = "flow_mismatch"  # invoice, goods and funds flows disagree
    OVERLOAD = "overload"
    SITE_OFFLINE = "site_offline"
    UNREGISTERED_VEHICLE = "unregistered_vehicle"
    TAMPER_SUSPECTED = "tamper_suspected"


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    HANDLING = "handling"
    CLOSED = "closed"


class Alert(IdMixin, Base):
    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_status_raised", "status", "raised_at"),)

    kind: Mapped[AlertKind] = mapped_column(StrEnumColumn(AlertKind))
    # 1 = general (蓝) .. 4 = most severe (红)
    severity: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[AlertStatus] = mapped_column(
        StrEnumColumn(AlertStatus), default=AlertStatus.OPEN
    )
    title: Mapped[str] = mapped_column(String(256))  # zh-CN, shown to officials
    detail: Mapped[str | None] = mapped_column(Text)
    routed_to: Mapped[str] = mapped_column(String(32))  # department code
    district_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("district.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("enterprise.id"))
    site_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("site.id"))
    vehicle_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("vehicle.id"))
    weigh_record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("weigh_record.id"))
    evidence: Mapped[dict[str, Any] | None]
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
