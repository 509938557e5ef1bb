"""Vehicle positions from any transport feed, checked and stored as trajectory points.

Positions are stored raw (WGS-84/CGCS2000). One position per vehicle and instant: a
duplicate stores nothing, and arrival order does not matter. A plate the platform does
not know is recorded as an UNREGISTERED vehicle, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from coalhub.identifiers import PlateColour
from coalhub.models import LoadState, PositionSource, TrajectoryPoint, Vehicle, VehicleStatus
from coalhub.models.base import utcnow
from connectors import jt808
from connectors.base import Reject, StoreOutcome
from connectors.fields import plausible_plate
from connectors.store import insert_ignore, table_of

VehicleKey = tuple[str, PlateColour]
_trajectory = table_of(TrajectoryPoint)
_vehicle = table_of(Vehicle)


@dataclass(frozen=True, slots=True)
class Bounds:
    """Where a position can plausibly be; the default is mainland China's extent."""

    min_latitude: float = 3.8
    max_latitude: float = 53.6
    min_longitude: float = 73.4
    max_longitude: float = 135.1
    max_future: timedelta = timedelta(hours=1)  # terminal clocks drift, but not by days

    def contains(self, latitude: float, longitude: float) -> bool:
        return (
            self.min_latitude <= latitude <= self.max_latitude
            and self.min_longitude <= longitude <= self.max_longitude
        )


@dataclass(slots=True)  # not frozen: frozen dataclasses are slow to build, and this is hot
class PositionRecord:
    plate: str
    plate_colour: PlateColour
    recorded_at: datetime
    latitude: float
    longitude: float
    source: PositionSource
    raw: bytes | str  # the frame or item it came in, kept if it is rejected
    altitude_m: int | None = None
    speed_kmh: float | None = None
    heading: int | None = None
    load_state: LoadState | None = None
    locator: str | None = None


def check_position(
    record: PositionRecord, bounds: Bounds, latest: datetime
) -> tuple[str | None, Reject | None]:
    """The normalised plate, or why the position cannot be stored (`latest`: the latest
    plausible time, now plus the clock drift allowed)."""
    if not (
        bounds.min_latitude <= record.latitude <= bounds.max_latitude
        and bounds.min_longitude <= record.longitude <= bounds.max_longitude
    ):
        detail = f"({record.latitude}, {record.longitude}) is outside the plausible area"
        return None, Reject("impossible_coordinates", detail, record.raw, record.locator)
    if record.recorded_at > latest:
        detail = f"{record.recorded_at.isoformat()} is in the future"
        return None, Reject("bad_time", detail, record.raw, record.locator)
    plate = _plate(record.plate)
    if plate is None:
        return None, Reject("bad_plate", f"plate {record.plate!r}", record.raw, record.locator)
    return plate, None


@lru_cache(maxsize=65536)  # a few thousand trucks report again and again
def _plate(text: str) -> str | None:
    return plausible_plate(text)


class VehicleResolver:
    """Plate and colour to vehicle id, creating UNREGISTERED vehicles for unknown plates.

    Ids are remembered only after the transaction that found or created them commits
    (`learn`), so a rolled-back insert never leaves a dangling id in the cache."""

    def __init__(self) -> None:
        self._ids: dict[VehicleKey, int] = {}

    async def lookup(
        self, connection: AsyncConnection, keys: Iterable[VehicleKey]
    ) -> dict[VehicleKey, int]:
        wanted = set(keys)
        found = {key: self._ids[key] for key in wanted if key in self._ids}
        missing = wanted - found.keys()
        if missing:
            found |= await _select_vehicles(connection, missing)
            missing -= found.keys()
        if missing:
            now = utcnow()
            rows = [_unregistered(plate, colour, now) for plate, colour in sorted(missing)]
            await insert_ignore(connection, _vehicle, rows, ("plate", "plate_colour"))
            found |= await _select_vehicles(connection, missing)
        return found

    def learn(self, ids: dict[VehicleKey, int]) -> None:
        self._ids.update(ids)


async def _select_vehicles(
    connection: AsyncConnection, keys: set[VehicleKey]
) -> dict[VehicleKey, int]:
    found: dict[VehicleKey, int] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        part = ordered[start : start + 500]
        rows = await connection.execute(
            select(_vehicle.c.plate, _vehicle.c.plate_colour, _vehicle.c.id).where(
                tuple_(_vehicle.c.plate, _vehicle.c.plate_colour).in_(part)
            )
        )
        found.update({(plate, PlateColour(colour)): id_ for plate, colour, id_ in rows})
    return found


def _unregistered(plate: str, colour: PlateColour, now: datetime) -> dict[str, Any]:
    return {
        "plate": plate,
        "plate_colour": colour,
        "status": VehicleStatus.UNREGISTERED,
        "tractor_single_drive_axle": False,
        "is_combination": False,
        "created_at": now,
        "updated_at": now,
    }


