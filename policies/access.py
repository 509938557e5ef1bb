"""The per-request access decision: one plain data object, computed once per request.

Resolvers apply it today (row predicates become WHERE clauses, fields are nulled or masked);
the compiled read path turns the same data into SQL."""

from __future__ import annotations

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


@dataclass(frozen=True)
class AccessDecision:
    clearance: Secrecy
    readable_types: frozenset[str] | None  # None: every type
    scope: RowScope = RowScope()
    masked_fields: frozenset[tuple[str, str]] = frozenset()  # (type, attribute) shown masked
    max_page_size: int = 100
    may_write: frozenset[str] = field(default_factory=frozenset)

    def can_read_type(self, type_name: str) -> bool:
        return self.readable_types is None or type_name in self.readable_types

    def field_mask(self, type_name: str, attribute: str, mask: Mask | None) -> Mask | None:
        return mask if (type_name, attribute) in self.masked_fields else None


def unrestricted(max_page_size: int = 100) -> AccessDecision:
    return AccessDecision(
        clearance=Secrecy.SECRET,
        readable_types=None,
        max_page_size=max_page_size,
        may_write=frozenset({"*"}),
    )
