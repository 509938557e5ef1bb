"""Exponential backoff between attempts to reach a device."""

from dataclasses import dataclass
from random import Random


@dataclass(frozen=True)
class BackoffPolicy:
    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum or self.factor < 1:
            raise ValueError(f"unusable backoff policy: {self}")


class Backoff:
    """Delays initial, initial*factor, ... capped at maximum, until :meth:`reset`."""

    def __init__(self, policy: BackoffPolicy) -> None:
        self._policy = policy
        self._next = policy.initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(delay * self._policy.factor, self._policy.maximum)
        return delay

    def reset(self) -> None:
        self._next = self._policy.initial


def jittered(delay: float, rng: Random) -> float:
    """``delay`` shortened by up to half at random, so that bridges cut off by one outage
    do not all come back at the same instant."""
    return delay * (0.5 + rng.random() / 2)