async def store_positions(
    connection: AsyncConnection,
    records: Sequence[PositionRecord],
    resolver: VehicleResolver,
    bounds: Bounds,
) -> tuple[StoreOutcome, dict[VehicleKey, int]]:
    """Store positions in the caller's transaction; returns the outcome and the vehicle ids
    to `learn` once it commits. Dead letters are the caller's to write."""
    now = utcnow()
    latest = now + bounds.max_future
    outcome = StoreOutcome()
    good: list[tuple[VehicleKey, PositionRecord]] = []
    for record in records:
        plate, reject = check_position(record, bounds, latest)
        if plate is None:
            assert reject is not None
            outcome.rejects.append(reject)
        else:
            good.append(((plate, record.plate_colour), record))
    ids = await resolver.lookup(connection, {key for key, _ in good})
    rows: dict[tuple[int, datetime], Row] = {}
    for key, record in good:
        vehicle_id = ids[key]
        if (vehicle_id, record.recorded_at) not in rows:
            rows[(vehicle_id, record.recorded_at)] = _trajectory_row(vehicle_id, record, now)
    if connection.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        stored = await copy_positions(connection, list(rows.values()))
    else:
        named = [dict(zip(_COPY_COLUMNS, row, strict=True)) for row in rows.values()]
        conflict = ("vehicle_id", "recorded_at")
        stored = len(await insert_ignore(connection, _trajectory, named, conflict))
    outcome.stored = stored
    outcome.duplicates = len(good) - stored
    return outcome, ids


Row = tuple[Any, ...]  # in _COPY_COLUMNS order


def _trajectory_row(vehicle_id: int, record: PositionRecord, now: datetime) -> Row:
    altitude = record.altitude_m
    heading = record.heading
    return (
        vehicle_id,
        record.recorded_at,
        record.latitude,
        record.longitude,
        # out-of-range readings are noise, not a reason to lose the position
        altitude if altitude is not None and -500 <= altitude <= 9000 else None,
        record.speed_kmh,
        heading if heading is not None and 0 <= heading < 360 else None,
        None if record.load_state is None else record.load_state.value,
        record.source.value,
        now,
    )


# PostgreSQL: from this many rows on, COPY into a temporary table and INSERT … SELECT …
# ON CONFLICT DO NOTHING: several times faster than parameterised multi-row VALUES
COPY_FROM = 200
_COPY_COLUMNS = (
    "vehicle_id",
    "recorded_at",
    "latitude",
    "longitude",
    "altitude_m",
    "speed_kmh",
    "heading",
    "load_state",
    "source",
    "received_at",
)
_STAGE = "coalhub_incoming_position"
_CREATE_STAGE = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (
    vehicle_id bigint, recorded_at timestamptz, latitude double precision,
    longitude double precision, altitude_m smallint, speed_kmh double precision,
    heading smallint, load_state varchar(32), source varchar(32), received_at timestamptz
) ON COMMIT DELETE ROWS
"""
_MOVE_STAGE = """
INSERT INTO trajectory_point (vehicle_id, recorded_at, latitude, longitude, altitude_m,
    speed_kmh, heading, load_state, source, received_at)
SELECT vehicle_id, recorded_at, latitude, longitude, altitude_m,
    speed_kmh, heading, load_state, source, received_at
FROM coalhub_incoming_position
ON CONFLICT (vehicle_id, recorded_at) DO NOTHING
"""


async def copy_positions(connection: AsyncConnection, rows: list[Row]) -> int:
    """Insert trajectory rows through COPY (asyncpg), in the connection's transaction;
    returns how many were new."""
    # statements through SQLAlchemy first: they begin its transaction, which COPY then joins
    if await connection.scalar(text(f"SELECT to_regclass('pg_temp.{_STAGE}')")) is None:
        await connection.exec_driver_sql(_CREATE_STAGE)
    else:
        await connection.exec_driver_sql(f"TRUNCATE {_STAGE}")  # an earlier batch, same tx
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(_STAGE, records=rows, columns=_COPY_COLUMNS)
    result = await connection.exec_driver_sql(_MOVE_STAGE)
    return int(result.rowcount)


_LOAD_STATES = {
    jt808.LoadState.EMPTY: LoadState.EMPTY,
    jt808.LoadState.HALF: LoadState.HALF,
    jt808.LoadState.FULL: LoadState.FULL,
}


def from_jt808_location(
    location: jt808.Location,
    plate: str,
    colour: PlateColour,
    source: PositionSource,
    raw: bytes,
    locator: str | None,
) -> PositionRecord:
    """A decoded 0x0200 body (from a terminal, or embedded in a JT/T 809-2019 message)."""
    return PositionRecord(
        plate=plate,
        plate_colour=colour,
        recorded_at=location.time,
        latitude=location.latitude,
        longitude=location.longitude,
        source=source,
        raw=raw,
        altitude_m=location.altitude_m,
        speed_kmh=location.speed_kmh,
        heading=location.direction,
        load_state=_LOAD_STATES.get(location.load_state),
        locator=locator,
    )
