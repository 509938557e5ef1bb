"""Reading XLSX exports a chunk of rows at a time, so an import resumes mid-workbook.

The checkpoint `offset` of a workbook is the number of data rows already taken (the
header is row 1), so a restart continues at the next row. Cells are read as the
exporting system wrote them; dates and numbers become the text the CSV path would see."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from connectors.legacy_csv import CsvChunk


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_xlsx_chunk(path: Path, offset: int, limit: int) -> CsvChunk:
    """Up to `limit` data rows of the first sheet after the first `offset` data rows."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, ())
        chunk = CsvChunk(header=[_text(cell) for cell in header], offset=offset, line=offset + 1)
        for index, values in enumerate(rows):
            if index < offset:
                continue
            if len(chunk.rows) == limit:
                return chunk
            cells = [_text(cell) for cell in values]
            chunk.offset, chunk.line = index + 1, index + 2
            if any(cells):
                # trailing empty cells are formatting, not data
                chunk.rows.append((index + 2, cells[: len(chunk.header)]))
        chunk.at_end = True
        return chunk
    finally:
        workbook.close()


def data_rows(path: Path) -> int:
    workbook = load_workbook(path, read_only=True)
    try:
        return max((workbook.worksheets[0].max_row or 1) - 1, 0)
    finally:
        workbook.close()
