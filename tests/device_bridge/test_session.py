"""The deck's state machine on scripted readings: what becomes a weighing and what never does."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from coalhub.anpr import PlateColour
from device_bridge.config import Direction, WeighingRules
from device_bridge.protocols.base import Reading, WeightKind
from device_bridge.session import (
    CompletedWeighing,
    DeckSession,
    DeckState,
    FirstWeighing,
    Notice,
    OpenWeighings,
    PlateEvent,
    SessionEvent,
    Weighing,
)

RULES = WeighingRules(
    product_code="JM-XJ",
    shipper_uscc="91150304MA0000012J",
    consignee_uscc="91150303MA00009995",
    unit_price=Decimal("1650"),
    division_kg=Decimal(20),
    stable_readings=5,
    stable_seconds=0.2,
)
FRAME = 0.05  # 20 readings a second
START = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


class Deck:
    """A session with a scripted clock: every reading advances time by one frame."""

    def __init__(
        self, rules: WeighingRules = RULES, shared: OpenWeighings | None = None, code: str = "WB1"
    ) -> None:
        self.at = 100.0
        ids = count(1)
        self.session = DeckSession(
            code,
            "yaohua_a9",
            rules,
            shared if shared is not None else OpenWeighings(),
            wall_clock=lambda: START + timedelta(seconds=self.at),
            new_id=lambda: f"id-{next(ids)}",
        )
        self.events: list[SessionEvent] = []

    def plate(self, plate: str = "蒙C10000", colour: PlateColour = PlateColour.YELLOW) -> None:
        event = PlateEvent(
            plate=plate,
            colour=colour,
            received_at=self.at,
            captured_at=START + timedelta(seconds=self.at),
            camera_id="gate-in",
            pictures=("ab" * 32,),
        )
        self.session.plate(event)

    def read(self, weight: int | None, stable: bool | None = None, **fields: Any) -> None:
        self.at += FRAME
        self.events += self.session.reading(reading(weight, stable, **fields), self.at)

    def hold(self, weight: int, frames: int = 10, stable: bool | None = None) -> None:
        for _ in range(frames):
            self.read(weight, stable)

    def drive(self, start: int, end: int, frames: int = 6) -> None:
        for step in range(1, frames + 1):
            self.read(start + (end - start) * step // frames)

    def wait(self, seconds: float) -> None:
        self.at += seconds

    def weigh(self, weight: int, plate: str = "蒙C10000") -> None:
        self.plate(plate)
        self.drive(0, weight)
        self.hold(weight)
        self.drive(weight, 0)
        self.hold(0, 3)

    def of_kind(self, kind: type) -> list:  # type: ignore[type-arg]
        return [event for event in self.events if isinstance(event, kind)]


def reading(
    weight: int | None,
    stable: bool | None = None,
    *,
    unit: str = "kg",
    kind: WeightKind | None = None,
    overload: bool = False,
) -> Reading:
    raw = b"\x02%+07d0\x03" % (weight or 0)
    value = None if weight is None else Decimal(weight)
    return Reading(value, unit, kind, stable, overload or value is None, raw)


def test_a_sale_tare_then_gross_makes_one_ticket() -> None:
    deck = Deck()
    deck.weigh(17020)
    [first] = deck.of_kind(FirstWeighing)
    assert (first.weighing.plate, first.weighing.weight_kg) == ("蒙C10000", 17020)
    assert first.replaces is None
    deck.wait(1200)
    deck.weigh(49160)
    [ticket] = deck.of_kind(CompletedWeighing)
    assert (ticket.tare.weight_kg, ticket.gross.weight_kg) == (17020, 49160)
    assert ticket.first is first.weighing
    record = ticket.record_input("U2l0ZToxMg==", "S12-20261126-0001-000001")
    assert record["idempotencyKey"] == ticket.key
    assert record["tareKg"] == 17020
    assert record["grossKg"] == 49160
    assert record["tareAt"] < record["grossAt"]
    assert record["direction"] == "SALE"
    assert record["plateColour"] == "YELLOW"
    assert record["unitPrice"] == "1650.00"
    assert record["shipperUscc"] == RULES.shipper_uscc
    evidence = record["evidence"]["second"]
    assert evidence["stability"] == "inferred"  # A9 frames carry no stable flag
    assert len(evidence["frames"]) >= RULES.stable_readings
    assert {bytes.fromhex(frame) for frame in evidence["frames"]} == {reading(49160).raw}
    assert evidence["windowSeconds"] >= RULES.stable_seconds
    assert evidence["plate"]["camera"] == "gate-in"
    assert evidence["plate"]["pictures"] == ["ab" * 32]
    assert deck.session.counters.tickets == 1
    assert len(deck.session._open) == 0


def test_a_purchase_weighs_gross_first() -> None:
    deck = Deck(replace(RULES, direction=Direction.PURCHASE))
    deck.weigh(48000)
    deck.wait(600)
    deck.weigh(16500)
    [ticket] = deck.of_kind(CompletedWeighing)
    assert (ticket.gross.weight_kg, ticket.tare.weight_kg) == (48000, 16500)
    record = ticket.record_input("U2l0ZToxMg==", "T1")
    assert record["grossAt"] < record["tareAt"]
    assert record["direction"] == "PURCHASE"


def test_motion_is_never_recorded_and_the_indicator_flag_decides() -> None:
    deck = Deck()
    deck.plate()
    deck.drive(0, 30000)
    deck.hold(32600, frames=40, stable=False)  # the indicator says: in motion
    assert deck.events == []
    assert deck.session.state is DeckState.OCCUPIED
    deck.hold(32600, frames=RULES.stable_readings - 1, stable=True)
    deck.read(32600, stable=False)  # a flag that does not hold is not enough
    deck.hold(32600, frames=RULES.stable_readings - 1, stable=True)
    assert deck.events == []
    deck.read(32600, stable=True)  # N flagged readings in a row
    [first] = deck.of_kind(FirstWeighing)
    assert first.weighing.weight_kg == 32600
    evidence = first.weighing.evidence
    assert evidence["stability"] == "indicator"
    assert len(evidence["frames"]) == RULES.stable_readings


@pytest.mark.parametrize(
    ("weight", "fields"),
    [
        (160_000, {}),  # over the deck's capacity
        (32600, {"overload": True}),  # the indicator says out of range
        (32600, {"unit": "lb"}),  # a unit that is not mass in kg
        (32600, {"kind": WeightKind.NET}),  # the display shows net, not the deck
        (None, {}),  # out of range without a value
    ],
)
def test_unrecordable_readings_never_become_weighings(weight: int | None, fields: dict) -> None:  # type: ignore[type-arg]
    deck = Deck()
    deck.plate()
    deck.drive(0, 20000)
    for _ in range(30):
        deck.read(weight, stable=True, **fields)
    assert deck.of_kind(FirstWeighing) == []


def test_a_negative_weight_is_never_recorded() -> None:
    deck = Deck(replace(RULES, min_weight_kg=1))
    deck.plate()
    deck.hold(-400, frames=30)
    assert deck.events == []
    assert deck.session.state is DeckState.EMPTY


def test_a_unit_in_tonnes_is_converted() -> None:
    deck = Deck()
    deck.plate()
    for _ in range(10):
        deck.events += deck.session.reading(
            Reading(Decimal("32.62"), "t", WeightKind.GROSS, None, False, b"WG032.62t"), deck.at
        )
        deck.at += FRAME
    [first] = deck.of_kind(FirstWeighing)
    assert first.weighing.weight_kg == 32620


def test_a_vehicle_waits_on_the_deck_for_its_plate() -> None:
    deck = Deck()
    deck.drive(0, 17000)
    deck.hold(17000, frames=20)
    assert deck.events == []
    assert deck.session.state is DeckState.OCCUPIED
    deck.plate("蒙C20000")  # read late, while it stands there
    deck.hold(17000, frames=2)
    [first] = deck.of_kind(FirstWeighing)
    assert first.weighing.plate == "蒙C20000"


def test_an_unidentified_vehicle_is_reported_not_recorded() -> None:
    deck = Deck()
    deck.drive(0, 17000)
    deck.hold(17000, frames=20)
    deck.drive(17000, 0)
    [notice] = deck.of_kind(Notice)
    assert notice.kind == "unidentified_vehicle"
    assert deck.session.counters.unidentified_vehicles == 1
    assert deck.of_kind(FirstWeighing) == []


def test_a_vehicle_leaving_in_motion_is_reported() -> None:
    deck = Deck()
    deck.plate()
    deck.drive(0, 17000)
    deck.drive(17000, 0)
    assert [n.kind for n in deck.of_kind(Notice)] == ["left_unweighed"]


def test_an_old_plate_read_is_not_given_to_the_next_vehicle() -> None:
    deck = Deck()
    deck.plate("蒙C20000")
    deck.wait(RULES.plate_max_age_seconds + 1)
    deck.drive(0, 17000)
    deck.hold(17000, frames=20)
    assert deck.of_kind(FirstWeighing) == []


def test_one_vehicle_at_a_time_and_repeated_reads_are_not_queued() -> None:
    deck = Deck()
    deck.plate("蒙C10000")
    deck.drive(0, 17000)
    deck.hold(17000)
    deck.plate("蒙C10000")  # the camera sees it again on the deck
    deck.plate("蒙C20000")  # the next truck waits at the gate
    deck.plate("蒙C20000")
    deck.drive(17000, 35000)  # and drives on before the first has left
    deck.hold(35000)
    assert [e.weighing.plate for e in deck.of_kind(FirstWeighing)] == ["蒙C10000"]
    deck.drive(35000, 0)
    deck.drive(0, 16000)
    deck.hold(16000)
    deck.drive(16000, 0)
    deck.drive(0, 16000)  # a third vehicle: no plate is left for it
    deck.hold(16000)
    assert [e.weighing.plate for e in deck.of_kind(FirstWeighing)] == ["蒙C10000", "蒙C20000"]


def test_the_same_weight_twice_is_a_reweighing_not_a_ticket() -> None:
    deck = Deck()
    deck.weigh(17020)
    deck.wait(60)
    deck.weigh(17060)  # under min_net_kg apart
    firsts = deck.of_kind(FirstWeighing)
    assert [f.weighing.weight_kg for f in firsts] == [17020, 17060]
    assert firsts[1].replaces == firsts[0].weighing.id
    assert deck.of_kind(CompletedWeighing) == []
    assert deck.session.counters.reweighings == 1


def test_a_first_weighing_expires() -> None:
    deck = Deck()
    deck.weigh(17020)
    deck.wait(RULES.open_weighing_hours * 3600 + 1)
    deck.weigh(49000)
    assert deck.of_kind(CompletedWeighing) == []
    latest = deck.of_kind(FirstWeighing)[-1]
    assert latest.weighing.weight_kg == 49000
    assert latest.replaces == deck.of_kind(FirstWeighing)[0].weighing.id
    assert [n.kind for n in deck.of_kind(Notice)] == ["expired_first_weighing"]


def test_tare_on_one_deck_and_gross_on_another() -> None:
    shared = OpenWeighings()
    inbound, outbound = Deck(shared=shared, code="WB1"), Deck(shared=shared, code="WB2")
    inbound.weigh(17020)
    outbound.at = inbound.at + 900
    outbound.weigh(49160)
    [ticket] = outbound.of_kind(CompletedWeighing)
    assert (ticket.first.device, ticket.second.device) == ("WB1", "WB2")
    assert ticket.record_input("U2l0ZToxMg==", "T")["deviceCode"] == "WB2"


def test_a_clean_jump_between_plateaus_is_kept_as_evidence() -> None:
    deck = Deck()
    deck.drive(0, 30000)
    deck.hold(30000, frames=10)  # stable, but no plate yet
    deck.hold(30800, frames=10)  # a remote-control board adds 800 kg in one clean step
    deck.plate()
    deck.hold(30800, frames=1)
    [first] = deck.of_kind(FirstWeighing)
    assert first.weighing.weight_kg == 30800
    [step] = first.weighing.evidence["steps"]
    assert (step["from"], step["to"]) == ("30000", "30800")
    assert deck.session.counters.steps == 1


def test_weighings_survive_a_round_trip_through_json() -> None:
    deck = Deck()
    deck.weigh(17020)
    [first] = deck.of_kind(FirstWeighing)
    assert Weighing.from_json(first.weighing.to_json()) == first.weighing
