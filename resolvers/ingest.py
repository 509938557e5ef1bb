"""Ingestion from the device bridges at enterprise sites: weigh records and heartbeats.

Every record is checked before anything is written, so a rejected record neither aborts the
request's transaction nor holds back the rest of its batch. Records are inserted with
ON CONFLICT DO NOTHING on the idempotency key: a redelivery, even one racing the first
delivery in another request, stores nothing and is answered DUPLICATE with the stored id.
A batch costs a fixed number of statements whatever its size."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from coalhub import models as m
from coalhub.auth import Principal
from coalhub.errors import BadRequestError, ForbiddenError
from coalhub.identifiers import InvalidIdentifierError, PlateColour, validate_plate, validate_uscc
from coalhub.models.base import utcnow
from resolvers.context import RequestContext

# "developer" is the local tools' principal; every real bridge is a "device" client
INGEST_DEPARTMENTS = frozenset({"device", "developer"})
MAX_BATCH = 500
CLOCK_SKEW = timedelta(minutes=5)  # how far ahead of the hub a bridge's clock may run
# an industrial PC whose clock battery died boots in 2000: such times are refused, not stored
MAX_AGE = timedelta(days=366)
MAX_WEIGHT_KG = 200_000  # above any weighbridge deck's capacity
MAX_UNIT_PRICE = Decimal(100_000)  # yuan per tonne
MAX_EVIDENCE_BYTES = 64 * 1024
MAX_STATE_BYTES = 16 * 1024
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
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


class IngestStatus(enum.StrEnum):
    ACCEPTED = "accepted"  # stored now
    DUPLICATE = "duplicate"  # stored before under the same key: a harmless redelivery
    REJECTED = "rejected"  # not stored; `reason` and `field` say why


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
class IngestOutcome:
    index: int  # position in the batch
    key: str  # the idempotency key (weigh records) or the device code (heartbeats)
    status: IngestStatus
    row_id: int | None = None
    field: str | None = None
    reason: str | None = None
    message: str | None = None


class Rejected(Exception):  # noqa: N818 - an answer, not a fault
    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.field, self.reason, self.message = field, reason, message

    def outcome(self, index: int, key: str) -> IngestOutcome:
        return IngestOutcome(
            index, key, IngestStatus.REJECTED, None, self.field, self.reason, self.message
        )


def authorize(ctx: RequestContext, type_name: str, count: int) -> None:
    """Device clients (and developers' local tools) whose policy lets them ingest."""
    caller = ctx.caller
    if caller.department not in INGEST_DEPARTMENTS or not ctx.access.may("ingest", type_name):
        raise ForbiddenError("只有设备客户端可以上报数据 / only device clients may ingest")
    if count > MAX_BATCH:
        raise BadRequestError("BATCH_TOO_LARGE", f"at most {MAX_BATCH} items per call")


def check_site(caller: Principal, site_id: int | None, field: str) -> int:
    """A bridge writes for its own site only (developers' tools for any); a foreign site
    is refused the same way whether or not it exists."""
    if site_id is None:
        raise Rejected(field, "wrong_type", f"{field} must be a Site id")
    if caller.department != "developer" and caller.site_id != site_id:
        raise Rejected(field, "forbidden_site", "a device client reports only for its own site")
    return site_id


# ---- weigh records ----------------------------------------------------------------------


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
    _require(
        "idempotencyKey", bool(_KEY.fullmatch(key)), "bad_format", "1-64 of A-Z a-z 0-9 . _ : -"
    )
    site_id = check_site(caller, record.site_id, "siteId")
    ticket_no = _text("ticketNo", record.ticket_no, 40)
    device_code = record.device_code
    if device_code is not None:
        _require("deviceCode", bool(_CODE.fullmatch(device_code)), "bad_format", "device code")
    plate = _identifier("plate", lambda: validate_plate(record.plate, record.plate_colour))
    _check_weights(record.gross_kg, record.tare_kg)
    gross_at = _time("grossAt", record.gross_at, now)
    tare_at = _time("tareAt", record.tare_at, now)
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
        "evidence": _json_object("evidence", record.evidence, MAX_EVIDENCE_BYTES),
        "source": m.RecordSource.BRIDGE,
    }
    return _Checked(
        index=index,
        key=key,
        values=values,
        plate_colour=record.plate_colour,
        product_code=_text("productCode", record.product_code, 16),
        shipper_uscc=_uscc("shipperUscc", record.shipper_uscc, usccs),
        consignee_uscc=_uscc("consigneeUscc", record.consignee_uscc, usccs),
        device_code=device_code,
        contract_number=_optional_text("contractNumber", record.contract_number, 40),
        booking_id=_booking_id(record.booking_id),
    )


