"""Ingestion of weigh records from the device bridges at enterprise sites.

Every record is checked before anything is written, so a rejected record neither aborts the
request's transaction nor holds back the rest of its batch. Records are inserted with
ON CONFLICT DO NOTHING on the idempotency key: a redelivery, even one racing the first
delivery in another request, stores nothing and is answered DUPLICATE with the stored id.
A batch costs a fixed number of statements whatever its size. Heartbeats are in
`resolvers.device_status`; what both share is in `resolvers.ingest_checks`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Table, select, tuple_

from coalhub import models as m
from coalhub.auth import Principal
from coalhub.identifiers import InvalidIdentifierError, PlateColour, validate_plate, validate_uscc
from coalhub.models.base import utcnow
from resolvers.context import RequestContext
from resolvers.ingest_checks import (
    DEVICE_CODE,
    IngestOutcome,
    IngestStatus,
    Rejected,
    authorize,
    check_site,
    dialect_insert,
    json_object,
    optional_text,
    pairs,
    require,
    table_of,
    text,
    utc_time,
)

MAX_WEIGHT_KG = 200_000  # above any weighbridge deck's capacity
MAX_UNIT_PRICE = Decimal(100_000)  # yuan per tonne
MAX_EVIDENCE_BYTES = 64 * 1024
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
UNKNOWN_PROTOCOL = "unknown"
# what makes two deliveries "the same weighing"; evidence and price may be re-encoded
_FINGERPRINT = (
    "ticket_no",
    "site_id",
    "direction",
    "plate_read",
    "product_id",
    "gross_kg",
    "tare_kg",
    "gross_at",
    "tare_at",
    "shipper_id",
    "consignee_id",
)


@dataclass(frozen=True)
class WeighRecordFields:
    """One completed weighing as the bridge sends it; `site_id` is None for an id that
    does not name a site, `booking_id` likewise (both are then rejected)."""

    idempotency_key: str
    ticket_no: str
    site_id: int | None
    direction: m.WeighDirection
    plate: str
    plate_colour: PlateColour
    product_code: str
    gross_kg: int
    gross_at: datetime
    tare_kg: int
    tare_at: datetime
    shipper_uscc: str
    consignee_uscc: str
    device_code: str | None = None
    contract_number: str | None = None
    booking_id: int | None = None
    unit_price: Decimal | None = None
    evidence: Any = None


@dataclass(frozen=True)
class _Checked:
    """A record whose fields passed the checks that need no database."""

    index: int
    key: str
    values: dict[str, Any]  # weigh_record columns known so far
    plate_colour: PlateColour
    product_code: str
    shipper_uscc: str
    consignee_uscc: str
    device_code: str | None
    contract_number: str | None
    booking_id: int | None


async def ingest_weigh_records(
    ctx: RequestContext, records: Sequence[WeighRecordFields], *, now: datetime | None = None
) -> list[IngestOutcome]:
    authorize(ctx, "WeighRecord", len(records))
    now = now or utcnow()
    outcomes: dict[int, IngestOutcome] = {}
    checked: list[_Checked] = []
    usccs: dict[str, str | Rejected] = {}
    for index, record in enumerate(records):
        try:
            checked.append(_check_record(ctx.caller, index, record, now, usccs))
        except Rejected as rejected:
            outcomes[index] = rejected.outcome(index, record.idempotency_key)
    refs = await _References.load(ctx, checked)
    batch = _Batch(refs)
    for item in checked:
        try:
            batch.admit(item)
        except Rejected as rejected:
            outcomes[item.index] = rejected.outcome(item.index, item.key)
    await _resolve_vehicles_and_devices(ctx, batch.rows)
    await batch.insert(ctx)
    outcomes.update(batch.outcomes)
    return [outcomes[index] for index in range(len(records))]


def _check_record(
    caller: Principal,
    index: int,
    record: WeighRecordFields,
    now: datetime,
    usccs: dict[str, str | Rejected],
) -> _Checked:
    key = record.idempotency_key
    require(
        "idempotencyKey", bool(_KEY.fullmatch(key)), "bad_format", "1-64 of A-Z a-z 0-9 . _ : -"
    )
    site_id = check_site(caller, record.site_id, "siteId")
    ticket_no = text("ticketNo", record.ticket_no, 40)
    device_code = record.device_code
    if device_code is not None:
        require("deviceCode", bool(DEVICE_CODE.fullmatch(device_code)), "bad_format", "device code")
    plate = _identifier("plate", lambda: validate_plate(record.plate, record.plate_colour))
    _check_weights(record.gross_kg, record.tare_kg)
    gross_at = utc_time("grossAt", record.gross_at, now)
    tare_at = utc_time("tareAt", record.tare_at, now)
    values = {
        "idempotency_key": key,
        "ticket_no": ticket_no,
        "site_id": site_id,
        "direction": record.direction,
        "plate_read": plate,
        "gross_kg": record.gross_kg,
        "tare_kg": record.tare_kg,
        "gross_at": gross_at,
        "tare_at": tare_at,
        "weighed_at": max(gross_at, tare_at),
        "unit_price": _unit_price(record.unit_price),
        "evidence": json_object("evidence", record.evidence, MAX_EVIDENCE_BYTES),
        "source": m.RecordSource.BRIDGE,
    }
    return _Checked(
        index=index,
        key=key,
        values=values,
        plate_colour=record.plate_colour,
        product_code=text("productCode", record.product_code, 16),
        shipper_uscc=_uscc("shipperUscc", record.shipper_uscc, usccs),
        consignee_uscc=_uscc("consigneeUscc", record.consignee_uscc, usccs),
        device_code=device_code,
        contract_number=optional_text("contractNumber", record.contract_number, 40),
        booking_id=_booking_id(record.booking_id),
    )


def _identifier(field: str, validate: Any) -> str:
    try:
        result: str = validate()
    except InvalidIdentifierError as error:
        raise Rejected(field, error.reason, f"{field}: {error}") from error
    return result


def _uscc(field: str, value: str, cache: dict[str, str | Rejected]) -> str:
    # a batch from one site repeats the same few parties: validate each code once
    found = cache.get(value)
    if found is None:
        try:
            found = validate_uscc(value)
        except InvalidIdentifierError as error:
            found = Rejected(field, error.reason, str(error))
        cache[value] = found
    if isinstance(found, Rejected):
        raise Rejected(field, found.reason, f"{field}: {found.message}")
    return found


def _check_weights(gross: int, tare: int) -> None:
    require("tareKg", tare >= 0, "negative", "a weight is never negative")
    require("grossKg", gross >= 0, "negative", "a weight is never negative")
    require("grossKg", gross <= MAX_WEIGHT_KG, "out_of_range", f"over {MAX_WEIGHT_KG} kg")
    require("grossKg", gross >= tare, "gross_below_tare", "gross is below tare")


def _unit_price(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    in_range = value.is_finite() and 0 <= value <= MAX_UNIT_PRICE
    require("unitPrice", in_range, "out_of_range", f"yuan per tonne, 0 to {MAX_UNIT_PRICE}")
    try:
        cents = value.quantize(Decimal("0.01"))
    except InvalidOperation:
        cents = None
    require("unitPrice", cents == value, "too_precise", "at most two decimals")
    return cents


def _booking_id(value: int | None) -> int | None:
    require("bookingId", value is None or value > 0, "wrong_type", "must be a Booking id")
    return value


@dataclass
class _Stored:
    id: int
    key: str
    fingerprint: tuple[Any, ...]


def _fingerprint(values: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(values[name] for name in _FINGERPRINT)


@dataclass
class _References:
    """Everything a batch refers to, fetched with one statement per kind."""

    sites: set[int]
    products: dict[str, int]
    enterprises: dict[str, int]
    contracts: dict[str, int]
    bookings: dict[int, int]  # booking id -> its site
    stored: dict[str, _Stored]  # by idempotency key
    tickets: dict[str, str]  # stored ticket no -> its idempotency key

    @classmethod
    async def load(cls, ctx: RequestContext, items: Sequence[_Checked]) -> _References:
        if not items:
            return cls(set(), {}, {}, {}, {}, {}, {})
        keys = {item.key for item in items}
        tickets = {item.values["ticket_no"] for item in items}
        stored = await _stored_records(ctx, m.WeighRecord.idempotency_key.in_(keys))
        by_ticket = await _stored_records(ctx, m.WeighRecord.ticket_no.in_(tickets))
        return cls(
            sites=set(await pairs(ctx, m.Site.id, m.Site.id, {i.values["site_id"] for i in items})),
            products=await pairs(
                ctx, m.CoalProduct.code, m.CoalProduct.id, {i.product_code for i in items}
            ),
            enterprises=await pairs(
                ctx,
                m.Enterprise.uscc,
                m.Enterprise.id,
                {i.shipper_uscc for i in items} | {i.consignee_uscc for i in items},
            ),
            contracts=await pairs(
                ctx, m.Contract.number, m.Contract.id, {i.contract_number for i in items} - {None}
            ),
            bookings=await pairs(
                ctx, m.Booking.id, m.Booking.site_id, {i.booking_id for i in items} - {None}
            ),
            stored={row.key: row for row in stored},
            tickets={row.fingerprint[0]: row.key for row in by_ticket},
        )


async def _stored_records(ctx: RequestContext, where: ColumnElement[bool]) -> list[_Stored]:
    table = table_of(m.WeighRecord).c
    columns = [table.id, table.idempotency_key, *(table[name] for name in _FINGERPRINT)]
    rows = await ctx.execute(select(*columns).where(where))
    stored = []
    for row in rows:
        values = tuple(row)
        stored.append(_Stored(values[0], values[1], values[2:]))
    return stored


class _Batch:
    """The records to insert, and the answers for those that will not be."""

    def __init__(self, refs: _References) -> None:
        self.refs = refs
        self.rows: list[_Row] = []
        self.outcomes: dict[int, IngestOutcome] = {}
        self._keys: dict[str, _Row] = {}
        self._tickets: dict[str, str] = {}
        self._followers: list[tuple[int, _Row]] = []  # same key again in this batch

    def admit(self, item: _Checked) -> None:
        values = self._resolve(item)
        stored = self.refs.stored.get(item.key)
        if stored is not None:
            self.outcomes[item.index] = _repeat(item.index, item.key, stored, values)
            return
        first = self._keys.get(item.key)
        if first is not None:
            if first.fingerprint != _fingerprint(values):
                raise _conflict()
            self._followers.append((item.index, first))
            return
        ticket = values["ticket_no"]
        owner = self.refs.tickets.get(ticket) or self._tickets.get(ticket)
        if owner is not None:
            raise Rejected("ticketNo", "ticket_no_taken", "ticketNo: used by another record")
        row = _Row(item, values)
        self.rows.append(row)
        self._keys[item.key] = row
        self._tickets[ticket] = item.key

    def _resolve(self, item: _Checked) -> dict[str, Any]:
        refs, values = self.refs, dict(item.values)
        if values["site_id"] not in refs.sites:
            raise Rejected("siteId", "unknown", "siteId: no such site")
        values["product_id"] = _known("productCode", refs.products.get(item.product_code))
        values["shipper_id"] = _known("shipperUscc", refs.enterprises.get(item.shipper_uscc))
        values["consignee_id"] = _known("consigneeUscc", refs.enterprises.get(item.consignee_uscc))
        if item.contract_number is not None:
            values["contract_id"] = _known(
                "contractNumber", refs.contracts.get(item.contract_number)
            )
        if item.booking_id is not None:
            booking_site = _known("bookingId", refs.bookings.get(item.booking_id))
            require(
                "bookingId", booking_site == values["site_id"], "other_site", "booked elsewhere"
            )
            values["booking_id"] = item.booking_id
        return values

    async def insert(self, ctx: RequestContext) -> None:
        if not self.rows:
            return
        table = table_of(m.WeighRecord)
        statement = (
            dialect_insert(ctx, table)
            .on_conflict_do_nothing()
            .returning(table.c.idempotency_key, table.c.id)
        )
        ctx.statements += 1
        # in key order, as every request does: two inserting the same keys cannot deadlock
        ordered = sorted(self.rows, key=lambda row: row.item.key)
        result = await ctx.session.execute(statement, [row.values for row in ordered])
        inserted: dict[str, int] = dict(result.all())
        missed = [row for row in self.rows if row.item.key not in inserted]
        # lost a race with a concurrent delivery of the same key, or of the same ticket no
        raced = {}
        if missed:
            keys = {row.item.key for row in missed}
            raced = {
                s.key: s
                for s in await _stored_records(ctx, m.WeighRecord.idempotency_key.in_(keys))
            }
        for row in self.rows:
            row.id = inserted.get(row.item.key)
            self.outcomes[row.item.index] = _settled(row, raced.get(row.item.key))
        for index, first in self._followers:
            if first.id is None:
                self.outcomes[index] = Rejected(
                    "idempotencyKey", "not_stored", "its first copy in this batch was rejected"
                ).outcome(index, first.item.key)
            else:
                self.outcomes[index] = IngestOutcome(
                    index, first.item.key, IngestStatus.DUPLICATE, first.id
                )


@dataclass
class _Row:
    item: _Checked
    values: dict[str, Any]
    id: int | None = None

    @property
    def fingerprint(self) -> tuple[Any, ...]:
        return _fingerprint(self.values)


def _known(field: str, value: int | None) -> int:
    if value is None:
        raise Rejected(field, "unknown", f"{field}: not registered on the platform")
    return value


def _conflict() -> Rejected:
    return Rejected(
        "idempotencyKey",
        "idempotency_conflict",
        "idempotencyKey: already used for another weighing",
    )


def _repeat(index: int, key: str, stored: _Stored, values: Mapping[str, Any]) -> IngestOutcome:
    if stored.fingerprint != _fingerprint(values):
        return _conflict().outcome(index, key)
    return IngestOutcome(index, key, IngestStatus.DUPLICATE, stored.id)


def _settled(row: _Row, raced: _Stored | None) -> IngestOutcome:
    index, key = row.item.index, row.item.key
    if row.id is not None:
        return IngestOutcome(index, key, IngestStatus.ACCEPTED, row.id)
    if raced is not None:
        return _repeat(index, key, raced, row.values)
    return Rejected("ticketNo", "ticket_no_taken", "ticketNo: used by another record").outcome(
        index, key
    )


async def _resolve_vehicles_and_devices(ctx: RequestContext, rows: Sequence[_Row]) -> None:
    """Fill vehicle_id and device_id, registering what the hub has not seen yet: a plate
    nobody registered becomes an UNREGISTERED vehicle, never a dropped record."""
    if not rows:
        return
    plates = {(row.values["plate_read"], row.item.plate_colour) for row in rows}
    vehicles = await _ensure(
        ctx,
        table_of(m.Vehicle),
        ("plate", "plate_colour"),
        plates,
        {"status": m.VehicleStatus.UNREGISTERED},
    )
    codes = {(row.values["site_id"], row.item.device_code) for row in rows if row.item.device_code}
    devices = await _ensure(
        ctx,
        table_of(m.Device),
        ("site_id", "code"),
        codes,
        {"kind": m.DeviceKind.INDICATOR, "protocol": UNKNOWN_PROTOCOL},
    )
    for row in rows:
        row.values["vehicle_id"] = vehicles[(row.values["plate_read"], row.item.plate_colour)]
        code = row.item.device_code
        row.values["device_id"] = devices[(row.values["site_id"], code)] if code else None


async def _ensure(
    ctx: RequestContext,
    table: Table,
    natural_key: tuple[str, str],
    wanted: set[tuple[Any, Any]],
    defaults: Mapping[str, Any],
) -> dict[tuple[Any, Any], int]:
    """Ids of the rows with these natural keys, inserting the missing ones."""
    if not wanted:
        return {}
    key = tuple_(*(table.c[name] for name in natural_key))
    found = await _ids_by_natural_key(ctx, table, key, wanted)
    missing = wanted - set(found)
    if missing:
        statement = dialect_insert(ctx, table).on_conflict_do_nothing(
            index_elements=list(natural_key)
        )
        # in key order, so that concurrent requests take the unique index's locks alike
        rows = [
            dict(zip(natural_key, pair, strict=True)) | dict(defaults)
            for pair in sorted(missing, key=str)
        ]
        ctx.statements += 1
        await ctx.session.execute(statement, rows)
        found |= await _ids_by_natural_key(ctx, table, key, missing)
    return found


async def _ids_by_natural_key(
    ctx: RequestContext, table: Table, key: Any, wanted: set[tuple[Any, Any]]
) -> dict[tuple[Any, Any], int]:
    rows = await ctx.execute(select(*key.clauses, table.c.id).where(key.in_(list(wanted))))
    return {(found[0], found[1]): found[2] for found in map(tuple, rows)}
