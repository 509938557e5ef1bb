"""How much of the city a generation run simulates, and over which days."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from coalhub.synthetic.clock import DAY_S
from coalhub.synthetic.enterprise_kinds import KIND_MIX

DEFAULT_END = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # 2026-11-26 00:00 Beijing time


@dataclass(frozen=True)
class Scale:
    """How much of the city to simulate, ending at `end` (exclusive)."""

    day_count: int
    enterprises: int
    vehicles: int
    trips_per_day: int  # loaded hauls that start per day (sales, inbound purchases, transfers)
    position_interval_s: int = 60
    end: datetime = DEFAULT_END

    @classmethod
    def demo(cls) -> Scale:
        """Three weeks of a slice of the city: ~600 weigh tickets a day."""
        return cls(day_count=21, enterprises=40, vehicles=300, trips_per_day=340)

    @classmethod
    def day(cls) -> Scale:
        """One day of the whole city: ~7,000 loaded hauls, ~12,000 tickets, 4,000 trucks."""
        return cls(day_count=1, enterprises=160, vehicles=4_000, trips_per_day=7_500)

    @classmethod
    def days(cls, n: int) -> Scale:
        """`n` days of the whole city."""
        return replace(cls.day(), day_count=n)

    @classmethod
    def tiny(cls) -> Scale:
        """Two days of a handful of enterprises, for tests."""
        return cls(day_count=2, enterprises=12, vehicles=24, trips_per_day=30)

    def scaled(self, factor: float) -> Scale:
        """The same period with `factor` times the enterprises, trucks and trips."""
        return replace(
            self,
            enterprises=max(len(KIND_MIX), round(self.enterprises * factor)),
            vehicles=max(10, round(self.vehicles * factor)),
            trips_per_day=max(5, round(self.trips_per_day * factor)),
        )

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.day_count)

    @property
    def end_ts(self) -> int:
        return int(self.end.timestamp())

    @property
    def start_ts(self) -> int:
        return self.end_ts - self.day_count * DAY_S
