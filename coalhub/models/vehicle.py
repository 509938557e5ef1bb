"""Transport vehicles and their drivers (R1 real-name registration)."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.identifiers import PlateColour
from coalhub.models.base import Base, BigId, IdMixin, StrEnumColumn, TimestampMixin


class EnergyType(enum.StrEnum):
    DIESEL = "diesel"
    GASOLINE = "gasoline"
    LNG = "lng"
    CNG = "cng"
    ELECTRIC = "electric"
    HYDROGEN = "hydrogen"
    HYBRID = "hybrid"
    OTHER = "other"


NEW_ENERGY_TYPES = frozenset({EnergyType.ELECTRIC, EnergyType.HYDROGEN, EnergyType.HYBRID})


class Suspension(enum.StrEnum):
    STEEL = "steel"
    AIR = "air"


class VehicleStatus(enum.StrEnum):
    REGISTERED = "registered"
    # seen by a camera, a checkpoint or a positioning feed but never registered on the platform
    UNREGISTERED = "unregistered"
    SUSPENDED = "suspended"


class Vehicle(IdMixin, TimestampMixin, Base):
    __tablename__ = "vehicle"
    __table_args__ = (UniqueConstraint("plate", "plate_colour"),)

    plate: Mapped[str] = mapped_column(String(10), index=True)
    plate_colour: Mapped[PlateColour] = mapped_column(StrEnumColumn(PlateColour))
    status: Mapped[VehicleStatus] = mapped_column(
        StrEnumColumn(VehicleStatus), default=VehicleStatus.REGISTERED
    )
    axles: Mapped[int | None] = mapped_column(SmallInteger)
    suspension: Mapped[Suspension | None] = mapped_column(StrEnumColumn(Suspension))
    tractor_single_drive_axle: Mapped[bool] = mapped_column(Boolean, default=False)
    is_combination: Mapped[bool] = mapped_column(Boolean, default=False)  # tractor + semi-trailer
    rated_payload_kg: Mapped[int | None]
    curb_weight_kg: Mapped[int | None]
    energy_type: Mapped[EnergyType | None] = mapped_column(StrEnumColumn(EnergyType))
    transport_certificate: Mapped[str | None] = mapped_column(String(32))  # 道路运输证号
    owner_enterprise_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("enterprise.id"), index=True
    )


class Driver(IdMixin, TimestampMixin, Base):
    __tablename__ = "driver"

    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)  # personal information
    phone: Mapped[str | None] = mapped_column(String(20))  # personal information
    licence_class: Mapped[str | None] = mapped_column(String(8))
    qualification_certificate: Mapped[str | None] = mapped_column(String(32))  # 从业资格证
    employer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("enterprise.id"), index=True)
