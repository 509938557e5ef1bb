"""Coal enterprises, their sites (gates, weighbridges, belt scales) and site devices."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import Base, BigId, IdMixin, StrEnumColumn, TimestampMixin


class EnterpriseKind(enum.StrEnum):
    MINE = "mine"
    GOAF_REMEDIATION = "goaf_remediation"  # 采空区/地质灾害治理项目 (also produces coal)
    WASHING_PLANT = "washing_plant"
    POWER_PLANT = "power_plant"
    COKING = "coking"
    CHEMICAL = "chemical"
    BUILDING_MATERIALS = "building_materials"
    METALLURGY = "metallurgy"
    TRADER = "trader"
    LOGISTICS = "logistics"  # haulage companies that own trucks


class RegistrationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class Enterprise(IdMixin, TimestampMixin, Base):
    __tablename__ = "enterprise"

    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # also the tax id
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[EnterpriseKind] = mapped_column(StrEnumColumn(EnterpriseKind))
    district_id: Mapped[int] = mapped_column(BigId, ForeignKey("district.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(256))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    legal_representative: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    annual_capacity_t: Mapped[int | None]
    registration_status: Mapped[RegistrationStatus] = mapped_column(
        StrEnumColumn(RegistrationStatus), default=RegistrationStatus.PENDING
    )


class SiteKind(enum.StrEnum):
    GATE = "gate"
    WEIGHBRIDGE = "weighbridge"
    BELT_SCALE = "belt_scale"
    METERING_POINT = "metering_point"
    YARD = "yard"


class Site(IdMixin, TimestampMixin, Base):
    __tablename__ = "site"
    __table_args__ = (UniqueConstraint("enterprise_id", "code"),)

    enterprise_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprise.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[SiteKind] = mapped_column(StrEnumColumn(SiteKind))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # GeoJSON-style ring of [longitude, latitude] pairs (WGS-84), closed.
    geofence: Mapped[list[Any] | None]
    capacity_kg: Mapped[int | None]
    last_seen_at: Mapped[datetime | None]


class DeviceKind(enum.StrEnum):
    INDICATOR = "indicator"
    BELT_SCALE = "belt_scale"
    CAMERA = "camera"
    RFID_READER = "rfid_reader"
    BRIDGE = "bridge"


class DeviceStatus(enum.StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"
    FAULT = "fault"


class Device(IdMixin, TimestampMixin, Base):
    __tablename__ = "device"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    site_id: Mapped[int] = mapped_column(BigId, ForeignKey("site.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[DeviceKind] = mapped_column(StrEnumColumn(DeviceKind))
    protocol: Mapped[str] = mapped_column(String(32))  # e.g. yaohua_a9, toledo, modbus_tcp
    model: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[DeviceStatus] = mapped_column(
        StrEnumColumn(DeviceStatus), default=DeviceStatus.UNKNOWN
    )
    last_heartbeat_at: Mapped[datetime | None]
    last_state: Mapped[dict[str, Any] | None]  # counters and last reading as the bridge reported
