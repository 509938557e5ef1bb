"""A weighbridge deck as a pure state machine: readings and plates in, weighings out.

One vehicle is on the deck at a time. The deck is EMPTY below the rules' minimum weight;
a vehicle coming on makes it OCCUPIED and takes the plate read for it (the oldest recent
camera read, or the first read while it stands there); the first stable, valid reading
with a known plate is its weighing, and the deck stays WEIGHED until the vehicle leaves.
Stable means the indicator's stable flag on N readings in a row (within one division) where
the protocol has a flag, else N readings within one division over T seconds
(:mod:`device_bridge.stability`). Readings in motion, over
capacity, negative, out of range or of the wrong kind or unit are never recorded.

A plate's first weighing waits in :class:`OpenWeighings` (which the outbox persists);
its second completes a ticket with net = gross - tare, whichever came first. Two
weighings closer than the minimum net are a re-weighing: the newer replaces the first.
Nothing here does I/O: the caller persists each returned event before acting on it.
"""

import json
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from coalhub.anpr import PlateColour
from device_bridge.config import WeighingRules
from device_bridge.protocols.base import Reading, WeightKind
from device_bridge.stability import StabilityDetector, StepEvent

EVIDENCE_FRAMES = 20  # raw frames kept per weighing: the stable window's tail
_KG_PER_UNIT = {"kg": Decimal(1), "t": Decimal(1000), "g": Decimal("0.001")}


class DeckState(StrEnum):
    EMPTY = "empty"
    OCCUPIED = "occupied"  # a vehicle is on the deck and not yet weighed
    WEIGHED = "weighed"  # weighed; waiting for it to leave


@dataclass(frozen=True)
class PlateEvent:
    """A vehicle identified for a deck: by its gate camera, or by a booking."""

    plate: str
    colour: PlateColour
    received_at: float  # bridge monotonic clock
    captured_at: datetime
    source: str = "camera"
    camera_id: str | None = None
    booking_id: str | None = None  # the hub's global id of the booking
    pictures: tuple[str, ...] = ()  # SHA-256 of the snapshots


