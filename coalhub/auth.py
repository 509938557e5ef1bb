"""Who is calling: the principal every request is answered for."""

from __future__ import annotations

from dataclasses import dataclass, field

from coalhub.secrecy import Secrecy


@dataclass(frozen=True)
class Principal:
    client_id: str
    department: str  # department code, e.g. "tax", "transport", "district", "enterprise"
    clearance: Secrecy
    district_code: str | None = None  # set for district governments and their enterprises
    enterprise_id: int | None = None  # set for enterprise and device clients
    site_id: int | None = None  # set for device clients
    scopes: frozenset[str] = field(default_factory=frozenset)
    user_id: str | None = None  # the end user, from X-User-Id
    purpose: str | None = None  # the purpose of the query, from X-Purpose


# GET /graphql (the GraphiQL page) is served without a token; it can execute nothing
ANONYMOUS = Principal(client_id="anonymous", department="anonymous", clearance=Secrecy.PUBLIC)
