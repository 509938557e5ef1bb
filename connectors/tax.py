"""Electronic invoices (数电票) from the tax system: checked, matched and stored.

The invoice number is the key: an invoice already stored is a duplicate and changes
nothing (a correction is a red invoice, never an edit). A red-letter invoice references
its original by number and reverses it: it is stored with negative amounts,
`original_number` and `original_invoice_id` set, and may not reverse more than the
original's remaining amount. A red invoice whose original is not imported yet (another
page, another source, an earlier period) is stored all the same with `original_number`
only; when the original arrives, the waiting reds are linked to it, oldest first, as far
as the original's amount goes (one that would over-reverse stays unlinked and is logged).
Seller and buyer are matched to registered enterprises by tax id (= USCC); a party that
matches none is kept as printed with a null enterprise id and flagged in
`connector_invoice_flag` (`unregistered_party`, or `invalid_tax_id` when the id is not
even a valid USCC), so the tax bureau can list them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from coalhub.identifiers import InvalidIdentifierError, validate_uscc
from coalhub.models import Enterprise, Invoice, InvoiceKind, InvoiceLine
from coalhub.models.base import utcnow
from coalhub.models.connector import InvoicePartyFlag
from connectors import fields
from connectors.base import Reject, StoreOutcome
from connectors.store import insert_ignore, table_of

_invoice = table_of(Invoice)
_line = table_of(InvoiceLine)
_enterprise = table_of(Enterprise)
_flag = table_of(InvoicePartyFlag)

_NUMBER = re.compile(r"^\d{20}$")
CENT = Decimal("0.01")
log = logging.getLogger(__name__)
MICRO = Decimal("0.000001")
_KINDS = {
    "normal": InvoiceKind.NORMAL,
    "blue": InvoiceKind.NORMAL,
    "蓝字": InvoiceKind.NORMAL,
    "red": InvoiceKind.RED,
    "红字": InvoiceKind.RED,
}


@dataclass(frozen=True, slots=True)
class LineData:
    line_no: int
    item_name: str
    specification: str | None
    unit: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax_rate: Decimal  # percent
    tax_amount: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    number: str
    kind: InvoiceKind
    original_number: str | None
    issued_at: datetime
    seller_tax_id: str
    seller_name: str
    buyer_tax_id: str
    buyer_name: str
    total_amount: Decimal
    total_tax: Decimal
    lines: tuple[LineData, ...]
    raw: str
    locator: str | None


def parse_invoice(item: dict[str, Any], raw: str, locator: str | None) -> InvoiceRecord | Reject:
    """An invoice as a dict (from JSON, XML or grouped CSV rows) → a checked record."""
    try:
        return _parse(item, raw, locator)
    except fields.FieldError as error:
        return Reject(error.reason, error.detail, raw, locator)


def _parse(item: dict[str, Any], raw: str, locator: str | None) -> InvoiceRecord:
    number = _invoice_number(item, "number")
    kind = _KINDS.get(str(item.get("kind") or "normal").strip().lower())
    if kind is None:
        raise fields.FieldError("bad_field", f"kind {item.get('kind')!r}")
    original = _invoice_number(item, "original_number") if kind is InvoiceKind.RED else None
    sign = Decimal(-1) if kind is InvoiceKind.RED else Decimal(1)
    items = item.get("lines")
    if not isinstance(items, list) or not items:
        raise fields.FieldError("missing_field", "lines")
    lines = tuple(
        _line_data(line, index + 1, sign) if isinstance(line, dict) else _not_object(index)
        for index, line in enumerate(items)
    )
    total_amount = sum((line.amount for line in lines), Decimal(0))
    total_tax = sum((line.tax_amount for line in lines), Decimal(0))
    for key, computed in (("total_amount", total_amount), ("total_tax", total_tax)):
        stated = item.get(key)
        if stated not in (None, "") and abs(_signed(stated, key, sign) - computed) > CENT:
            raise fields.FieldError(
                "totals_mismatch", f"{key} {stated} but lines sum to {computed}"
            )
    if kind is InvoiceKind.NORMAL and total_amount < 0:
        raise fields.FieldError("bad_amount", "a normal invoice with a negative total")
    return InvoiceRecord(
        number=number,
        kind=kind,
        original_number=original,
        issued_at=fields.moment(fields.required(item, "issued_at")),
        seller_tax_id=_tax_id(item, "seller"),
        seller_name=_party(item, "seller", "name", 128),
        buyer_tax_id=_tax_id(item, "buyer"),
        buyer_name=_party(item, "buyer", "name", 128),
        total_amount=total_amount,
        total_tax=total_tax,
        lines=lines,
        raw=raw,
        locator=locator,
    )


def _not_object(index: int) -> LineData:
    raise fields.FieldError("bad_record", f"line {index + 1} is not an object")


def _invoice_number(item: dict[str, Any], key: str) -> str:
    value = str(fields.required(item, key)).strip()
    if not _NUMBER.match(value):
        raise fields.FieldError("bad_invoice_number", f"{key} {value!r} is not 20 digits")
    return value


def _party(item: dict[str, Any], party: str, key: str, width: int) -> str:
    nested = item.get(party)
    source = nested if isinstance(nested, dict) else {key: item.get(f"{party}_{key}")}
    try:
        return fields.text(source, key, max_length=width)
    except fields.FieldError as error:
        raise fields.FieldError(error.reason, f"{party} {error.detail}") from error


def _tax_id(item: dict[str, Any], party: str) -> str:
    return _party(item, party, "tax_id", 20).upper()


def _signed(value: object, key: str, sign: Decimal) -> Decimal:
    """Red invoices are stored negative whether the source prints them signed or not."""
    number = fields.decimal(value, key)
    return -abs(number) if sign < 0 else number


def _line_data(line: dict[str, Any], default_no: int, sign: Decimal) -> LineData:
    rate = fields.decimal(fields.required(line, "tax_rate"), "tax_rate")
    if rate < 1 and rate != 0:  # 0.13 means 13 %
        rate *= 100
    if not 0 <= rate <= 100:
        raise fields.FieldError("bad_field", f"tax_rate {rate}")
    line_no = fields.optional_int(line, "line_no") or default_no
    if not 0 < line_no < 10_000:
        raise fields.FieldError("bad_field", f"line_no {line_no}")
    return LineData(
        line_no=line_no,
        item_name=fields.text(line, "item_name", max_length=128),
        specification=fields.optional_text(line, "specification", max_length=64),
        unit=fields.text(line, "unit", max_length=8),
        quantity=_signed(fields.required(line, "quantity"), "quantity", sign).quantize(MICRO),
        unit_price=abs(fields.decimal(fields.required(line, "unit_price"), "unit_price")).quantize(
            MICRO
        ),
        amount=_signed(fields.required(line, "amount"), "amount", sign).quantize(CENT),
        tax_rate=rate.quantize(Decimal("0.001")),
        tax_amount=_signed(fields.required(line, "tax_amount"), "tax_amount", sign).quantize(CENT),
    )


# ---- storing ---------------------------------------------------------------------------


async def store_invoices(
    connection: AsyncConnection, records: Sequence[InvoiceRecord]
) -> StoreOutcome:
    """Normal invoices first, so a red one in the same batch finds its original."""
    outcome = StoreOutcome()
    unique: dict[str, InvoiceRecord] = {}
    for record in records:
        unique.setdefault(record.number, record)
    outcome.duplicates += len(records) - len(unique)
    normal = [r for r in unique.values() if r.kind is InvoiceKind.NORMAL]
    red = [r for r in unique.values() if r.kind is InvoiceKind.RED]
    parties = await _enterprises(connection, [*normal, *red])
    outcome.merge(await _insert(connection, normal, parties, {}))
    await _link_waiting_reds(connection, [r.number for r in normal])
    originals, accepted = await _check_reversals(connection, red, outcome)
    outcome.merge(await _insert(connection, accepted, parties, originals))
    return outcome


async def _enterprises(
    connection: AsyncConnection, records: Sequence[InvoiceRecord]
) -> dict[str, int]:
    tax_ids = sorted({r.seller_tax_id for r in records} | {r.buyer_tax_id for r in records})
    found: dict[str, int] = {}
    for start in range(0, len(tax_ids), 500):
        rows = await connection.execute(
            select(_enterprise.c.uscc, _enterprise.c.id).where(
                _enterprise.c.uscc.in_(tax_ids[start : start + 500])
            )
        )
        found.update(dict(rows.all()))
    return found


async def _check_reversals(
    connection: AsyncConnection, reds: Sequence[InvoiceRecord], outcome: StoreOutcome
) -> tuple[dict[str, int], list[InvoiceRecord]]:
    """The originals' ids, and the reds to store: those naming a red invoice or reversing
    too much are rejected; those whose original is not imported yet are stored waiting."""
    numbers = sorted({r.original_number for r in reds if r.original_number})
    if not numbers:
        return {}, []
    originals = {
        row.number: row
        for row in await connection.execute(
            select(
                _invoice.c.id, _invoice.c.number, _invoice.c.kind, _invoice.c.total_amount
            ).where(_invoice.c.number.in_(numbers))
        )
    }
    reversed_ = await _reversed(connection, [o.id for o in originals.values()])
    existing = set(
        (
            await connection.execute(
                select(_invoice.c.number).where(_invoice.c.number.in_([r.number for r in reds]))
            )
        ).scalars()
    )
    accepted: list[InvoiceRecord] = []
    for red in reds:
        original = originals.get(red.original_number or "")
        if red.number in existing:
            accepted.append(red)  # stored before: counted as a duplicate on insert
            continue
        reason = _reversal_problem(red, original, reversed_)
        if reason is not None:
            outcome.rejects.append(Reject(reason[0], reason[1], red.raw, red.locator))
            continue
        if original is not None:
            reversed_[original.id] = Decimal(reversed_.get(original.id) or 0) + red.total_amount
        accepted.append(red)
    return {number: row.id for number, row in originals.items()}, accepted


async def _reversed(connection: AsyncConnection, ids: Sequence[int]) -> dict[int, Decimal]:
    """How much the stored red invoices linked to each of these originals reverse."""
    if not ids:
        return {}
    rows = await connection.execute(
        select(_invoice.c.original_invoice_id, func.sum(_invoice.c.total_amount))
        .where(_invoice.c.original_invoice_id.in_(ids))
        .group_by(_invoice.c.original_invoice_id)
    )
    return {original: Decimal(total) for original, total in rows.all()}


def _reversal_problem(
    red: InvoiceRecord, original: Any, reversed_: dict[int, Any]
) -> tuple[str, str] | None:
    if original is None:
        return None  # stored waiting for its original (`_link_waiting_reds`)
    if original.kind == InvoiceKind.RED:
        return "bad_reference", f"{red.original_number} is itself a red invoice"
    remaining = Decimal(original.total_amount) + Decimal(reversed_.get(original.id) or 0)
    if remaining + red.total_amount < -CENT:
        detail = f"reverses {-red.total_amount}, {remaining} of {red.original_number} remains"
        return "over_reversal", detail
    return None


async def _link_waiting_reds(connection: AsyncConnection, numbers: Sequence[str]) -> None:
    """Link the stored red invoices whose original is stored too, oldest first, while the
    original's remaining amount covers them. Every batch looks at all waiting reds, not
    only at those naming `numbers` (this batch's normal invoices): an original stored by
    a concurrent transaction that could not see its red links on the next batch. A red
    that cannot link is logged when its original arrives, not on every batch."""
    original = _invoice.alias("original")
    waiting = (
        await connection.execute(
            select(
                _invoice.c.id,
                _invoice.c.number,
                _invoice.c.total_amount,
                original.c.id.label("original_id"),
                original.c.number.label("original_number"),
                original.c.total_amount.label("original_amount"),
            )
            .join(original, original.c.number == _invoice.c.original_number)
            .where(
                _invoice.c.original_number.is_not(None),  # reds: ix_invoice_original_number
                _invoice.c.original_invoice_id.is_(None),
                _invoice.c.kind == InvoiceKind.RED,
                original.c.kind == InvoiceKind.NORMAL,
            )
            .order_by(_invoice.c.issued_at, _invoice.c.id)
        )
    ).all()
    if not waiting:
        return
    reversed_ = await _reversed(connection, sorted({red.original_id for red in waiting}))
    fresh = set(numbers)
    for red in waiting:
        remaining = Decimal(red.original_amount) + reversed_.get(red.original_id, Decimal(0))
        if remaining + Decimal(red.total_amount) < -CENT:
            if red.original_number in fresh:
                log.warning(
                    "red invoice %s stays unlinked: it reverses %s, %s of %s remains",
                    red.number,
                    -Decimal(red.total_amount),
                    remaining,
                    red.original_number,
                )
            continue
        await connection.execute(
            update(_invoice)
            .where(_invoice.c.id == red.id)
            .values(original_invoice_id=red.original_id)
        )
        reversed_[red.original_id] = reversed_.get(red.original_id, Decimal(0)) + Decimal(
            red.total_amount
        )


async def _insert(
    connection: AsyncConnection,
    records: Sequence[InvoiceRecord],
    parties: dict[str, int],
    originals: dict[str, int],
) -> StoreOutcome:
    if not records:
        return StoreOutcome()
    now = utcnow()
    rows = [_invoice_row(r, parties, originals, now) for r in records]
    inserted = set(await insert_ignore(connection, _invoice, rows, ("number",), returning="number"))
    fresh = [r for r in records if r.number in inserted]
    ids = (
        dict(
            (
                await connection.execute(
                    select(_invoice.c.number, _invoice.c.id).where(
                        _invoice.c.number.in_(sorted(inserted))
                    )
                )
            ).all()
        )
        if inserted
        else {}
    )
    lines = [_line_row(ids[r.number], line) for r in fresh for line in r.lines]
    await insert_ignore(connection, _line, lines, ("invoice_id", "line_no"))
    flags = [flag for r in fresh for flag in _flags(ids[r.number], r, parties, now)]
    await insert_ignore(connection, _flag, flags, ("invoice_id", "party"))
    return StoreOutcome(stored=len(fresh), duplicates=len(records) - len(fresh))


def _invoice_row(
    record: InvoiceRecord, parties: dict[str, int], originals: dict[str, int], now: datetime
) -> dict[str, Any]:
    return {
        "number": record.number,
        "kind": record.kind,
        "original_number": record.original_number,
        "original_invoice_id": originals.get(record.original_number or ""),
        "issued_at": record.issued_at,
        "seller_tax_id": record.seller_tax_id,
        "seller_name": record.seller_name,
        "seller_id": parties.get(record.seller_tax_id),
        "buyer_tax_id": record.buyer_tax_id,
        "buyer_name": record.buyer_name,
        "buyer_id": parties.get(record.buyer_tax_id),
        "total_amount": record.total_amount,
        "total_tax": record.total_tax,
        "received_at": now,
    }


def _line_row(invoice_id: int, line: LineData) -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "line_no": line.line_no,
        "item_name": line.item_name,
        "product_id": None,
        "specification": line.specification,
        "unit": line.unit,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "amount": line.amount,
        "tax_rate": line.tax_rate,
        "tax_amount": line.tax_amount,
    }


def _flags(
    invoice_id: int, record: InvoiceRecord, parties: dict[str, int], now: datetime
) -> list[dict[str, Any]]:
    flags = []
    for party, tax_id in (("seller", record.seller_tax_id), ("buyer", record.buyer_tax_id)):
        if tax_id in parties:
            continue
        try:
            validate_uscc(tax_id)
            reason = "unregistered_party"
        except InvalidIdentifierError:
            reason = "invalid_tax_id"
        flags.append(
            {
                "invoice_id": invoice_id,
                "party": party,
                "tax_id": tax_id,
                "reason": reason,
                "flagged_at": now,
            }
        )
    return flags


async def rematch_parties(connection: AsyncConnection) -> int:
    """Link flagged invoice parties to enterprises registered since, and clear their flags.

    Call it after enterprises register (or on a schedule); returns the flags cleared."""
    flags = (
        await connection.execute(
            select(
                _flag.c.id, _flag.c.invoice_id, _flag.c.party, _enterprise.c.id.label("found")
            ).join(_enterprise, _enterprise.c.uscc == _flag.c.tax_id)
        )
    ).all()
    for flag in flags:
        column = _invoice.c.seller_id if flag.party == "seller" else _invoice.c.buyer_id
        await connection.execute(
            _invoice.update().where(_invoice.c.id == flag.invoice_id).values({column: flag.found})
        )
    if flags:
        await connection.execute(_flag.delete().where(_flag.c.id.in_([f.id for f in flags])))
    return len(flags)