def _require(field: str, condition: bool, reason: str, message: str) -> None:
    if not condition:
        raise Rejected(field, reason, f"{field}: {message}")


def _text(field: str, value: str, max_length: int) -> str:
    value = value.strip()
    _require(field, bool(value), "empty", "must not be empty")
    _require(field, len(value) <= max_length, "too_long", f"over {max_length} characters")
    _require(field, not _CONTROL.search(value), "bad_format", "control characters")
    return value


def _optional_text(field: str, value: str | None, max_length: int) -> str | None:
    return None if value is None or not value.strip() else _text(field, value, max_length)


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
    _require("tareKg", tare >= 0, "negative", "a weight is never negative")
    _require("grossKg", gross >= 0, "negative", "a weight is never negative")
    _require("grossKg", gross <= MAX_WEIGHT_KG, "out_of_range", f"over {MAX_WEIGHT_KG} kg")
    _require("grossKg", gross >= tare, "gross_below_tare", "gross is below tare")


def _time(field: str, value: datetime, now: datetime) -> datetime:
    _require(field, value.tzinfo is not None, "no_timezone", "give the UTC offset")
    _require(field, value <= now + CLOCK_SKEW, "in_future", "later than the hub's clock")
    _require(field, value >= now - MAX_AGE, "too_old", "more than a year ago: check the clock")
    return value.astimezone(UTC)


def _unit_price(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    in_range = value.is_finite() and 0 <= value <= MAX_UNIT_PRICE
    _require("unitPrice", in_range, "out_of_range", f"yuan per tonne, 0 to {MAX_UNIT_PRICE}")
    try:
        cents = value.quantize(Decimal("0.01"))
    except InvalidOperation:
        cents = None
    _require("unitPrice", cents == value, "too_precise", "at most two decimals")
    return cents


def _json_object(field: str, value: Any, max_bytes: int) -> dict[str, Any] | None:
    if value is None:
        return None
    _require(field, isinstance(value, dict), "bad_format", "must be a JSON object")
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    _require(field, size <= max_bytes, "too_large", f"over {max_bytes} bytes")
    result: dict[str, Any] = value
    return result


def _booking_id(value: int | None) -> int | None:
    _require("bookingId", value is None or value > 0, "wrong_type", "must be a Booking id")
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
            sites=set(
                await _pairs(ctx, m.Site.id, m.Site.id, {i.values["site_id"] for i in items})
            ),
            products=await _pairs(
                ctx, m.CoalProduct.code, m.CoalProduct.id, {i.product_code for i in items}
            ),
            enterprises=await _pairs(
                ctx,
                m.Enterprise.uscc,
                m.Enterprise.id,
                {i.shipper_uscc for i in items} | {i.consignee_uscc for i in items},
            ),
            contracts=await _pairs(
                ctx, m.Contract.number, m.Contract.id, {i.contract_number for i in items} - {None}
            ),
            bookings=await _pairs(
                ctx, m.Booking.id, m.Booking.site_id, {i.booking_id for i in items} - {None}
            ),
            stored={row.key: row for row in stored},
            tickets={row.fingerprint[0]: row.key for row in by_ticket},
        )


async def _pairs(
    ctx: RequestContext, key: Any, value: Any, wanted: Iterable[Any]
) -> dict[Any, Any]:
    wanted = list(wanted)
    if not wanted:
        return {}
    rows = await ctx.execute(select(key, value).where(key.in_(wanted)))
    return {pair[0]: pair[1] for pair in map(tuple, rows)}


