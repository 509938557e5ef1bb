"""Police road checkpoints (卡口): plate captures pushed by cameras or pulled from an API.

Checkpoints come from the configuration with their location and whether they sit on the
city boundary (so coal entering and leaving the city can be counted); they are upserted
by code. A capture becomes a `CheckpointPass`, unique per checkpoint, plate and time, so
a camera's retry or a replayed page stores nothing. The plate links to its vehicle; a
plate new to the platform becomes an UNREGISTERED vehicle (when its colour is known).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from coalhub.identifiers import PlateColour
from coalhub.models import Checkpoint, CheckpointPass, District, PassDirection, Vehicle
from coalhub.models.base import utcnow
from connectors import fields
from connectors.base import Batch, JSONState, Reject, StoreOutcome
from connectors.http_pull import PagedPuller, PullSource, item_payload
from connectors.positions import VehicleResolver
from connectors.store import insert_ignore, table_of, upsert_changed

_checkpoint = table_of(Checkpoint)
_pass = table_of(CheckpointPass)
_vehicle = table_of(Vehicle)
_district = table_of(District)


@dataclass(frozen=True)
class CheckpointSite:
    code: str
    name: str
    latitude: float
    longitude: float
    on_city_boundary: bool = False
    district: str | None = None  # division code, e.g. 150302
    # camera direction words meaning "entering the city" / "leaving" (else UNKNOWN)
    inbound: frozenset[str] = frozenset()
    outbound: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Capture:
    checkpoint: str
    plate: str
    colour: PlateColour | None
    passed_at: datetime
    direction: str | None
    lane: int | None
    raw: bytes | str
    locator: str
    image_sha256: str | None = None


@dataclass
class CheckpointRegistry:
    sites: dict[str, CheckpointSite]
    _ids: dict[str, int] = field(default_factory=dict)

    async def ids(self, connection: AsyncConnection) -> dict[str, int]:
        """Upsert the configured checkpoints (idempotent) and return their ids by code."""
        if not self.sites:
            return {}
        result = await connection.execute(select(_district.c.code, _district.c.id))
        districts = dict(result.all())
        rows = [
            {
                "code": site.code,
                "name": site.name,
                "latitude": site.latitude,
                "longitude": site.longitude,
                "on_city_boundary": site.on_city_boundary,
                "district_id": districts.get(site.district) if site.district else None,
            }
            for site in self.sites.values()
        ]
        await upsert_changed(
            connection,
            _checkpoint,
            rows,
            ("code",),
            ("name", "latitude", "longitude", "on_city_boundary", "district_id"),
        )
        found = await connection.execute(
            select(_checkpoint.c.code, _checkpoint.c.id).where(_checkpoint.c.code.in_(self.sites))
        )
        return dict(found.all())

    def direction(self, code: str, word: str | None) -> PassDirection:
        site = self.sites.get(code)
        key = (word or "").strip().lower()
        if key in ("inbound", "in"):
            return PassDirection.INBOUND
        if key in ("outbound", "out"):
            return PassDirection.OUTBOUND
        if site is not None and key in site.inbound:
            return PassDirection.INBOUND
        if site is not None and key in site.outbound:
            return PassDirection.OUTBOUND
        return PassDirection.UNKNOWN


async def store_captures(
    connection: AsyncConnection, registry: CheckpointRegistry, captures: Sequence[Capture]
) -> StoreOutcome:
    outcome = StoreOutcome()
    checkpoint_ids = await registry.ids(connection)
    known: list[Capture] = []
    for capture in captures:
        if capture.checkpoint in checkpoint_ids:
            known.append(capture)
        else:
            detail = f"checkpoint {capture.checkpoint!r} is not configured"
            outcome.rejects.append(
                Reject("unknown_checkpoint", detail, capture.raw, capture.locator)
            )
    coloured = {(c.plate, c.colour) for c in known if c.colour is not None}
    vehicle_ids = await VehicleResolver().lookup(connection, coloured)
    by_plate = await _unique_plates(connection, {c.plate for c in known if c.colour is None})
    now = utcnow()
    rows: dict[tuple[int, str, datetime], dict[str, Any]] = {}
    for capture in known:
        checkpoint_id = checkpoint_ids[capture.checkpoint]
        vehicle_id = (
            by_plate.get(capture.plate)
            if capture.colour is None
            else vehicle_ids[(capture.plate, capture.colour)]
        )
        rows.setdefault(
            (checkpoint_id, capture.plate, capture.passed_at),
            {
                "checkpoint_id": checkpoint_id,
                "vehicle_id": vehicle_id,
                "plate": capture.plate,
                "plate_colour": capture.colour,
                "direction": registry.direction(capture.checkpoint, capture.direction),
                "lane": capture.lane
                if capture.lane is not None and 0 <= capture.lane < 100
                else None,
                "passed_at": capture.passed_at,
                "image_sha256": capture.image_sha256,
                "received_at": now,
            },
        )
    inserted = await insert_ignore(
        connection, _pass, list(rows.values()), ("checkpoint_id", "plate", "passed_at")
    )
    outcome.stored = len(inserted)
    outcome.duplicates = len(known) - len(inserted)
    return outcome


async def _unique_plates(connection: AsyncConnection, plates: set[str]) -> dict[str, int]:
    """A plate read without its colour links to a vehicle only if one vehicle has it."""
    if not plates:
        return {}
    rows = await connection.execute(
        select(_vehicle.c.plate, func.min(_vehicle.c.id))
        .where(_vehicle.c.plate.in_(plates))
        .group_by(_vehicle.c.plate)
        .having(func.count() == 1)
    )
    return dict(rows.all())


def parse_capture_item(item: dict[str, Any], locator: str) -> Capture | Reject:
    """A police API item: checkpoint, plate, plate_colour, direction, lane, time."""
    raw = item_payload(item)
    try:
        colour_value = item.get("plate_colour")
        return Capture(
            checkpoint=fields.text(item, "checkpoint", max_length=32),
            plate=fields.plate(fields.required(item, "plate")),
            colour=None if colour_value in (None, "") else fields.colour(colour_value),
            passed_at=fields.moment(fields.required(item, "time")),
            direction=fields.optional_text(item, "direction", max_length=32),
            lane=fields.optional_int(item, "lane"),
            raw=raw,
            locator=locator,
            image_sha256=fields.optional_text(item, "image_sha256", max_length=64),
        )
    except fields.FieldError as error:
        return Reject(error.reason, error.detail, raw, locator)


class PolicePull:
    """Captures pulled in batches from the police JSON API (connectors.http_pull paging)."""

    kind = "police"

    def __init__(self, name: str, source: PullSource, registry: CheckpointRegistry) -> None:
        self.name = name
        self.registry = registry
        self._puller = PagedPuller(source, parse_capture_item)

    async def fetch(self, state: JSONState) -> Batch[Capture]:
        return await self._puller.fetch(state)

    async def store(self, connection: AsyncConnection, records: Sequence[Capture]) -> StoreOutcome:
        return await store_captures(connection, self.registry, records)

    async def aclose(self) -> None:
        await self._puller.aclose()
