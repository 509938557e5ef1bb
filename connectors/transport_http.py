"""HTTP pull from a transport system that offers JSON instead of JT/T 809.

Two feeds, each a cursor-paged batch source (connectors.http_pull):

- vehicle registry: `{"plate", "plate_colour", "transport_certificate", "axles",
  "rated_payload_kg", "curb_weight_kg", "energy_type"}` → the vehicle's fields are
  upserted (a null keeps what the platform has; a plate new to the platform becomes an
  UNREGISTERED vehicle carrying those fields);
- positions: `{"plate", "plate_colour", "time", "latitude", "longitude", "speed_kmh",
  "heading", "altitude_m"}` → trajectory points (duplicates dropped, any order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from coalhub.identifiers import PlateColour
from coalhub.models import EnergyType, PositionSource, Vehicle, VehicleStatus
from connectors import fields
from connectors.base import Batch, JSONState, Reject, StoreOutcome
from connectors.http_pull import PagedPuller, PullSource, item_payload, records_of
from connectors.positions import Bounds, PositionRecord, VehicleResolver, store_positions
from connectors.store import table_of, upsert_changed

_vehicle = table_of(Vehicle)
_REGISTRY_FIELDS = (
    "transport_certificate",
    "axles",
    "rated_payload_kg",
    "curb_weight_kg",
    "energy_type",
)


@dataclass(frozen=True, slots=True)
class VehicleInfo:
    plate: str
    plate_colour: PlateColour
    values: dict[str, Any]
    raw: str
    locator: str


def parse_vehicle(
    item: dict[str, Any], locator: str, codes: fields.ColourCodes
) -> VehicleInfo | Reject:
    try:
        energy = fields.optional_text(item, "energy_type", max_length=16)
        values: dict[str, Any] = {
            "transport_certificate": fields.optional_text(
                item, "transport_certificate", max_length=32
            ),
            "axles": fields.optional_int(item, "axles"),
            "rated_payload_kg": fields.optional_int(item, "rated_payload_kg"),
            "curb_weight_kg": fields.optional_int(item, "curb_weight_kg"),
            "energy_type": None if energy is None else EnergyType(energy.lower()),
        }
        axles = values["axles"]
        if axles is not None and not 2 <= axles <= 12:
            raise fields.FieldError("bad_field", f"axles = {axles}")
        return VehicleInfo(
            fields.plate(fields.required(item, "plate")),
            fields.colour(fields.required(item, "plate_colour"), codes),
            values,
            item_payload(item),
            locator,
        )
    except fields.FieldError as error:
        return Reject(error.reason, error.detail, item_payload(item), locator)
    except ValueError as error:  # an energy type outside the enum
        return Reject("bad_field", str(error), item_payload(item), locator)


def parse_position(
    item: dict[str, Any], locator: str, codes: fields.ColourCodes
) -> PositionRecord | Reject:
    raw = item_payload(item)
    try:
        return PositionRecord(
            plate=fields.plate(fields.required(item, "plate")),
            plate_colour=fields.colour(fields.required(item, "plate_colour"), codes),
            recorded_at=fields.moment(fields.required(item, "time")),
            latitude=fields.number(fields.required(item, "latitude"), "latitude"),
            longitude=fields.number(fields.required(item, "longitude"), "longitude"),
            source=PositionSource.HTTP,
            raw=raw,
            altitude_m=fields.optional_int(item, "altitude_m"),
            speed_kmh=fields.optional_number(item, "speed_kmh"),
            heading=fields.optional_int(item, "heading"),
            locator=locator,
        )
    except fields.FieldError as error:
        return Reject(error.reason, error.detail, raw, locator)


class TransportVehiclesHttp:
    kind = "transport"

    def __init__(self, name: str, source: PullSource, codes: fields.ColourCodes = "jtt415") -> None:
        self.name = name
        self._puller = PagedPuller(source, lambda item, where: parse_vehicle(item, where, codes))

    async def fetch(self, state: JSONState) -> Batch[VehicleInfo]:
        return await self._puller.fetch(state)

    async def store(
        self, connection: AsyncConnection, records: Sequence[VehicleInfo]
    ) -> StoreOutcome:
        latest: dict[tuple[str, PlateColour], dict[str, Any]] = {}
        for info in records_of(records, VehicleInfo):
            row = {
                "plate": info.plate,
                "plate_colour": info.plate_colour,
                "status": VehicleStatus.UNREGISTERED,  # only for a plate new to the platform
                "tractor_single_drive_axle": False,
                "is_combination": False,
                **info.values,
            }
            latest[(info.plate, info.plate_colour)] = row  # the last word on a plate wins
        rows = list(latest.values())
        changed = await upsert_changed(
            connection, _vehicle, rows, ("plate", "plate_colour"), _REGISTRY_FIELDS
        )
        return StoreOutcome(stored=changed, duplicates=len(records) - changed)

    async def aclose(self) -> None:
        await self._puller.aclose()


class TransportPositionsHttp:
    kind = "transport"

    def __init__(
        self,
        name: str,
        source: PullSource,
        codes: fields.ColourCodes = "jtt415",
        bounds: Bounds | None = None,
    ) -> None:
        self.name = name
        self.bounds = bounds or Bounds()
        self._puller = PagedPuller(source, lambda item, where: parse_position(item, where, codes))

    async def fetch(self, state: JSONState) -> Batch[PositionRecord]:
        return await self._puller.fetch(state)

    async def store(
        self, connection: AsyncConnection, records: Sequence[PositionRecord]
    ) -> StoreOutcome:
        # a fresh resolver per batch: its ids are only sure once the runner commits
        outcome, _ = await store_positions(connection, records, VehicleResolver(), self.bounds)
        return outcome

    async def aclose(self) -> None:
        await self._puller.aclose()