async def _stored_records(ctx: RequestContext, where: ColumnElement[bool]) -> list[_Stored]:
    table = _table(m.WeighRecord).c
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
            _require(
                "bookingId", booking_site == values["site_id"], "other_site", "booked elsewhere"
            )
            values["booking_id"] = item.booking_id
        return values

    async def insert(self, ctx: RequestContext) -> None:
        if not self.rows:
            return
        table = _table(m.WeighRecord)
        statement = (
            _dialect_insert(ctx, table)
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
        _table(m.Vehicle),
        ("plate", "plate_colour"),
        plates,
        {"status": m.VehicleStatus.UNREGISTERED},
    )
    codes = {(row.values["site_id"], row.item.device_code) for row in rows if row.item.device_code}
    devices = await _ensure(
        ctx,
        _table(m.Device),
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
        statement = _dialect_insert(ctx, table).on_conflict_do_nothing(
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


def _table(model: type[m.Base]) -> Table:
    table: Table = model.__table__  # type: ignore[assignment]  # declared, so a Table
    return table


def _dialect_insert(ctx: RequestContext, table: Table) -> postgresql.Insert | sqlite.Insert:
    if ctx.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


# ---- device heartbeats ------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceStatusFields:
    site_id: int | None
    device_code: str
    status: m.DeviceStatus
    protocol: str
    kind: m.DeviceKind = m.DeviceKind.INDICATOR
    model: str | None = None
    reported_at: datetime | None = None  # the bridge's clock, kept with the state
    state: Any = None  # counters and last reading


@dataclass
class _Report:
    index: int
    values: dict[str, Any] = field(default_factory=dict)


async def report_device_status(
    ctx: RequestContext, reports: Sequence[DeviceStatusFields], *, now: datetime | None = None
) -> list[IngestOutcome]:
    """Keep each device's status, last state and last heartbeat, and its site's last
    sign of life, creating a device the hub has not seen before."""
    authorize(ctx, "Device", len(reports))
    now = now or utcnow()
    outcomes: dict[int, IngestOutcome] = {}
    checked: list[_Report] = []
    for index, report in enumerate(reports):
        try:
            checked.append(_Report(index, _check_report(ctx.caller, report, now)))
        except Rejected as rejected:
            outcomes[index] = rejected.outcome(index, report.device_code)
    sites = set(await _pairs(ctx, m.Site.id, m.Site.id, {r.values["site_id"] for r in checked}))
    known = []
    for item in checked:
        if item.values["site_id"] in sites:
            known.append(item)
        else:
            outcomes[item.index] = Rejected("siteId", "unknown", "siteId: no such site").outcome(
                item.index, item.values["code"]
            )
    ids = await _upsert_devices(ctx, known)
    if known:
        touched = update(m.Site).where(m.Site.id.in_(sites)).values(last_seen_at=now)
        await ctx.execute(touched)
    for item in known:
        natural = (item.values["site_id"], item.values["code"])
        outcomes[item.index] = IngestOutcome(
            item.index, item.values["code"], IngestStatus.ACCEPTED, ids[natural]
        )
    return [outcomes[index] for index in range(len(reports))]


def _check_report(caller: Principal, report: DeviceStatusFields, now: datetime) -> dict[str, Any]:
    site_id = check_site(caller, report.site_id, "siteId")
    code = report.device_code
    _require("deviceCode", bool(_CODE.fullmatch(code)), "bad_format", "1-32 of A-Z a-z 0-9 . _ -")
    state = _json_object("state", report.state, MAX_STATE_BYTES) or {}
    if report.reported_at is not None:
        state = state | {"reportedAt": _time("reportedAt", report.reported_at, now).isoformat()}
    return {
        "site_id": site_id,
        "code": code,
        "kind": report.kind,
        "protocol": _text("protocol", report.protocol, 32),
        "model": _optional_text("model", report.model, 64),
        "status": report.status,
        "last_heartbeat_at": now,
        "last_state": state,
        "updated_at": now,
    }


async def _upsert_devices(ctx: RequestContext, reports: Sequence[_Report]) -> dict[Any, int]:
    if not reports:
        return {}
    # one row per device: ON CONFLICT DO UPDATE may not touch a row twice in one statement
    latest = {(r.values["site_id"], r.values["code"]): r.values for r in reports}
    table = _table(m.Device)
    insert = _dialect_insert(ctx, table)
    excluded = insert.excluded
    statement = insert.on_conflict_do_update(
        index_elements=["site_id", "code"],
        set_={
            "kind": excluded.kind,
            "protocol": excluded.protocol,
            "model": func.coalesce(excluded.model, table.c.model),
            "status": excluded.status,
            "last_heartbeat_at": excluded.last_heartbeat_at,
            "last_state": excluded.last_state,
            "updated_at": excluded.updated_at,
        },
    ).returning(table.c.site_id, table.c.code, table.c.id)
    ctx.statements += 1
    result = await ctx.session.execute(statement, [latest[key] for key in sorted(latest)])
    return {(site, code): row_id for site, code, row_id in result}
