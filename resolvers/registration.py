"""R1 real-name registration: validate every field, then write. Errors name the field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coalhub import models as m
from coalhub.errors import ConflictError, ForbiddenError, InvalidInputError
from coalhub.identifiers import (
    InvalidIdentifierError,
    PlateColour,
    validate_phone,
    validate_plate,
    validate_resident_id,
    validate_uscc,
)
from resolvers.context import RequestContext


def checked(field: str, validate: Callable[[], Any]) -> Any:
    try:
        return validate()
    except InvalidIdentifierError as error:
        raise InvalidInputError(field, error.reason, str(error)) from error


def require(field: str, condition: bool, reason: str, message: str) -> None:
    if not condition:
        raise InvalidInputError(field, reason, message)


def text(field: str, value: str, max_length: int) -> str:
    value = value.strip()
    require(field, bool(value), "empty", f"{field} must not be empty")
    require(field, len(value) <= max_length, "too_long", f"{field} is over {max_length} characters")
    return value


def optional_text(field: str, value: str | None, max_length: int) -> str | None:
    return None if value is None or not value.strip() else text(field, value, max_length)


def coordinates(latitude: float | None, longitude: float | None) -> None:
    require("latitude", latitude is None or -90 <= latitude <= 90, "out_of_range", "latitude")
    require("longitude", longitude is None or -180 <= longitude <= 180, "out_of_range", "longitude")
    require(
        "longitude",
        (latitude is None) == (longitude is None),
        "incomplete",
        "give both latitude and longitude or neither",
    )


async def existing_id(ctx: RequestContext, model: type[m.Base], **where: Any) -> int | None:
    columns = model.__table__.c
    statement = select(columns.id).where(*(columns[k] == v for k, v in where.items()))
    found: int | None = (await ctx.execute(statement)).scalar_one_or_none()
    return found


async def flush_new(ctx: RequestContext, row: m.Base, conflict_field: str) -> None:
    ctx.session.add(row)
    try:
        async with ctx.session.begin_nested():
            await ctx.session.flush()
    except IntegrityError as error:
        # a concurrent registration won the race for the unique key
        raise ConflictError(conflict_field, f"{conflict_field} is already registered") from error


def authorize(ctx: RequestContext, type_name: str) -> None:
    if not ctx.access.may("register", type_name):
        raise ForbiddenError(f"无权登记 {type_name} / not permitted to register {type_name}")


def own_district(ctx: RequestContext, district_code: str) -> None:
    caller = ctx.caller
    if caller.district_code is not None and caller.district_code != district_code:
        raise ForbiddenError("只能登记本区企业 / only enterprises of your own district")


def own_enterprise(ctx: RequestContext, field: str, enterprise_id: int | None) -> int | None:
    """Enterprise callers register for themselves: the owner is always their enterprise."""
    caller = ctx.caller
    if caller.enterprise_id is None:
        return enterprise_id
    if enterprise_id not in (None, caller.enterprise_id):
        raise ForbiddenError(
            "只能登记本企业的车辆和驾驶员 / only for your own enterprise", field=field
        )
    return caller.enterprise_id


@dataclass(frozen=True)
class EnterpriseFields:
    uscc: str
    name: str
    kind: m.EnterpriseKind
    district_code: str
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    legal_representative: str | None = None
    contact_phone: str | None = None
    annual_capacity_t: int | None = None


async def register_enterprise(ctx: RequestContext, data: EnterpriseFields) -> int:
    authorize(ctx, "Enterprise")
    own_district(ctx, data.district_code)
    uscc = checked("uscc", lambda: validate_uscc(data.uscc))
    name = text("name", data.name, 128)
    coordinates(data.latitude, data.longitude)
    phone = data.contact_phone and checked(
        "contactPhone", lambda: validate_phone(data.contact_phone or "")
    )
    capacity = data.annual_capacity_t
    require("annualCapacityT", capacity is None or capacity >= 0, "out_of_range", "capacity < 0")
    district_id = await existing_id(ctx, m.District, code=data.district_code)
    require("districtCode", district_id is not None, "unknown", "no such district code")
    if await existing_id(ctx, m.Enterprise, uscc=uscc) is not None:
        raise ConflictError("uscc", "an enterprise with this USCC is already registered")
    row = m.Enterprise(
        uscc=uscc,
        name=name,
        kind=data.kind,
        district_id=district_id,
        address=optional_text("address", data.address, 256),
        latitude=data.latitude,
        longitude=data.longitude,
        legal_representative=optional_text("legalRepresentative", data.legal_representative, 64),
        contact_phone=phone,
        annual_capacity_t=capacity,
        registration_status=m.RegistrationStatus.PENDING,
    )
    await flush_new(ctx, row, "uscc")
    return row.id


@dataclass(frozen=True)
class VehicleFields:
    plate: str
    plate_colour: PlateColour
    axles: int
    energy_type: m.EnergyType
    rated_payload_kg: int
    transport_certificate: str
    suspension: m.Suspension = m.Suspension.STEEL
    curb_weight_kg: int | None = None
    is_combination: bool = False
    tractor_single_drive_axle: bool = False
    owner_enterprise_id: int | None = None


async def register_vehicle(ctx: RequestContext, data: VehicleFields) -> int:
    authorize(ctx, "Vehicle")
    owner_id = own_enterprise(ctx, "ownerEnterpriseId", data.owner_enterprise_id)
    plate = checked("plate", lambda: validate_plate(data.plate, data.plate_colour))
    require("axles", 2 <= data.axles <= 8, "out_of_range", "axles must be 2 to 8")
    require("ratedPayloadKg", 0 < data.rated_payload_kg <= 100_000, "out_of_range", "payload in kg")
    curb = data.curb_weight_kg
    require("curbWeightKg", curb is None or 0 < curb <= 60_000, "out_of_range", "curb weight in kg")
    certificate = text("transportCertificate", data.transport_certificate, 32)
    require(
        "transportCertificate",
        certificate.isalnum(),
        "bad_format",
        "a road transport certificate number is letters and digits",
    )
    if owner_id is not None:
        owner = await existing_id(ctx, m.Enterprise, id=owner_id)
        require("ownerEnterpriseId", owner is not None, "unknown", "no such enterprise")
    attributes = {
        "axles": data.axles,
        "suspension": data.suspension,
        "energy_type": data.energy_type,
        "rated_payload_kg": data.rated_payload_kg,
        "curb_weight_kg": curb,
        "transport_certificate": certificate,
        "is_combination": data.is_combination,
        "tractor_single_drive_axle": data.tractor_single_drive_axle,
        "owner_enterprise_id": owner_id,
        "status": m.VehicleStatus.REGISTERED,
    }
    return await _upsert_vehicle(ctx, plate, data.plate_colour, attributes)


async def _upsert_vehicle(
    ctx: RequestContext, plate: str, colour: PlateColour, attributes: dict[str, Any]
) -> int:
    statement = select(m.Vehicle).where(m.Vehicle.plate == plate, m.Vehicle.plate_colour == colour)
    existing = (await ctx.session.execute(statement)).scalar_one_or_none()
    ctx.statements += 1
    if existing is not None and existing.status != m.VehicleStatus.UNREGISTERED:
        raise ConflictError("plate", "a vehicle with this plate and colour is already registered")
    if existing is not None:
        # seen on the road before registering: the record (and its history) becomes registered
        for key, value in attributes.items():
            setattr(existing, key, value)
        await ctx.session.flush()
        return existing.id
    row = m.Vehicle(plate=plate, plate_colour=colour, **attributes)
    await flush_new(ctx, row, "plate")
    return row.id


@dataclass(frozen=True)
class DriverFields:
    name: str
    id_number: str
    phone: str
    licence_class: str | None = None
    qualification_certificate: str | None = None
    employer_id: int | None = None


async def register_driver(ctx: RequestContext, data: DriverFields) -> int:
    authorize(ctx, "Driver")
    employer_id = own_enterprise(ctx, "employerId", data.employer_id)
    name = text("name", data.name, 64)
    id_number = checked("idNumber", lambda: validate_resident_id(data.id_number))
    phone = checked("phone", lambda: validate_phone(data.phone))
    if employer_id is not None:
        employer = await existing_id(ctx, m.Enterprise, id=employer_id)
        require("employerId", employer is not None, "unknown", "no such enterprise")
    if await existing_id(ctx, m.Driver, id_number=id_number) is not None:
        raise ConflictError("idNumber", "a driver with this ID number is already registered")
    row = m.Driver(
        name=name,
        id_number=id_number,
        phone=phone,
        licence_class=optional_text("licenceClass", data.licence_class, 8),
        qualification_certificate=optional_text(
            "qualificationCertificate", data.qualification_certificate, 32
        ),
        employer_id=employer_id,
    )
    await flush_new(ctx, row, "idNumber")
    return row.id
