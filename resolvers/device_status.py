"""Heartbeats from the device bridges at enterprise sites: each device's status and last
state, and its site's last sign of life.

Every report is checked before anything is written, so a rejected report neither aborts
the request's transaction nor holds back the rest of its batch. A batch costs a fixed
number of statements whatever its size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, update

from coalhub import models as m
from coalhub.auth import Principal
from coalhub.models.base import utcnow
from resolvers.context import RequestContext
from resolvers.ingest_checks import (
    DEVICE_CODE,
    IngestOutcome,
    IngestStatus,
    Rejected,
    authorize,
    check_site,
    dialect_insert,
    json_object,
    optional_text,
    pairs,
    require,
    table_of,
    text,
    utc_time,
)

MAX_STATE_BYTES = 16 * 1024


@dataclass(frozen=True)
class DeviceStatusFields:
    site_id: int | None
    device_code: str
    status: m.DeviceStatus
    protocol: str
    kind: m.DeviceKind = m.DeviceKind.INDICATOR
    model: str | None = None
    reported_at: datetime | None = None  # the bridge's clock, kept with the state
    state: Any = None  # counters and last reading


@dataclass
class _Report:
    index: int
    values: dict[str, Any] = field(default_factory=dict)


async def report_device_status(
    ctx: RequestContext, reports: Sequence[DeviceStatusFields], *, now: datetime | None = None
) -> list[IngestOutcome]:
    """Keep each device's status, last state and last heartbeat, and its site's last
    sign of life, creating a device the hub has not seen before."""
    authorize(ctx, "Device", len(reports))
    now = now or utcnow()
    outcomes: dict[int, IngestOutcome] = {}
    checked: list[_Report] = []
    for index, report in enumerate(reports):
        try:
            checked.append(_Report(index, _check_report(ctx.caller, report, now)))
        except Rejected as rejected:
            outcomes[index] = rejected.outcome(index, report.device_code)
    sites = set(await pairs(ctx, m.Site.id, m.Site.id, {r.values["site_id"] for r in checked}))
    known = []
    for item in checked:
        if item.values["site_id"] in sites:
            known.append(item)
        else:
            outcomes[item.index] = Rejected("siteId", "unknown", "siteId: no such site").outcome(
                item.index, item.values["code"]
            )
    ids = await _upsert_devices(ctx, known)
    if known:
        touched = update(m.Site).where(m.Site.id.in_(sites)).values(last_seen_at=now)
        await ctx.execute(touched)
    for item in known:
        natural = (item.values["site_id"], item.values["code"])
        outcomes[item.index] = IngestOutcome(
            item.index, item.values["code"], IngestStatus.ACCEPTED, ids[natural]
        )
    return [outcomes[index] for index in range(len(reports))]


def _check_report(caller: Principal, report: DeviceStatusFields, now: datetime) -> dict[str, Any]:
    site_id = check_site(caller, report.site_id, "siteId")
    code = report.device_code
    require(
        "deviceCode", bool(DEVICE_CODE.fullmatch(code)), "bad_format", "1-32 of A-Z a-z 0-9 . _ -"
    )
    state = json_object("state", report.state, MAX_STATE_BYTES) or {}
    if report.reported_at is not None:
        state = state | {"reportedAt": utc_time("reportedAt", report.reported_at, now).isoformat()}
    return {
        "site_id": site_id,
        "code": code,
        "kind": report.kind,
        "protocol": text("protocol", report.protocol, 32),
        "model": optional_text("model", report.model, 64),
        "status": report.status,
        "last_heartbeat_at": now,
        "last_state": state,
        "updated_at": now,
    }


async def _upsert_devices(ctx: RequestContext, reports: Sequence[_Report]) -> dict[Any, int]:
    if not reports:
        return {}
    # one row per device: ON CONFLICT DO UPDATE may not touch a row twice in one statement
    latest = {(r.values["site_id"], r.values["code"]): r.values for r in reports}
    table = table_of(m.Device)
    insert = dialect_insert(ctx, table)
    excluded = insert.excluded
    statement = insert.on_conflict_do_update(
        index_elements=["site_id", "code"],
        set_={
            "kind": excluded.kind,
            "protocol": excluded.protocol,
            "model": func.coalesce(excluded.model, table.c.model),
            "status": excluded.status,
            "last_heartbeat_at": excluded.last_heartbeat_at,
            "last_state": excluded.last_state,
            "updated_at": excluded.updated_at,
        },
    ).returning(table.c.site_id, table.c.code, table.c.id)
    ctx.statements += 1
    result = await ctx.session.execute(statement, [latest[key] for key in sorted(latest)])
    return {(site, code): row_id for site, code, row_id in result}
