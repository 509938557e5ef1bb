"""The audit trail as auditors (all events) and every client (its own events) read it."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from schema.base import CatalogNode, Connection, Info, filter_values, root_connection


@strawberry.type(description="One request to the hub, as the hash-chained audit trail keeps it.")
class AuditEvent(CatalogNode):
    entity_name = "AuditEvent"
    id: relay.NodeID[int]
    seq: int = strawberry.field(description="Position in the hash chain")
    occurred_at: datetime
    client_id: str | None
    department: str | None
    user_id: str | None
    purpose: str | None
    operation_name: str | None
    document_sha256: str | None
    variables_sha256: str | None
    fields: JSON | None = strawberry.field(description="Root fields the request asked for")
    row_counts: JSON | None = strawberry.field(description="Rows returned per type")
    denials: JSON | None = strawberry.field(description="Types and fields refused")
    duration_ms: float
    result: str = strawberry.field(description="ok, partial, denied or error")
    prev_hash: str
    hash: str


@strawberry.input
class AuditEventFilter:
    client_id: str | None = None
    department: str | None = None
    result: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None


async def audit_events(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    filter: AuditEventFilter | None = None,
) -> Connection[AuditEvent] | None:
    filters = filter_values(filter)
    access = info.context.access
    if not access.can_read_type("AuditEvent"):
        # every client may account for its own requests, and only for those
        filters["client_id"] = info.context.caller.client_id
        return await root_connection(info, AuditEvent, filters, first, after, check=False)
    return await root_connection(info, AuditEvent, filters, first, after)
