"""Reads and writes about weighing that are more than a catalog lookup."""

from __future__ import annotations

from datetime import datetime, timedelta

# a haul not matched at a destination is followed this long after leaving the origin
OPEN_TRIP_HORIZON = timedelta(hours=12)


def trip_window(departed_at: datetime, arrived_at: datetime | None) -> tuple[datetime, datetime]:
    """The time range whose positions belong to one haul (inclusive of both weighings)."""
    until = arrived_at if arrived_at is not None else departed_at + OPEN_TRIP_HORIZON
    return departed_at, until + timedelta(seconds=1)
