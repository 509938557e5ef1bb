"""Stability for indicators that send no stable flag, and the tamper "step" signature.

Stable: the last ``min_readings`` readings, spanning at least ``min_duration``
seconds, all lie within one division of each other.

Step: the weight leaves a stable plateau in one jump and settles on a new plateau
more than a division away, with every reading in between already at the new level.
A truck driving on or off, or a load settling, passes through intermediate values
and oscillates; a remote-control board that adds an offset does not. A step is a
signal for review, not proof: at low sample rates a real change can look clean too.
"""

from collections import deque
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class StabilitySettings:
    division: Decimal
    min_readings: int = 5
    min_duration: float = 1.0

    def __post_init__(self) -> None:
        if self.division <= 0 or self.min_readings < 2 or self.min_duration < 0:
            raise ValueError(f"unusable stability settings: {self}")


@dataclass(frozen=True)
class StepEvent:
    at: float
    before: Decimal
    after: Decimal


@dataclass(frozen=True)
class StabilityUpdate:
    stable: bool
    step: StepEvent | None = None


@dataclass
class _Departure:
    """Readings since the weight left a stable plateau."""

    plateau: Decimal
    first: Decimal
    clean: bool = True


class StabilityDetector:
    """Feed it every reading in order with its monotonic receive time."""

    def __init__(self, settings: StabilitySettings) -> None:
        self._settings = settings
        self._window: deque[tuple[float, Decimal]] = deque()
        self._stable = False
        self._plateau: Decimal | None = None
        self._departure: _Departure | None = None

    def update(self, weight: Decimal | None, at: float) -> StabilityUpdate:
        """Add a reading; ``weight`` None (out of range) breaks stability outright."""
        if self._window and at < self._window[-1][0]:
            raise ValueError(f"time went backwards: {at} after {self._window[-1][0]}")
        if weight is None:
            self._forget()
            return StabilityUpdate(stable=False)
        self._remember(weight, at)
        was_stable, self._stable = self._stable, self._is_stable()
        step = self._follow_plateaus(weight, at, was_stable)
        return StabilityUpdate(stable=self._stable, step=step)

    def _forget(self) -> None:
        self._window.clear()
        self._stable = False
        self._plateau = None
        self._departure = None

    def _remember(self, weight: Decimal, at: float) -> None:
        self._window.append((at, weight))
        # Older readings can go once the rest still cover both N readings and T seconds:
        # keeps the window short however long the weight sits still.
        settings = self._settings
        while (
            len(self._window) > settings.min_readings
            and at - self._window[1][0] >= settings.min_duration
        ):
            self._window.popleft()

    def _is_stable(self) -> bool:
        settings = self._settings
        if len(self._window) < settings.min_readings:
            return False
        if self._window[-1][0] - self._window[0][0] < settings.min_duration:
            return False
        weights = [weight for _, weight in self._window]
        return max(weights) - min(weights) <= settings.division

    def _follow_plateaus(self, weight: Decimal, at: float, was_stable: bool) -> StepEvent | None:
        division = self._settings.division
        if self._stable:
            step = self._step_onto(weight, at)
            self._plateau = weight
            self._departure = None
            return step
        if was_stable and self._plateau is not None:
            self._departure = _Departure(plateau=self._plateau, first=weight)
        elif self._departure is not None and abs(weight - self._departure.first) > division:
            self._departure.clean = False
        return None

    def _step_onto(self, weight: Decimal, at: float) -> StepEvent | None:
        departure = self._departure
        if departure is None or not departure.clean:
            return None
        if abs(weight - departure.plateau) <= self._settings.division:
            return None
        return StepEvent(at=at, before=departure.plateau, after=weight)
