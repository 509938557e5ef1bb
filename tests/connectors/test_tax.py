"""Tax invoices from JSON, XML and CSV files and from an API: keys, red invoices, parties."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from coalhub.models.connector import InvoicePartyFlag
from connectors.files import FileSet
from connectors.http_pull import PullSource
from connectors.store import load_checkpoint, reset_checkpoint
from connectors.tax import rematch_parties
from connectors.tax_sources import TaxApi, TaxFiles
from tests.connectors.api_server import ApiServer, Feed
from tests.connectors.conftest import count, reasons, running
from tests.factories import seed_world, uscc

UNREGISTERED_BUYER = uscc("320100", 77)  # valid, but not on the platform


def number(serial: int) -> str:
    return f"26152{serial:015d}"


def invoice(
    serial: int, seller: str, buyer: str, *, tonnes: str = "30", **changes: Any
) -> dict[str, Any]:
    amount = (Decimal(tonnes) * Decimal("1500")).quantize(Decimal("0.01"))
    tax = (amount * Decimal("0.13")).quantize(Decimal("0.01"))
    data: dict[str, Any] = {
        "number": number(serial),
        "kind": "normal",
        "issued_at": "2026-11-20T10:00:00+08:00",
        "seller_tax_id": seller,
        "seller_name": "乌海市测试煤矿",
        "buyer_tax_id": buyer,
        "buyer_name": "测试焦化有限公司",
        "total_amount": str(amount),
        "total_tax": str(tax),
        "lines": [
            {
                "line_no": 1,
                "item_name": "*煤炭*洗精煤",
                "specification": "JM-XJ",
                "unit": "吨",
                "quantity": tonnes,
                "unit_price": "1500",
                "amount": str(amount),
                "tax_rate": "13",
                "tax_amount": str(tax),
            }
        ],
    }
    return data | changes


def red(serial: int, original: int, seller: str, buyer: str, tonnes: str) -> dict[str, Any]:
    return invoice(
        serial, seller, buyer, tonnes=tonnes, kind="red", original_number=number(original)
    )


def scenario(seller: str, buyer: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Invoices with every case once; returns them and the dead letters they must cause."""
    items = [
        invoice(1, seller, buyer),
        invoice(2, seller, UNREGISTERED_BUYER),
        invoice(3, "NOT-A-TAX-ID", buyer),
        red(4, 1, seller, buyer, tonnes="10"),  # reverses a third of invoice 1
        red(5, 1, seller, buyer, tonnes="25"),  # would reverse more than remains
        red(6, 999, seller, buyer, tonnes="1"),  # its original is not imported: it waits
        invoice(7, seller, buyer, total_amount="1.00"),  # totals disagree with the lines
        invoice(8, seller, buyer, number="12345"),  # not a 20-digit number
        invoice(1, seller, buyer),  # sent twice
    ]
    expected = {
        "over_reversal": 1,
        "totals_mismatch": 1,
        "bad_invoice_number": 1,
    }
    return items, expected


def as_xml(items: list[dict[str, Any]]) -> str:
    def camel(key: str) -> str:
        return "".join(part.capitalize() for part in key.split("_"))

    root = ET.Element("Invoices")
    for item in items:
        element = ET.SubElement(root, "Invoice")
        for key, value in item.items():
            if key == "lines":
                lines = ET.SubElement(element, "Lines")
                for line in value:
                    line_element = ET.SubElement(lines, "Line")
                    for line_key, line_value in line.items():
                        ET.SubElement(line_element, camel(line_key)).text = str(line_value)
            elif key.startswith(("seller_", "buyer_")):
                party, _, field = key.partition("_")
                holder = element.find(party.capitalize())
                if holder is None:
                    holder = ET.SubElement(element, party.capitalize())
                ET.SubElement(holder, camel(field)).text = str(value)
            else:
                ET.SubElement(element, camel(key)).text = str(value)
    return ET.tostring(root, encoding="unicode")


def as_csv(items: list[dict[str, Any]]) -> str:
    header = [key for key in items[0] if key != "lines"] + ["original_number"]
    line_keys = list(items[0]["lines"][0])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*dict.fromkeys(header), *line_keys])
    writer.writeheader()
    for item in items:
        for line in item["lines"]:
            writer.writerow({**{k: v for k, v in item.items() if k != "lines"}, **line})
    return out.getvalue()


