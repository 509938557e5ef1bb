"""Cutting a serial byte stream into frames, whatever the protocol.

A :class:`Framer` resynchronises on noise, keeps a partial frame across calls and
counts everything it throws away by reason; a bad frame is counted, never parsed
into a weight.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from device_bridge.protocols.base import (
    ChecksumError,
    MalformedFrameError,
    ParityError,
    Reading,
)

DEFAULT_PARTIAL_TIMEOUT = 1.0


@dataclass(frozen=True)
class FrameSpec:
    """How to find one protocol's fixed-length frames in a byte stream.

    Frames are anchored either on their first byte (``start``, compared after
    ``byte_mask`` so a parity bit does not hide it) or on their trailer (``end``),
    exactly one of the two. ``parse`` raises a :class:`FrameError` subclass for
    anything that must not become a reading.
    """

    length: int
    parse: Callable[[bytes], Reading]
    start: int | None = None
    end: bytes | None = None
    byte_mask: int = 0xFF

    def __post_init__(self) -> None:
        if (self.start is None) == (self.end is None):
            raise ValueError("anchor frames on exactly one of start or end")
        if self.end is not None and len(self.end) >= self.length:
            raise ValueError("the trailer must be shorter than the frame")


@dataclass
class FramerCounters:
    frames: int = 0
    noise_bytes: int = 0
    malformed_frames: int = 0
    bad_checksums: int = 0
    bad_parity: int = 0
    # partial frames whose rest never came (timed out, or the port went away)
    stale_partials: int = 0


class Framer:
    """Streaming frame extraction for one :class:`FrameSpec`."""

    def __init__(
        self,
        spec: FrameSpec,
        *,
        partial_timeout: float = DEFAULT_PARTIAL_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self.counters = FramerCounters()
        self._partial_timeout = partial_timeout
        self._clock = clock
        self._buffer = bytearray()
        self._partial_since: float | None = None
        self._head_moved = False

    def feed(self, data: bytes) -> list[Reading]:
        """Add received bytes; return the readings of every frame they complete.

        ``feed(b"")`` is a clock tick: it only expires a stale partial frame.
        """
        now = self._clock()
        self._expire_partial(now)
        self._buffer += data
        readings: list[Reading] = []
        self._head_moved = False
        if self.spec.start is not None:
            self._drain_start_anchored(self.spec.start, readings)
        else:
            assert self.spec.end is not None
            self._drain_end_anchored(self.spec.end, readings)
        self._track_partial(now)
        return readings

    def reset(self) -> None:
        """Forget a partial frame, e.g. when the port closed in the middle of one."""
        if self._buffer:
            self.counters.stale_partials += 1
        self._buffer.clear()
        self._partial_since = None

    def _expire_partial(self, now: float) -> None:
        if self._partial_since is not None and now - self._partial_since > self._partial_timeout:
            self.reset()

    def _track_partial(self, now: float) -> None:
        if not self._buffer:
            self._partial_since = None
        elif self._head_moved or self._partial_since is None:
            self._partial_since = now

    def _drain_start_anchored(self, start: int, readings: list[Reading]) -> None:
        length = self.spec.length
        while True:
            index = self._find_start(start)
            self._discard_noise(len(self._buffer) if index < 0 else index)
            if index < 0 or len(self._buffer) < length:
                return
            frame = bytes(self._buffer[:length])
            reading, was_frame = self._parse(frame)
            if reading is not None:
                readings.append(reading)
            # A malformed candidate may be noise that looked like a start byte, with a
            # real frame starting inside it: step over the start byte only.
            self._consume(length if was_frame else 1)

    def _drain_end_anchored(self, end: bytes, readings: list[Reading]) -> None:
        length = self.spec.length
        while (index := self._buffer.find(end)) >= 0:
            frame_end = index + len(end)
            frame_start = frame_end - length
            if frame_start < 0:
                # the tail of a frame whose beginning we never saw (joined mid-stream)
                self._discard_noise(frame_end)
                continue
            self._discard_noise(frame_start)
            reading, _ = self._parse(bytes(self._buffer[:length]))
            if reading is not None:
                readings.append(reading)
            self._consume(length)
        # without a trailer, only the last length-1 bytes can still become a frame
        self._discard_noise(max(0, len(self._buffer) - (length - 1)))

    def _find_start(self, start: int) -> int:
        mask = self.spec.byte_mask
        if mask == 0xFF:
            return self._buffer.find(start)
        return next((i for i, byte in enumerate(self._buffer) if byte & mask == start), -1)

    def _parse(self, frame: bytes) -> tuple[Reading | None, bool]:
        """The reading, if any, and whether the bytes had the shape of a frame."""
        try:
            reading = self.spec.parse(frame)
        except MalformedFrameError:
            self.counters.malformed_frames += 1
            return None, False
        except ChecksumError:
            self.counters.bad_checksums += 1
            return None, True
        except ParityError:
            self.counters.bad_parity += 1
            return None, True
        self.counters.frames += 1
        return reading, True

    def _discard_noise(self, count: int) -> None:
        if count:
            self.counters.noise_bytes += count
            self._consume(count)

    def _consume(self, count: int) -> None:
        del self._buffer[:count]
        self._head_moved = True
