"""Reading the access matrix, the default clearances and the secrecy table from
policies/README.md — the document officials read is the one the tests hold us to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from coalhub.secrecy import Mask, Secrecy

README = Path(__file__).resolve().parents[2] / "policies" / "README.md"


def _tables(text: str) -> list[list[list[str]]]:
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= {"-"} for cell in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


@dataclass(frozen=True)
class FieldRule:
    secrecy: Secrecy
    mask: Mask | None


@dataclass(frozen=True)
class Documented:
    grants: dict[tuple[str, str], str]  # (department, type) -> "R", "R·id" or "—"
    departments: list[str]
    types: list[str]
    clearance: dict[str, Secrecy]
    type_level: dict[str, Secrecy]
    fields: dict[tuple[str, str], FieldRule]  # (type, attribute) above the type's level

    def field_rule(self, type_name: str, attribute: str) -> FieldRule:
        default = FieldRule(self.type_level[type_name], None)
        return self.fields.get((type_name, attribute), default)


_FIELD = re.compile(r"`(\w+)` (\w+)(?: \(masked: (\w+)\))?")


def documented() -> Documented:
    matrix, clearances, secrecy = _tables(README.read_text(encoding="utf-8"))
    departments = matrix[0][1:]
    grants = {
        (department, row[0]): cell
        for row in matrix[1:]
        for department, cell in zip(departments, row[1:], strict=True)
    }
    fields = {}
    for type_name, _, listed in secrecy[1:]:
        for attribute, level, mask in _FIELD.findall(listed):
            fields[(type_name, attribute)] = FieldRule(Secrecy(level), Mask(mask) if mask else None)
    return Documented(
        grants=grants,
        departments=departments,
        types=[row[0] for row in matrix[1:]],
        clearance={row[0]: Secrecy(row[1]) for row in clearances[1:]},
        type_level={row[0]: Secrecy(row[1]) for row in secrecy[1:]},
        fields=fields,
    )
