from collections.abc import Sequence
from decimal import Decimal

import pytest

from device_bridge.stability import (
    StabilityDetector,
    StabilitySettings,
    StabilityUpdate,
    StepEvent,
)

DIVISION = Decimal(20)
SETTINGS = StabilitySettings(division=DIVISION, min_readings=5, min_duration=1.0)
PERIOD = 0.125  # 8 readings per second; a power of two keeps the time sums exact


def feed(
    detector: StabilityDetector, weights: Sequence[int | None], start: float = 0.0
) -> list[StabilityUpdate]:
    return [
        detector.update(None if weight is None else Decimal(weight), start + i * PERIOD)
        for i, weight in enumerate(weights)
    ]


def first_stable_index(updates: list[StabilityUpdate]) -> int:
    return next(i for i, update in enumerate(updates) if update.stable)


def steps(updates: list[StabilityUpdate]) -> list[StepEvent]:
    return [update.step for update in updates if update.step is not None]


def test_stable_needs_both_enough_readings_and_enough_time() -> None:
    # five readings span 0.5 s, so the 1 s minimum decides: readings 0..8
    assert first_stable_index(feed(StabilityDetector(SETTINGS), [30000] * 20)) == 8
    slow = StabilitySettings(division=DIVISION, min_readings=15, min_duration=0.5)
    assert first_stable_index(feed(StabilityDetector(slow), [30000] * 20)) == 14


def test_readings_within_one_division_are_stable() -> None:
    wobble = [30000, 30020, 30010, 30000, 30020] * 4
    assert feed(StabilityDetector(SETTINGS), wobble)[-1].stable


def test_readings_spread_over_more_than_one_division_are_not() -> None:
    wobble = [30000, 30040, 30000, 30040] * 5
    assert not any(update.stable for update in feed(StabilityDetector(SETTINGS), wobble))


def test_a_change_after_a_long_still_period_breaks_stability_at_once() -> None:
    detector = StabilityDetector(SETTINGS)
    feed(detector, [30000] * 600)
    assert not detector.update(Decimal(30100), 600 * PERIOD).stable


def test_a_clean_step_between_plateaus_is_flagged() -> None:
    updates = feed(StabilityDetector(SETTINGS), [30000] * 15 + [30500] * 15)
    events = steps(updates)
    assert events == [StepEvent(at=23 * PERIOD, before=Decimal(30000), after=Decimal(30500))]
    assert first_stable_index(updates[15:]) == 8  # flagged when the new plateau is stable


def test_a_truck_driving_on_is_not_a_step() -> None:
    ramp = list(range(0, 30000, 2500))
    assert steps(feed(StabilityDetector(SETTINGS), [0] * 15 + ramp + [30000] * 15)) == []


def test_a_load_settling_with_oscillation_is_not_a_step() -> None:
    settle = [30500, 30300, 30620, 30460, 30520]
    updates = feed(StabilityDetector(SETTINGS), [30000] * 15 + settle + [30500] * 15)
    assert updates[-1].stable
    assert steps(updates) == []


def test_a_step_within_one_division_goes_unnoticed() -> None:
    updates = feed(StabilityDetector(SETTINGS), [30000] * 15 + [30020] * 15)
    assert all(update.stable for update in updates[8:])
    assert steps(updates) == []


def test_out_of_range_breaks_stability_and_forgets_the_plateau() -> None:
    updates = feed(StabilityDetector(SETTINGS), [30000] * 15 + [None] + [30500] * 15)
    assert not updates[15].stable
    assert updates[-1].stable
    assert steps(updates) == []


def test_time_must_not_go_backwards() -> None:
    detector = StabilityDetector(SETTINGS)
    detector.update(Decimal(0), 5.0)
    with pytest.raises(ValueError, match="backwards"):
        detector.update(Decimal(0), 4.0)


@pytest.mark.parametrize(
    ("division", "min_readings", "min_duration"),
    [(Decimal(0), 5, 1.0), (DIVISION, 1, 1.0), (DIVISION, 5, -1.0)],
)
def test_unusable_settings_are_refused(
    division: Decimal, min_readings: int, min_duration: float
) -> None:
    with pytest.raises(ValueError, match="unusable"):
        StabilitySettings(division=division, min_readings=min_readings, min_duration=min_duration)
