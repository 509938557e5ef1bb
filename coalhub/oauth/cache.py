"""A value read from the database and trusted for a few seconds per process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
Clock = Callable[[], float]  # seconds since the epoch; tests pass their own

# On-demand re-reads (for a key or client not seen yet) happen at most this often, so
# forged ids cannot turn every request into a query; a caller that comes sooner waits for
# the next re-read instead of being refused.
MIN_FORCED_REFRESH_SECONDS = 0.25


@dataclass(frozen=True)
class _Loaded(Generic[T]):
    at: float
    number: int  # loads are numbered in the order they start
    value: T


class Cached(Generic[T]):
    """Re-read when older than `ttl`, or on demand with `get(refresh=True)`. One load runs at
    a time, and one load serves every caller that asked for it before it started."""

    def __init__(self, load: Callable[[], Awaitable[T]], ttl: float, clock: Clock) -> None:
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._loaded: _Loaded[T] | None = None
        self._loads_started = 0
        self._lock = asyncio.Lock()

    def _stale(self) -> bool:
        return self._loaded is None or self._clock() - self._loaded.at >= self._ttl

    async def get(self, *, refresh: bool = False) -> T:
        """The cached value; with `refresh`, one read after this call began."""
        if refresh:
            asked_after = self._loads_started
            async with self._lock:
                if self._loaded is None or self._loaded.number <= asked_after:
                    await self._pace()
                    await self._reload()
        elif self._stale():
            async with self._lock:
                if self._stale():
                    await self._reload()
        assert self._loaded is not None
        return self._loaded.value

    async def _pace(self) -> None:
        if self._loaded is not None:
            wait = MIN_FORCED_REFRESH_SECONDS - (self._clock() - self._loaded.at)
            if wait > 0:
                await asyncio.sleep(min(wait, MIN_FORCED_REFRESH_SECONDS))

    async def _reload(self) -> None:
        self._loads_started += 1
        number, at = self._loads_started, self._clock()
        self._loaded = _Loaded(at, number, await self._load())
