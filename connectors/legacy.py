"""Historical weigh tickets from the districts' former coal tax-control systems.

Each district exports CSV with its own column names; the configuration maps them
(`columns`), and maps legacy product names, business types and weighbridge names onto
the platform's (`products`, `directions`, `sites`). A ticket is stored once: its
idempotency key is `legacy:<district>:<ticket no>` and its ticket number
`<district>-<ticket no>`. The import resumes at the byte offset where it stopped.
Rows that cannot be stored (unknown product, party or site, gross below tare, unreadable
cells) are dead-lettered with their file and line; register what is missing and run the
import again with `--reset`: what was stored is skipped, the rest goes in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from coalhub.identifiers import InvalidIdentifierError, PlateColour, validate_uscc
from coalhub.models import (
    CoalProduct,
    Enterprise,
    RecordSource,
    Site,
    WeighDirection,
    WeighRecord,
)
from coalhub.models.base import utcnow
from connectors import fields
from connectors.base import Batch, JSONState, Reject, StoreOutcome
from connectors.files import Digests, FileSet, advanced, next_file
from connectors.legacy_csv import read_chunk
from connectors.legacy_xlsx import data_rows, read_xlsx_chunk
from connectors.positions import VehicleResolver
from connectors.store import insert_ignore, table_of

_record = table_of(WeighRecord)
_product = table_of(CoalProduct)
_enterprise = table_of(Enterprise)
_site = table_of(Site)

COLUMNS = ("ticket_no", "plate", "gross", "tare", "product", "shipper", "consignee")
OPTIONAL_COLUMNS = (
    "plate_colour",
    "gross_at",
    "tare_at",
    "weighed_at",
    "site",
    "direction",
    "unit_price",
)
MAX_GROSS_KG = 200_000  # well above any legal road vehicle (49 t), below unit mix-ups
DIRECTION_WORDS = {
    "销售": WeighDirection.SALE,
    "销售出库": WeighDirection.SALE,
    "采购": WeighDirection.PURCHASE,
    "采购入库": WeighDirection.PURCHASE,
    "调拨": WeighDirection.TRANSFER,
    "其他": WeighDirection.OTHER,
}


@dataclass(frozen=True)
class DistrictMapping:
    district: str  # division code, e.g. 150304
    columns: dict[str, str]  # our field -> their column header
    products: dict[str, str] = field(default_factory=dict)  # their name -> product code
    directions: dict[str, str] = field(default_factory=dict)  # their word -> sale/purchase/...
    sites: dict[str, str] = field(default_factory=dict)  # their weighbridge -> "USCC/CODE"
    default_direction: WeighDirection = WeighDirection.SALE
    default_plate_colour: PlateColour = PlateColour.YELLOW
    weight_unit: str = "kg"  # or "t"
    time_format: str | None = None  # strptime format; ISO 8601 when None

    def missing_columns(self) -> list[str]:
        return [name for name in COLUMNS if name not in self.columns]


@dataclass(frozen=True, slots=True)
class LegacyTicket:
    ticket_no: str
    plate: str
    plate_colour: PlateColour
    gross_kg: int
    tare_kg: int
    gross_at: datetime
    tare_at: datetime
    product: str
    shipper: str
    consignee: str
    site: str | None
    direction: WeighDirection
    unit_price: Decimal | None
    row: dict[str, str]
    raw: str
    locator: str


class LegacyWeighTickets:
    kind = "legacy"

    def __init__(
        self,
        name: str,
        files: FileSet,
        mapping: DistrictMapping,
        *,
        encoding: str = "utf-8-sig",
        delimiter: str = ",",
        batch_size: int = 500,
    ) -> None:
        self.name = name
        self.files = files
        self.mapping = mapping
        self.encoding = encoding
        self.delimiter = delimiter
        self.batch_size = batch_size
        self._digests = Digests()

    async def fetch(self, state: JSONState) -> Batch[LegacyTicket]:
        position = next_file(state, self.files.paths(), self._digests)
        if position is None:
            return Batch([], [], state, done=True)
        if position.path.suffix.lower() == ".xlsx":
            chunk = read_xlsx_chunk(position.path, position.offset, self.batch_size)
            size = data_rows(position.path)
        else:
            chunk = read_chunk(
                position.path,
                position.offset,
                int(position.entry.get("line", 1)),
                self.batch_size,
                encoding=self.encoding,
                delimiter=self.delimiter,
            )
            size = position.path.stat().st_size
        name = position.path.name
        rejects = [
            Reject("bad_encoding" if raw else "bad_csv", why, raw, f"{name} line {line}")
            for line, raw, why in chunk.bad_lines
        ]
        records: list[LegacyTicket] = []
        missing = [c for c in self.mapping.columns.values() if c not in chunk.header]
        for line, values in chunk.rows:
            row = dict(zip(chunk.header, values, strict=False))
            raw = json.dumps(row, ensure_ascii=False)
            locator = f"{name} line {line}"
            if missing:
                detail = f"columns {missing} are not in the header"
                rejects.append(Reject("missing_column", detail, raw, locator))
            elif len(values) != len(chunk.header):
                detail = f"{len(values)} cells, the header has {len(chunk.header)}"
                rejects.append(Reject("bad_row", detail, raw, locator))
            else:
                parsed = parse_ticket(self.mapping, row, raw, locator)
                if isinstance(parsed, Reject):
                    rejects.append(parsed)
                else:
                    records.append(parsed)
        state = advanced(state, position, chunk.offset, chunk.at_end, line=chunk.line)
        return Batch(records, rejects, state, done=False, progress=(chunk.offset, size))

    async def store(
        self, connection: AsyncConnection, records: Sequence[LegacyTicket]
    ) -> StoreOutcome:
        return await store_tickets(connection, self.mapping, records)


def parse_ticket(
    mapping: DistrictMapping, row: dict[str, str], raw: str, locator: str
) -> LegacyTicket | Reject:
    def cell(name: str) -> str | None:
        column = mapping.columns.get(name)
        value = row.get(column) if column else None
        return value.strip() if value and value.strip() else None

    try:
        ticket = cell("ticket_no")
        if ticket is None:
            raise fields.FieldError("missing_field", "ticket_no")
        gross, tare = (
            _weight(cell("gross"), "gross", mapping),
            _weight(cell("tare"), "tare", mapping),
        )
        if tare < 0 or gross < tare:
            raise fields.FieldError("gross_below_tare", f"gross {gross} kg, tare {tare} kg")
        if gross > MAX_GROSS_KG:
            raise fields.FieldError("implausible_weight", f"gross {gross} kg")
        weighed = cell("weighed_at")
        gross_at = _time(cell("gross_at") or weighed, "gross_at", mapping)
        tare_at = _time(cell("tare_at") or weighed, "tare_at", mapping)
        colour_text = cell("plate_colour")
        return LegacyTicket(
            ticket_no=ticket,
            plate=fields.plate(cell("plate")),
            plate_colour=mapping.default_plate_colour
            if colour_text is None
            else fields.colour(colour_text),
            gross_kg=gross,
            tare_kg=tare,
            gross_at=gross_at,
            tare_at=tare_at,
            product=_needed(cell("product"), "product"),
            shipper=_needed(cell("shipper"), "shipper"),
            consignee=_needed(cell("consignee"), "consignee"),
            site=cell("site"),
            direction=_direction(cell("direction"), mapping),
            unit_price=None
            if cell("unit_price") is None
            else fields.decimal(cell("unit_price"), "unit_price"),
            row=row,
            raw=raw,
            locator=locator,
        )
    except fields.FieldError as error:
        return Reject(error.reason, error.detail, raw, locator)


def _needed(value: str | None, name: str) -> str:
    if value is None:
        raise fields.FieldError("missing_field", name)
    return value


def _weight(value: str | None, name: str, mapping: DistrictMapping) -> int:
    number = fields.decimal(_needed(value, name), name)
    kg = number * 1000 if mapping.weight_unit == "t" else number
    return int(kg.to_integral_value())


def _time(value: str | None, name: str, mapping: DistrictMapping) -> datetime:
    return fields.moment(_needed(value, name), fmt=mapping.time_format)


def _direction(value: str | None, mapping: DistrictMapping) -> WeighDirection:
    if value is None:
        return mapping.default_direction
    word = mapping.directions.get(value) or DIRECTION_WORDS.get(value) or value.lower()
    try:
        return WeighDirection(word)
    except ValueError as error:
        raise fields.FieldError("bad_field", f"direction {value!r}") from error


# ---- storing ---------------------------------------------------------------------------


@dataclass
class _Lookups:
    products: dict[str, int]
    parties: dict[str, int]  # USCC or exact name -> enterprise id
    sites: dict[tuple[int, str], int]  # (enterprise id, site code) -> site id
    vehicles: dict[tuple[str, PlateColour], int]


async def store_tickets(
    connection: AsyncConnection, mapping: DistrictMapping, tickets: Sequence[LegacyTicket]
) -> StoreOutcome:
    outcome = StoreOutcome()
    lookups = await _lookups(connection, mapping, tickets)
    rows: dict[str, dict[str, Any]] = {}
    for ticket in tickets:
        try:
            row = _record_row(mapping, ticket, lookups)
        except fields.FieldError as error:
            outcome.rejects.append(Reject(error.reason, error.detail, ticket.raw, ticket.locator))
            continue
        rows.setdefault(row["idempotency_key"], row)
    inserted = await insert_ignore(connection, _record, list(rows.values()), ())
    outcome.stored = len(inserted)
    outcome.duplicates = len(tickets) - len(outcome.rejects) - len(inserted)
    return outcome


def _record_row(
    mapping: DistrictMapping, ticket: LegacyTicket, lookups: _Lookups
) -> dict[str, Any]:
    product_code = mapping.products.get(ticket.product, ticket.product)
    product_id = lookups.products.get(product_code)
    if product_id is None:
        raise fields.FieldError("unknown_product", f"product {ticket.product!r}")
    shipper = lookups.parties.get(ticket.shipper)
    consignee = lookups.parties.get(ticket.consignee)
    if shipper is None:
        raise fields.FieldError("unknown_shipper", f"shipper {ticket.shipper!r} is not registered")
    if consignee is None:
        raise fields.FieldError(
            "unknown_consignee", f"consignee {ticket.consignee!r} is not registered"
        )
    site_id = _site_id(mapping, ticket, lookups, shipper, consignee)
    ticket_no = f"{mapping.district}-{ticket.ticket_no}"
    if len(ticket_no) > 40:
        raise fields.FieldError("bad_field", f"ticket number {ticket.ticket_no!r} is too long")
    return {
        "ticket_no": ticket_no,
        "idempotency_key": idempotency_key(mapping.district, ticket.ticket_no),
        "site_id": site_id,
        "device_id": None,
        "direction": ticket.direction,
        "vehicle_id": lookups.vehicles[(ticket.plate, ticket.plate_colour)],
        "plate_read": ticket.plate,
        "product_id": product_id,
        "gross_kg": ticket.gross_kg,
        "tare_kg": ticket.tare_kg,
        "gross_at": ticket.gross_at,
        "tare_at": ticket.tare_at,
        "weighed_at": max(ticket.gross_at, ticket.tare_at),
        "shipper_id": shipper,
        "consignee_id": consignee,
        "unit_price": ticket.unit_price,
        "evidence": {
            "legacy": {"district": mapping.district, "at": ticket.locator, "row": ticket.row}
        },
        "source": RecordSource.LEGACY_IMPORT,
        "received_at": utcnow(),
    }


def idempotency_key(district: str, ticket_no: str) -> str:
    key = f"legacy:{district}:{ticket_no}"
    return key if len(key) <= 64 else "legacy:" + hashlib.sha256(key.encode()).hexdigest()[:57]


def _site_id(
    mapping: DistrictMapping, ticket: LegacyTicket, lookups: _Lookups, shipper: int, consignee: int
) -> int:
    """The mapped weighbridge, or the site with that code of the enterprise that weighed:
    the shipper for a sale or transfer, the consignee for a purchase."""
    if ticket.site is None:
        raise fields.FieldError("unknown_site", "no weighbridge given")
    mapped = mapping.sites.get(ticket.site)
    if mapped is not None:
        uscc, _, code = mapped.partition("/")
        owner = lookups.parties.get(uscc)
    else:
        code = ticket.site
        owner = consignee if ticket.direction is WeighDirection.PURCHASE else shipper
    site_id = None if owner is None else lookups.sites.get((owner, code))
    if site_id is None:
        raise fields.FieldError("unknown_site", f"weighbridge {ticket.site!r}")
    return site_id


async def _lookups(
    connection: AsyncConnection, mapping: DistrictMapping, tickets: Sequence[LegacyTicket]
) -> _Lookups:
    product_rows = await connection.execute(select(_product.c.code, _product.c.name, _product.c.id))
    products: dict[str, int] = {}
    for code, name, id_ in product_rows:
        products.setdefault(name, id_)
        products[code] = id_
    names = {t.shipper for t in tickets} | {t.consignee for t in tickets}
    names |= {site.partition("/")[0] for site in mapping.sites.values()}
    parties = await _parties(connection, names)
    sites: dict[tuple[int, str], int] = {}
    if parties:
        rows = await connection.execute(
            select(_site.c.enterprise_id, _site.c.code, _site.c.id).where(
                _site.c.enterprise_id.in_(set(parties.values()))
            )
        )
        sites = {(enterprise, code): id_ for enterprise, code, id_ in rows}
    keys = {(t.plate, t.plate_colour) for t in tickets}
    vehicles = await VehicleResolver().lookup(connection, keys)
    return _Lookups(products, parties, sites, vehicles)


async def _parties(connection: AsyncConnection, names: set[str]) -> dict[str, int]:
    """Parties by USCC, or else by name when exactly one enterprise has it."""
    usccs = {name.upper() for name in names if _is_uscc(name)}
    plain = names - usccs
    found: dict[str, int] = {}
    if usccs:
        rows = await connection.execute(
            select(_enterprise.c.uscc, _enterprise.c.id).where(_enterprise.c.uscc.in_(usccs))
        )
        found.update(dict(rows.all()))
    if plain:
        rows = await connection.execute(
            select(_enterprise.c.name, func.min(_enterprise.c.id))
            .where(_enterprise.c.name.in_(plain))
            .group_by(_enterprise.c.name)
            .having(func.count() == 1)
        )
        found.update(dict(rows.all()))
    return found


def _is_uscc(value: str) -> bool:
    try:
        validate_uscc(value)
    except InvalidIdentifierError:
        return False
    return True
