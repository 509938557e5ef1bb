"""Reading an indicator on a serial port through pyserial, surviving unplugs.

Concurrency: each blocking pyserial call runs in a worker thread through
``asyncio.to_thread``, and reads block for at most ``read_timeout``. The event loop
never blocks; a cancelled reader waits for the read in flight (at most one read
timeout) before closing the port, so the port is never closed under a thread.

When the port disappears (USB adapter unplugged, indicator off) the read fails,
the port is closed, any partial frame is dropped, and the reader reopens the
same path with exponential backoff until it is back.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import serial

from device_bridge.backoff import Backoff, BackoffPolicy
from device_bridge.protocols.base import ReadingSink
from device_bridge.protocols.framing import Framer

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True)
class SerialSettings:
    """``url`` is a device path (a stable symlink such as /dev/serial/by-id/...) or a
    pyserial URL. ``poll_request``, when set, is written every ``poll_interval``
    seconds for indicators in command mode (see ``yaohua_a9.build_request``)."""

    url: str
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    read_timeout: float = 0.05
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    poll_request: bytes | None = None
    poll_interval: float = 0.2


@dataclass
class SerialCounters:
    bytes_received: int = 0
    open_failures: int = 0
    disconnects: int = 0
    reconnects: int = 0


class _Port(Protocol):
    """The part of ``serial.Serial`` this module uses."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def close(self) -> None: ...


class SerialIndicator:
    """Feeds every byte from the port to ``framer`` and every reading to ``sink``."""

    def __init__(
        self,
        settings: SerialSettings,
        framer: Framer,
        sink: ReadingSink,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.framer = framer
        self.counters = SerialCounters()
        self._sink = sink
        self._clock = clock
        self._backoff = Backoff(settings.backoff)
        self._has_connected = False
        self._open_failing = False
        self._last_poll: float | None = None

    async def run(self) -> None:
        """Read until cancelled. Port trouble is counted and retried, never raised;
        an exception from the sink propagates (that is a bug, not device trouble)."""
        while True:
            port = await self._open()
            if port is not None:
                await self._read_until_lost(port)
            await asyncio.sleep(self._backoff.next_delay())

    async def _open(self) -> _Port | None:
        try:
            port = await _in_thread(self._open_port)
        except OSError as exc:  # pyserial's SerialException is an OSError
            self.counters.open_failures += 1
            # one warning per outage, not one per retry
            log = logger.debug if self._open_failing else logger.warning
            log("cannot open %s: %s", self.settings.url, exc)
            self._open_failing = True
            return None
        self._open_failing = False
        if self._has_connected:
            self.counters.reconnects += 1
            logger.info("reopened %s", self.settings.url)
        self._has_connected = True
        self._last_poll = None
        return port

    def _open_port(self) -> _Port:
        settings = self.settings
        port: _Port = serial.serial_for_url(
            settings.url,
            baudrate=settings.baudrate,
            bytesize=settings.bytesize,
            parity=settings.parity,
            stopbits=settings.stopbits,
            timeout=settings.read_timeout,
            # a second reader on the same port would steal bytes from this one
            exclusive=True,
        )
        return port

    async def _read_until_lost(self, port: _Port) -> None:
        try:
            while True:
                try:
                    data = await _in_thread(lambda: self._exchange(port))
                except OSError as exc:
                    self.counters.disconnects += 1
                    logger.warning("lost %s: %s", self.settings.url, exc)
                    return
                self._deliver(data)
        finally:
            with contextlib.suppress(OSError):  # the device may be gone already
                port.close()
            self.framer.reset()

    def _deliver(self, data: bytes) -> None:
        if data:
            self.counters.bytes_received += len(data)
            self._backoff.reset()
        received_at = self._clock()
        for reading in self.framer.feed(data):
            self._sink(reading, received_at)

    def _exchange(self, port: _Port) -> bytes:
        # runs in a worker thread: poll if due, then wait up to read_timeout for data
        request = self.settings.poll_request
        now = self._clock()
        if request is not None and (
            self._last_poll is None or now - self._last_poll >= self.settings.poll_interval
        ):
            port.write(request)
            self._last_poll = now
        first = port.read(1)
        return first + port.read(port.in_waiting) if first else b""


async def _in_thread(call: Callable[[], _T]) -> _T:
    # If cancelled, let the call finish (bounded by the read timeout) before
    # unwinding, so the caller's finally never closes the port under the thread.
    future = asyncio.ensure_future(asyncio.to_thread(call))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise
