"""The per-request access decision: one plain data object, computed once per request.

Resolvers apply it today (row scopes become WHERE clauses, fields are nulled or masked);
the compiled read path turns the same data into SQL."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from coalhub.secrecy import Mask, Secrecy


@dataclass(frozen=True)
class RowScope:
    """Rows a caller may see, by policy domain; None means the whole city."""

    district_codes: frozenset[str] | None = None
    enterprise_ids: frozenset[int] | None = None

    @property
    def unrestricted(self) -> bool:
        return self.district_codes is None and self.enterprise_ids is None


class FieldAccess(enum.Enum):
    ALLOW = "allow"
    MASK = "mask"
    DENY = "deny"


@dataclass(frozen=True)
class AccessDecision:
    clearance: Secrecy
    readable_types: frozenset[str] | None  # None: every type
    scope: RowScope = RowScope()
    # (type, attribute) -> how a field above the caller's clearance is shown
    restricted_fields: Mapping[tuple[str, str], Mask | None] = field(default_factory=dict)
    max_page_size: int = 100
    actions: frozenset[tuple[str, str]] = frozenset()  # (type or "*", action) beyond reading

    def can_read_type(self, type_name: str) -> bool:
        return self.readable_types is None or type_name in self.readable_types

    def may(self, action: str, type_name: str) -> bool:
        return (type_name, action) in self.actions or ("*", action) in self.actions

    def field_access(self, type_name: str, attribute: str) -> tuple[FieldAccess, Mask | None]:
        key = (type_name, attribute)
        if key not in self.restricted_fields:
            return FieldAccess.ALLOW, None
        mask = self.restricted_fields[key]
        return (FieldAccess.DENY, None) if mask is None else (FieldAccess.MASK, mask)


def unrestricted(max_page_size: int = 100) -> AccessDecision:
    return AccessDecision(
        clearance=Secrecy.SECRET,
        readable_types=None,
        max_page_size=max_page_size,
        actions=frozenset({("*", "ingest"), ("*", "identify")}),
    )