async def stored(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as connection:
        invoices = {
            row.number: row for row in await connection.execute(select(m.Invoice.__table__))
        }
        flags = sorted(
            (row.party, row.tax_id, row.reason)
            for row in await connection.execute(select(InvoicePartyFlag.__table__))
        )
        lines = {
            row.invoice_id: row for row in await connection.execute(select(m.InvoiceLine.__table__))
        }
    return {"invoices": invoices, "flags": flags, "lines": lines}


@pytest.mark.parametrize("file_format", ["json", "xml", "csv"])
async def test_invoice_files(engine: AsyncEngine, tmp_path: Path, file_format: str) -> None:
    world = await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    async with engine.connect() as connection:
        seller, buyer = (
            await connection.execute(
                select(m.Enterprise.uscc).where(m.Enterprise.id.in_(world.enterprise_ids[:2]))
            )
        ).scalars()
    items, expected = scenario(seller, buyer)
    text = {
        "json": json.dumps(items, ensure_ascii=False),
        "xml": as_xml(items),
        "csv": as_csv(items),
    }
    (tmp_path / f"invoices.{file_format}").write_text(text[file_format], encoding="utf-8")
    files = FileSet(("*.json", "*.xml", "*.csv"), tmp_path)
    async with running(TaxFiles("tax", files, batch_size=3), engine) as ctx:
        pass
    result = await stored(engine)
    invoices = result["invoices"]
    assert sorted(invoices) == [number(k) for k in (1, 2, 3, 4, 6)]
    original, reversal = invoices[number(1)], invoices[number(4)]
    assert reversal.kind == m.InvoiceKind.RED
    assert reversal.original_invoice_id == original.id
    assert reversal.original_number == number(1)
    waiting = invoices[number(6)]
    assert (waiting.original_number, waiting.original_invoice_id) == (number(999), None)
    assert reversal.total_amount == Decimal("-15000.00")
    assert result["lines"][reversal.id].quantity == Decimal("-10")
    assert original.seller_id == world.enterprise_ids[0]
    assert invoices[number(2)].buyer_id is None  # kept, not dropped
    assert invoices[number(2)].buyer_tax_id == UNREGISTERED_BUYER
    assert result["flags"] == [
        ("buyer", UNREGISTERED_BUYER, "unregistered_party"),
        ("seller", "NOT-A-TAX-ID", "invalid_tax_id"),
    ]
    assert await reasons(engine, "tax") == expected
    assert ctx.stats.duplicates == 1
    # a replay from the start changes nothing
    async with engine.begin() as connection:
        await reset_checkpoint(connection, "tax")
    async with running(TaxFiles("tax", files, batch_size=4), engine) as again:
        pass
    assert again.stats.stored == 0
    assert await stored(engine) == result
    assert await reasons(engine, "tax") == expected


async def test_files_resume_from_their_checkpoint(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    seller, buyer = uscc("150302", 1), uscc("150303", 2)
    first = [invoice(k, seller, buyer) for k in range(10, 20)]
    (tmp_path / "a.json").write_text(json.dumps(first), encoding="utf-8")
    connector = TaxFiles("tax", FileSet(("*.json",), tmp_path), batch_size=4)
    async with running(connector, engine):
        pass
    async with engine.connect() as connection:
        state = await load_checkpoint(connection, "tax")
    [entry] = state["files"].values()
    assert entry["offset"] == 10
    assert entry["complete"] is True
    # a new file later: only it is read
    (tmp_path / "b.json").write_text(json.dumps({"invoices": [invoice(20, seller, buyer)]}))
    async with running(TaxFiles("tax", FileSet(("*.json",), tmp_path)), engine) as ctx:
        pass
    assert ctx.stats.received == 1
    assert await count(engine, m.Invoice) == 11
    # an unreadable file is dead-lettered whole
    (tmp_path / "c.json").write_text("[{", encoding="utf-8")
    async with running(TaxFiles("tax", FileSet(("*.json",), tmp_path)), engine):
        pass
    assert await reasons(engine, "tax") == {"bad_json": 1}


async def test_invoices_from_the_tax_api(engine: AsyncEngine) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    items = [invoice(k, uscc("150302", 1), UNREGISTERED_BUYER) for k in range(30, 60)]
    feed = Feed([*items, invoice(61, "x", "y", lines=[])], fail_next=1)
    async with (
        ApiServer({"invoices": feed}) as server,
        running(TaxApi("tax-api", PullSource(server.url("invoices"), page_size=7)), engine),
    ):
        pass
    assert await count(engine, m.Invoice) == 30
    assert await count(engine, InvoicePartyFlag) == 30
    assert await reasons(engine, "tax-api") == {"missing_field": 1}


async def test_parties_registered_later_are_linked(engine: AsyncEngine, tmp_path: Path) -> None:
    world = await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    (tmp_path / "a.json").write_text(
        json.dumps([invoice(70, uscc("150302", 1), UNREGISTERED_BUYER)]), encoding="utf-8"
    )
    async with running(TaxFiles("tax", FileSet(("*.json",), tmp_path)), engine):
        pass
    assert await count(engine, InvoicePartyFlag) == 1
    async with engine.begin() as connection:
        await connection.execute(
            insert(m.Enterprise).values(
                uscc=UNREGISTERED_BUYER,
                name="南京测试钢铁",
                kind=m.EnterpriseKind.METALLURGY,
                district_id=world.district_ids["150302"],
            )
        )
        assert await rematch_parties(connection) == 1
    invoices = (await stored(engine))["invoices"]
    assert invoices[number(70)].buyer_id is not None
    assert await count(engine, InvoicePartyFlag) == 0


async def test_red_invoices_wait_for_their_original(engine: AsyncEngine, tmp_path: Path) -> None:
    """Reds that arrive first are stored; the original links them when it arrives, oldest
    first, as far as its amount goes."""
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    seller, buyer = uscc("150302", 1), uscc("150303", 2)
    reds = [
        red(81, 80, seller, buyer, tonnes="10"),
        red(82, 80, seller, buyer, tonnes="25"),  # more than the 20 t the first one leaves
        red(83, 84, seller, buyer, tonnes="30"),  # all of it
    ]
    (tmp_path / "a.json").write_text(json.dumps(reds), encoding="utf-8")
    async with running(TaxFiles("tax", FileSet(("*.json",), tmp_path)), engine) as first:
        pass
    assert first.stats.stored == 3
    assert await reasons(engine, "tax") == {}
    invoices = (await stored(engine))["invoices"]
    assert [invoices[number(k)].original_invoice_id for k in (81, 82, 83)] == [None] * 3

    originals = [invoice(80, seller, buyer), invoice(84, seller, buyer)]
    (tmp_path / "b.json").write_text(json.dumps(originals), encoding="utf-8")
    async with running(TaxFiles("tax", FileSet(("*.json",), tmp_path)), engine):
        pass
    invoices = (await stored(engine))["invoices"]
    linked = {k: invoices[number(k)].original_invoice_id for k in (81, 82, 83)}
    assert linked == {81: invoices[number(80)].id, 82: None, 83: invoices[number(84)].id}
    # a red arriving now, with its original stored, is checked against what is linked
    (tmp_path / "c.json").write_text(
        json.dumps([red(85, 80, seller, buyer, tonnes="21")]), encoding="utf-8"
    )
    async with running(TaxFiles("tax", FileSet(("*.json",), tmp_path)), engine):
        pass
    assert await reasons(engine, "tax") == {"over_reversal": 1}


async def test_a_red_whose_original_was_stored_unseen_links_on_the_next_batch(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Two transactions at once (the original in one, its red in the other) cannot see each
    other: the next batch of invoices, whatever they are, links the red."""
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    seller, buyer = uscc("150302", 1), uscc("150303", 2)
    (tmp_path / "a.json").write_text(
        json.dumps([invoice(90, seller, buyer), red(91, 90, seller, buyer, tonnes="5")])
    )
    async with running(TaxFiles("tax", FileSet(("*.json",), tmp_path)), engine):
        pass
    async with engine.begin() as connection:  # as if stored before its original was seen
        await connection.execute(
            update(m.Invoice).where(m.Invoice.number == number(91)).values(original_invoice_id=None)
        )
    (tmp_path / "b.json").write_text(json.dumps([invoice(92, seller, buyer)]))
    async with running(TaxFiles("tax", FileSet(("*.json",), tmp_path)), engine):
        pass
    invoices = (await stored(engine))["invoices"]
    assert invoices[number(91)].original_invoice_id == invoices[number(90)].id
