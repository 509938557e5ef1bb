"""Where invoices come from: batch files (JSON, XML, CSV) or the tax system's API.

File layouts (one invoice = number, kind, original_number, issued_at, seller and buyer
tax_id and name, total_amount, total_tax, lines of line_no, item_name, specification,
unit, quantity, unit_price, amount, tax_rate, tax_amount):

- JSON: a list of invoices, or `{"invoices": [...]}`; parties flat (`seller_tax_id`) or
  nested (`"seller": {"tax_id", "name"}`);
- XML: `<Invoices><Invoice><Number>…<Seller><TaxId>…</Seller><Lines><Line>…` (element
  names are the field names in CamelCase); DOCTYPE and entities are refused;
- CSV: one row per invoice line with the invoice's fields repeated; consecutive rows
  with the same number form one invoice.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn
from xml.parsers import expat

from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.base import Batch, JSONState, Reject, StoreOutcome
from connectors.files import Digests, FileSet, advanced, next_file
from connectors.http_pull import PagedPuller, PullSource, item_payload
from connectors.tax import InvoiceRecord, parse_invoice, store_invoices

MAX_KEPT_FILE = 1 << 20  # a whole unreadable file is dead-lettered up to this size
Parsed = InvoiceRecord | Reject


class TaxFiles:
    kind = "tax"

    def __init__(
        self,
        name: str,
        files: FileSet,
        *,
        file_format: str | None = None,
        encoding: str = "utf-8-sig",
        batch_size: int = 500,
    ) -> None:
        self.name = name
        self.files = files
        self.file_format = file_format
        self.encoding = encoding
        self.batch_size = batch_size
        self._digests = Digests()
        self._loaded: tuple[str, list[Parsed]] | None = None

    async def fetch(self, state: JSONState) -> Batch[InvoiceRecord]:
        position = next_file(state, self.files.paths(), self._digests)
        if position is None:
            return Batch([], [], state, done=True)
        items = self._items(position.path, position.sha256)
        chunk = items[position.offset : position.offset + self.batch_size]
        offset = position.offset + len(chunk)
        return Batch(
            [item for item in chunk if isinstance(item, InvoiceRecord)],
            [item for item in chunk if isinstance(item, Reject)],
            advanced(state, position, offset, complete=offset >= len(items)),
            done=False,
            progress=(offset, len(items)),
        )

    async def store(
        self, connection: AsyncConnection, records: Sequence[InvoiceRecord]
    ) -> StoreOutcome:
        return await store_invoices(connection, records)

    def _items(self, path: Path, sha256: str) -> list[Parsed]:
        if self._loaded is None or self._loaded[0] != sha256:
            self._loaded = (sha256, read_invoice_file(path, self.file_format, self.encoding))
        return self._loaded[1]


def read_invoice_file(path: Path, file_format: str | None, encoding: str) -> list[Parsed]:
    kind = (file_format or path.suffix.lstrip(".")).lower()
    reader = {"json": _json_items, "xml": _xml_items, "csv": _csv_items}.get(kind)
    if reader is None:
        return [Reject("unsupported", f"{path.name}: format {kind!r}", "", path.name)]
    try:
        text = path.read_text(encoding=encoding)
    except (UnicodeDecodeError, OSError) as error:
        return [
            Reject(
                "bad_file", f"{path.name}: {error}", path.read_bytes()[:MAX_KEPT_FILE], path.name
            )
        ]
    try:
        return reader(text, path.name)
    except _FileError as error:
        return [
            Reject(error.reason, f"{path.name}: {error.detail}", text[:MAX_KEPT_FILE], path.name)
        ]


class _FileError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _json_items(text: str, name: str) -> list[Parsed]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise _FileError("bad_json", str(error)) from error
    items = document.get("invoices") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise _FileError("bad_json", "expected a list of invoices or {'invoices': [...]}")
    parsed: list[Parsed] = []
    for index, item in enumerate(items):
        locator = f"{name} #{index + 1}"
        raw = item_payload(item)
        if isinstance(item, dict):
            parsed.append(parse_invoice(item, raw, locator))
        else:
            parsed.append(Reject("bad_record", "an invoice is not an object", raw, locator))
    return parsed


# ---- XML -------------------------------------------------------------------------------

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(tag: str) -> str:
    return _CAMEL.sub("_", tag.rpartition("}")[2]).lower()


def _xml_items(text: str, name: str) -> list[Parsed]:
    _refuse_dtd(text)
    try:
        root = ET.fromstring(text)  # noqa: S314 - DTDs refused above, so no entities
    except ET.ParseError as error:
        raise _FileError("bad_xml", str(error)) from error
    parsed: list[Parsed] = []
    for index, element in enumerate(child for child in root if _snake(child.tag) == "invoice"):
        locator = f"{name} #{index + 1}"
        raw = ET.tostring(element, encoding="unicode")
        parsed.append(parse_invoice(_element(element), raw, locator))
    return parsed


def _element(element: ET.Element) -> dict[str, Any]:
    values: dict[str, Any] = dict(element.attrib)
    for child in element:
        key = _snake(child.tag)
        if key == "lines":
            values["lines"] = [_element(line) for line in child]
        elif len(child):
            values[key] = _element(child)
        else:
            values[key] = (child.text or "").strip()
    return values


def _refuse_dtd(document: str) -> None:
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    try:
        parser.Parse(document, True)
    except expat.ExpatError as error:
        raise _FileError("bad_xml", str(error)) from error


def _refuse(*_: object) -> NoReturn:
    raise _FileError("forbidden_dtd", "DOCTYPE and ENTITY declarations are refused")


# ---- CSV -------------------------------------------------------------------------------

_INVOICE_COLUMNS = (
    "number",
    "kind",
    "original_number",
    "issued_at",
    "seller_tax_id",
    "seller_name",
    "buyer_tax_id",
    "buyer_name",
    "total_amount",
    "total_tax",
)


def _csv_items(text: str, name: str) -> list[Parsed]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or "number" not in reader.fieldnames:
        raise _FileError("bad_csv", "the header row has no `number` column")
    groups: list[tuple[int, list[dict[str, str]]]] = []
    for row in reader:
        line = reader.line_num
        if groups and groups[-1][1][0].get("number") == row.get("number"):
            groups[-1][1].append(row)
        else:
            groups.append((line, [row]))
    parsed: list[Parsed] = []
    for line, rows in groups:
        invoice: dict[str, Any] = {key: rows[0].get(key) for key in _INVOICE_COLUMNS}
        invoice["lines"] = [
            {key: value for key, value in row.items() if key not in _INVOICE_COLUMNS}
            for row in rows
        ]
        raw = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
        parsed.append(parse_invoice(invoice, raw, f"{name} line {line}"))
    return parsed


class TaxApi:
    kind = "tax"

    def __init__(self, name: str, source: PullSource) -> None:
        self.name = name
        self._puller = PagedPuller(
            source, lambda item, where: parse_invoice(item, item_payload(item), where)
        )

    async def fetch(self, state: JSONState) -> Batch[InvoiceRecord]:
        return await self._puller.fetch(state)

    async def store(
        self, connection: AsyncConnection, records: Sequence[InvoiceRecord]
    ) -> StoreOutcome:
        return await store_invoices(connection, records)

    async def aclose(self) -> None:
        await self._puller.aclose()