@dataclass(frozen=True)
class Weighing:
    """One stable weight of one identified vehicle (JSON-ready, for the outbox)."""

    id: str
    device: str
    plate: str
    colour: PlateColour
    weight_kg: int
    at: datetime
    booking_id: str | None
    evidence: Mapping[str, Any]

    def to_json(self) -> str:
        data = {
            "id": self.id,
            "device": self.device,
            "plate": self.plate,
            "colour": self.colour.value,
            "weight_kg": self.weight_kg,
            "at": self.at.isoformat(),
            "booking_id": self.booking_id,
            "evidence": self.evidence,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Weighing":
        data = json.loads(text)
        return cls(
            id=data["id"],
            device=data["device"],
            plate=data["plate"],
            colour=PlateColour(data["colour"]),
            weight_kg=data["weight_kg"],
            at=datetime.fromisoformat(data["at"]),
            booking_id=data["booking_id"],
            evidence=data["evidence"],
        )


@dataclass(frozen=True)
class FirstWeighing:
    """Persist ``weighing`` as its plate's open weighing, dropping ``replaces``."""

    weighing: Weighing
    replaces: str | None = None


@dataclass(frozen=True)
class CompletedWeighing:
    """A ticket: persist it (and drop ``first`` from the open weighings) in one commit."""

    key: str  # the idempotency key the hub stores it under
    first: Weighing
    second: Weighing
    rules: WeighingRules

    @property
    def gross(self) -> Weighing:
        return max(self.first, self.second, key=lambda w: w.weight_kg)

    @property
    def tare(self) -> Weighing:
        return self.first if self.gross is self.second else self.second

    def record_input(self, site_id: str, ticket_no: str) -> dict[str, Any]:
        """The hub's ``WeighRecordInput`` for this ticket."""
        rules, gross, tare = self.rules, self.gross, self.tare
        record: dict[str, Any] = {
            "idempotencyKey": self.key,
            "ticketNo": ticket_no,
            "siteId": site_id,
            "deviceCode": self.second.device,
            "direction": rules.direction.name,
            "plate": self.second.plate,
            "plateColour": self.second.colour.name,
            "productCode": rules.product_code,
            "grossKg": gross.weight_kg,
            "grossAt": gross.at.isoformat(),
            "tareKg": tare.weight_kg,
            "tareAt": tare.at.isoformat(),
            "shipperUscc": rules.shipper_uscc,
            "consigneeUscc": rules.consignee_uscc,
            "evidence": {"first": self.first.evidence, "second": self.second.evidence},
        }
        if rules.contract_number:
            record["contractNumber"] = rules.contract_number
        if booking := self.second.booking_id or self.first.booking_id:
            record["bookingId"] = booking
        if rules.unit_price is not None:
            record["unitPrice"] = str(rules.unit_price.quantize(Decimal("0.01")))
        return record


@dataclass(frozen=True)
class Notice:
    """Something worth a counter and a log line, e.g. a vehicle that left unweighed."""

    kind: str
    detail: str


SessionEvent = FirstWeighing | CompletedWeighing | Notice


class OpenWeighings:
    """First weighings waiting for their second, by plate; shared by a site's decks."""

    def __init__(self, weighings: Iterable[Weighing] = ()) -> None:
        self._by_plate = {(w.plate, w.colour): w for w in weighings}

    def take(self, plate: str, colour: PlateColour) -> Weighing | None:
        return self._by_plate.pop((plate, colour), None)

    def put(self, weighing: Weighing) -> None:
        self._by_plate[(weighing.plate, weighing.colour)] = weighing

    def __len__(self) -> int:
        return len(self._by_plate)


@dataclass
class SessionCounters:
    readings: int = 0
    unusable_readings: int = 0  # wrong unit or kind, or no weight
    over_capacity_readings: int = 0
    weighings: int = 0
    tickets: int = 0
    reweighings: int = 0
    expired_first_weighings: int = 0
    left_unweighed: int = 0
    unidentified_vehicles: int = 0
    steps: int = 0  # the tamper signature: a clean jump between plateaus


@dataclass(frozen=True)
class _Sample:
    at: float
    weight_kg: Decimal
    raw: bytes
    flag: bool | None  # the indicator's stable flag; None where the protocol has none


@dataclass
class _Occupancy:
    since: float
    vehicle: PlateEvent | None = None
    stable_seen: bool = False
    steps: list[StepEvent] = field(default_factory=list)


class DeckSession:
    """The weighing logic of one deck (one indicator)."""

    def __init__(
        self,
        device: str,
        protocol: str,
        rules: WeighingRules,
        open_weighings: OpenWeighings,
        *,
        wall_clock: Callable[[], datetime],
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.device = device
        self.protocol = protocol
        self.rules = rules
        self.counters = SessionCounters()
        self.state = DeckState.EMPTY
        self.last_weight_kg: Decimal | None = None
        self.last_stable = False
        self._open = open_weighings
        self._wall_clock = wall_clock
        self._new_id = new_id
        self._detector = StabilityDetector(rules.stability)
        self._recent: deque[_Sample] = deque(maxlen=EVIDENCE_FRAMES)
        self._plates: deque[PlateEvent] = deque(maxlen=16)
        self._occupancy: _Occupancy | None = None

    def plate(self, event: PlateEvent) -> None:
        occupancy = self._occupancy
        if occupancy is not None and occupancy.vehicle is None:
            occupancy.vehicle = event  # read while the vehicle stands on the deck
        elif occupancy is not None and _same_vehicle(occupancy.vehicle, event):
            pass  # the camera saw the vehicle on the deck again
        elif not any(_same_vehicle(queued, event) for queued in self._plates):
            self._plates.append(event)

    def reading(self, reading: Reading, at: float) -> list[SessionEvent]:
        """Add one reading with its monotonic receive time; return what to persist."""
        self.counters.readings += 1
        weight = self._kilograms(reading)
        if weight is None:
            self._detector.update(None, at)  # no value: stability starts again
            self.last_stable = False
            return []
        over_capacity = reading.overload or weight > self.rules.capacity_kg
        self.counters.over_capacity_readings += over_capacity
        update = self._detector.update(None if over_capacity else weight, at)
        self._recent.append(_Sample(at, weight, reading.raw, reading.stable))
        if reading.stable is None:
            stable = update.stable
        else:  # the flag, held over N readings (a window of frames to keep as evidence)
            needed = min(self.rules.stable_readings, EVIDENCE_FRAMES)
            stable = reading.stable and len(self._stable_window(weight)) >= needed
        stable = stable and not over_capacity
        self.last_weight_kg, self.last_stable = weight, stable
        if update.step is not None and self._occupancy is not None:
            self.counters.steps += 1
            self._occupancy.steps.append(update.step)
        return self._advance(weight, stable and weight >= 0, at)

    def _kilograms(self, reading: Reading) -> Decimal | None:
        factor = _KG_PER_UNIT.get(reading.unit.strip().lower())
        usable_kind = reading.kind in (None, WeightKind.GROSS)
        if reading.weight is None or factor is None or not usable_kind:
            self.counters.unusable_readings += 1
            return None
        return reading.weight * factor

    def _advance(self, weight: Decimal, recordable: bool, at: float) -> list[SessionEvent]:
        on_deck = weight >= self.rules.min_weight_kg
        if self.state is DeckState.EMPTY:
            if on_deck:
                self.state = DeckState.OCCUPIED
                self._occupancy = _Occupancy(since=at, vehicle=self._next_plate(at))
            return []
        if not on_deck:
            return self._vehicle_left()
        occupancy = self._occupancy
        assert occupancy is not None
        if self.state is DeckState.WEIGHED or not recordable:
            return []
        occupancy.stable_seen = True
        if occupancy.vehicle is None:
            return []  # stable, but whose weight is it? wait for the plate
        self.state = DeckState.WEIGHED
        return self._weighed(occupancy, occupancy.vehicle, weight, at)

    def _vehicle_left(self) -> list[SessionEvent]:
        occupancy, state = self._occupancy, self.state
        self.state, self._occupancy = DeckState.EMPTY, None
        if state is DeckState.WEIGHED or occupancy is None:
            return []
        if occupancy.vehicle is None and occupancy.stable_seen:
            self.counters.unidentified_vehicles += 1
            return [Notice("unidentified_vehicle", f"{self.device}: weighed but no plate read")]
        self.counters.left_unweighed += 1
        plate = occupancy.vehicle.plate if occupancy.vehicle else "no plate"
        return [Notice("left_unweighed", f"{self.device}: {plate} left before a stable weight")]

    def _next_plate(self, at: float) -> PlateEvent | None:
        while self._plates:
            event = self._plates.popleft()
            if at - event.received_at <= self.rules.plate_max_age_seconds:
                return event
        return None

    def _weighed(
        self, occupancy: _Occupancy, vehicle: PlateEvent, weight: Decimal, at: float
    ) -> list[SessionEvent]:
        self.counters.weighings += 1
        now = self._wall_clock()
        weighing = Weighing(
            id=self._new_id(),
            device=self.device,
            plate=vehicle.plate,
            colour=vehicle.colour,
            weight_kg=int(weight.quantize(Decimal(1), ROUND_HALF_EVEN)),
            at=now,
            booking_id=vehicle.booking_id,
            evidence=self._evidence(occupancy, vehicle, weight, at, now),
        )
        events: list[SessionEvent] = []
        first = self._open.take(vehicle.plate, vehicle.colour)
        if first is not None and now - first.at > timedelta(hours=self.rules.open_weighing_hours):
            self.counters.expired_first_weighings += 1
            events.append(Notice("expired_first_weighing", f"{first.plate}: {first.at} dropped"))
            return [*events, self._open_first(weighing, replaces=first.id)]
        if first is None:
            return [self._open_first(weighing, replaces=None)]
        if abs(weighing.weight_kg - first.weight_kg) < self.rules.min_net_kg:
            self.counters.reweighings += 1
            events.append(Notice("reweighed", f"{first.plate}: weighed again at the same weight"))
            return [*events, self._open_first(weighing, replaces=first.id)]
        self.counters.tickets += 1
        return [CompletedWeighing(self._new_id(), first, weighing, self.rules)]

    def _open_first(self, weighing: Weighing, replaces: str | None) -> FirstWeighing:
        self._open.put(weighing)
        return FirstWeighing(weighing, replaces)

    def _evidence(
        self, occupancy: _Occupancy, vehicle: PlateEvent, weight: Decimal, at: float, now: datetime
    ) -> dict[str, Any]:
        window = self._stable_window(weight)
        flagged = bool(window) and window[-1].flag is not None
        return {
            "device": self.device,
            "protocol": self.protocol,
            "weightKg": str(weight),
            "at": now.isoformat(),
            "stability": "indicator" if flagged else "inferred",
            "frames": [sample.raw.hex() for sample in window],
            "windowSeconds": round(at - window[0].at, 3) if window else 0.0,
            "onDeckSeconds": round(at - occupancy.since, 3),
            "steps": [_step(step, occupancy.since) for step in occupancy.steps],
            "plate": {
                "source": vehicle.source,
                "camera": vehicle.camera_id,
                "capturedAt": vehicle.captured_at.isoformat(),
                "readSecondsBefore": round(at - vehicle.received_at, 3),
                "pictures": list(vehicle.pictures),
            },
        }

    def _stable_window(self, weight: Decimal) -> list[_Sample]:
        """The trailing readings within one division of the recorded weight (and, where
        the indicator has a stable flag, flagged stable): what stability was judged on."""
        window: list[_Sample] = []
        for sample in reversed(self._recent):
            unsteady = sample.flag is False
            if unsteady or abs(sample.weight_kg - weight) > self.rules.division_kg:
                break
            window.append(sample)
        return window[::-1]


def _step(step: StepEvent, since: float) -> dict[str, Any]:
    return {
        "afterSeconds": round(step.at - since, 3),
        "from": str(step.before),
        "to": str(step.after),
    }


def _same_vehicle(a: PlateEvent | None, b: PlateEvent) -> bool:
    return a is not None and (a.plate, a.colour) == (b.plate, b.colour)
