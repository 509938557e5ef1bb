"""Time in the generator: Unix seconds inside, datetimes and Beijing dates in the rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
DAY_S = 86_400


def to_datetime(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def local_date(ts: int) -> date:
    return datetime.fromtimestamp(ts, BEIJING).date()
