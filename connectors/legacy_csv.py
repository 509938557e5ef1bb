"""Reading CSV exports by byte offset, so an import resumes mid-file after a restart.

Rows are read one physical line at a time (quoted fields may span lines); the offset
after each row is exact, so the checkpoint `offset` is a byte position to seek to."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


@dataclass
class CsvChunk:
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line number, values)
    bad_lines: list[tuple[int, bytes, str]] = field(default_factory=list)  # line, raw, why
    offset: int = 0  # bytes read up to the end of the last row taken
    line: int = 0  # physical lines read up to there
    at_end: bool = False


def read_chunk(
    path: Path, offset: int, line: int, limit: int, *, encoding: str, delimiter: str
) -> CsvChunk:
    """Up to `limit` rows after byte `offset` (0: just after the header)."""
    with path.open("rb") as file:
        header_raw = file.readline()
        header = next(csv.reader([header_raw.decode(encoding, "replace")], delimiter=delimiter), [])
        chunk = CsvChunk(header=[name.strip().lstrip("\ufeff") for name in header])
        start = max(offset, file.tell())
        chunk.line = line if offset >= file.tell() else 1
        file.seek(start)
        chunk.offset = start
        counter = _Counter(start, chunk.line)
        reader = csv.reader(_lines(file, encoding, counter, chunk), delimiter=delimiter)
        while len(chunk.rows) < limit:
            first_line = counter.line + 1
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                chunk.bad_lines.append((first_line, b"", f"unreadable CSV: {error}"))
                chunk.offset, chunk.line = counter.offset, counter.line
                break
            chunk.offset, chunk.line = counter.offset, counter.line
            if any(value.strip() for value in values):
                chunk.rows.append((first_line, values))
        chunk.at_end = chunk.offset >= path.stat().st_size
    return chunk


@dataclass
class _Counter:
    offset: int
    line: int


def _lines(file: BinaryIO, encoding: str, counter: _Counter, chunk: CsvChunk) -> Iterator[str]:
    while raw := file.readline():
        counter.offset += len(raw)
        counter.line += 1
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError as error:
            chunk.bad_lines.append((counter.line, raw, f"not {encoding}: {error.reason}"))
            yield "\n"  # an empty row, skipped
