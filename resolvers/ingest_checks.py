"""What every ingestion from the device bridges shares: who may ingest, the per-item
outcome, the rejection of one item, and the field checks that need no database."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite

from coalhub import models as m
from coalhub.auth import Principal
from coalhub.errors import BadRequestError, ForbiddenError
from resolvers.context import RequestContext

# "developer" is the local tools' principal; every real bridge is a "device" client
INGEST_DEPARTMENTS = frozenset({"device", "developer"})
MAX_BATCH = 500
CLOCK_SKEW = timedelta(minutes=5)  # how far ahead of the hub a bridge's clock may run
# an industrial PC whose clock battery died boots in 2000: such times are refused, not stored
MAX_AGE = timedelta(days=366)
DEVICE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class IngestStatus(enum.StrEnum):
    ACCEPTED = "accepted"  # stored now
    DUPLICATE = "duplicate"  # stored before under the same key: a harmless redelivery
    REJECTED = "rejected"  # not stored; `reason` and `field` say why


@dataclass(frozen=True)
class IngestOutcome:
    index: int  # position in the batch
    key: str  # the idempotency key (weigh records) or the device code (heartbeats)
    status: IngestStatus
    row_id: int | None = None
    field: str | None = None
    reason: str | None = None
    message: str | None = None


class Rejected(Exception):  # noqa: N818 - an answer, not a fault
    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.field, self.reason, self.message = field, reason, message

    def outcome(self, index: int, key: str) -> IngestOutcome:
        return IngestOutcome(
            index, key, IngestStatus.REJECTED, None, self.field, self.reason, self.message
        )


def authorize(ctx: RequestContext, type_name: str, count: int) -> None:
    """Device clients (and developers' local tools) whose policy lets them ingest."""
    caller = ctx.caller
    if caller.department not in INGEST_DEPARTMENTS or not ctx.access.may("ingest", type_name):
        raise ForbiddenError("只有设备客户端可以上报数据 / only device clients may ingest")
    if count > MAX_BATCH:
        raise BadRequestError("BATCH_TOO_LARGE", f"at most {MAX_BATCH} items per call")


def check_site(caller: Principal, site_id: int | None, field: str) -> int:
    """A bridge writes for its own site only (developers' tools for any); a foreign site
    is refused the same way whether or not it exists."""
    if site_id is None:
        raise Rejected(field, "wrong_type", f"{field} must be a Site id")
    if caller.department != "developer" and caller.site_id != site_id:
        raise Rejected(field, "forbidden_site", "a device client reports only for its own site")
    return site_id


def require(field: str, condition: bool, reason: str, message: str) -> None:
    if not condition:
        raise Rejected(field, reason, f"{field}: {message}")


def text(field: str, value: str, max_length: int) -> str:
    value = value.strip()
    require(field, bool(value), "empty", "must not be empty")
    require(field, len(value) <= max_length, "too_long", f"over {max_length} characters")
    require(field, not _CONTROL.search(value), "bad_format", "control characters")
    return value


def optional_text(field: str, value: str | None, max_length: int) -> str | None:
    return None if value is None or not value.strip() else text(field, value, max_length)


def utc_time(field: str, value: datetime, now: datetime) -> datetime:
    require(field, value.tzinfo is not None, "no_timezone", "give the UTC offset")
    require(field, value <= now + CLOCK_SKEW, "in_future", "later than the hub's clock")
    require(field, value >= now - MAX_AGE, "too_old", "more than a year ago: check the clock")
    return value.astimezone(UTC)


def json_object(field: str, value: Any, max_bytes: int) -> dict[str, Any] | None:
    if value is None:
        return None
    require(field, isinstance(value, dict), "bad_format", "must be a JSON object")
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    require(field, size <= max_bytes, "too_large", f"over {max_bytes} bytes")
    result: dict[str, Any] = value
    return result


async def pairs(ctx: RequestContext, key: Any, value: Any, wanted: Iterable[Any]) -> dict[Any, Any]:
    wanted = list(wanted)
    if not wanted:
        return {}
    rows = await ctx.execute(select(key, value).where(key.in_(wanted)))
    return {pair[0]: pair[1] for pair in map(tuple, rows)}


def table_of(model: type[m.Base]) -> Table:
    table: Table = model.__table__  # type: ignore[assignment]  # declared, so a Table
    return table


def dialect_insert(ctx: RequestContext, table: Table) -> postgresql.Insert | sqlite.Insert:
    if ctx.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
