import random
from decimal import Decimal

import pytest

from device_bridge.protocols import toledo, yaohua_a9, yaohua_a12e
from device_bridge.protocols.base import Reading, hex_pair, xor_of
from device_bridge.protocols.framing import Framer, FrameSpec
from device_bridge.protocols.toledo import Parity, ToledoSettings


def a9(field: bytes) -> bytes:
    return b"\x02" + field + hex_pair(xor_of(field)) + b"\x03"


STREAM = a9(b"+0000000") + a9(b"+0032600") + a9(b"-0000150")
WEIGHTS = [Decimal(0), Decimal(3260), Decimal(-15)]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def weights(readings: list[Reading]) -> list[Decimal | None]:
    return [reading.weight for reading in readings]


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_a_frame_split_anywhere_still_parses(cut: int) -> None:
    framer = Framer(yaohua_a9.continuous_spec())
    readings = framer.feed(STREAM[:cut]) + framer.feed(STREAM[cut:])
    assert weights(readings) == WEIGHTS
    assert framer.counters.frames == 3


def test_noise_between_frames_is_counted_and_skipped() -> None:
    framer = Framer(yaohua_a9.continuous_spec())
    noise = b"\x00\x7f\xff\x03"
    readings = framer.feed(noise + STREAM[:12] + noise + STREAM[12:] + noise)
    assert weights(readings) == WEIGHTS
    assert framer.counters.noise_bytes == 3 * len(noise)


def test_a_stray_start_byte_costs_one_byte_not_the_frame_behind_it() -> None:
    framer = Framer(yaohua_a9.continuous_spec())
    readings = framer.feed(b"\x02" + STREAM)
    assert weights(readings) == WEIGHTS
    assert framer.counters.malformed_frames == 1
    assert framer.counters.noise_bytes == 0


def test_a_corrupted_frame_is_counted_never_read() -> None:
    framer = Framer(yaohua_a9.continuous_spec())
    corrupted = bytearray(a9(b"+0032600"))
    corrupted[4] = ord("9")  # 3260 -> 3960 on the line
    readings = framer.feed(STREAM[:12] + bytes(corrupted) + STREAM[12:])
    assert weights(readings) == WEIGHTS
    assert framer.counters.bad_checksums == 1
    assert framer.counters.noise_bytes == 0


def test_a_partial_frame_expires_instead_of_joining_later_bytes() -> None:
    clock = FakeClock()
    framer = Framer(yaohua_a9.continuous_spec(), partial_timeout=1.0, clock=clock)
    assert framer.feed(STREAM[:5]) == []
    clock.now = 0.9
    assert framer.feed(b"") == []  # a tick within the timeout keeps the partial
    clock.now = 1.5
    readings = framer.feed(STREAM[5:])
    assert weights(readings) == WEIGHTS[1:]
    assert framer.counters.stale_partials == 1
    assert framer.counters.noise_bytes == 7  # the orphaned rest of the first frame


def test_a_partial_frame_completed_in_time_parses() -> None:
    clock = FakeClock()
    framer = Framer(yaohua_a9.continuous_spec(), partial_timeout=1.0, clock=clock)
    framer.feed(STREAM[:17])
    clock.now = 0.99
    assert weights(framer.feed(STREAM[17:])) == WEIGHTS[1:]
    assert framer.counters.stale_partials == 0


def test_reset_drops_and_counts_a_partial_frame() -> None:
    framer = Framer(yaohua_a9.continuous_spec())
    framer.feed(STREAM[:5])
    framer.reset()
    framer.reset()  # nothing left to drop the second time
    assert weights(framer.feed(STREAM[12:])) == WEIGHTS[1:]
    assert framer.counters.stale_partials == 1


def test_trailer_anchored_framer_keeps_no_more_than_one_frame_of_noise() -> None:
    framer = Framer(yaohua_a12e.spec())
    assert framer.feed(b"x" * 1000) == []
    assert framer.counters.noise_bytes == 1000 - (yaohua_a12e.LENGTH - 1)


SPECS = {
    "yaohua_a9": yaohua_a9.continuous_spec(),
    "yaohua_a9_reply": yaohua_a9.reply_spec(),
    "yaohua_a12e": yaohua_a12e.spec(),
    "toledo": toledo.spec(),
    "toledo_no_checksum": toledo.spec(ToledoSettings(checksum=False)),
    "toledo_7e1": toledo.spec(ToledoSettings(parity=Parity.EVEN)),
}


@pytest.mark.parametrize("name", SPECS)
def test_random_bytes_from_a_wrong_baud_rate_yield_no_readings(name: str) -> None:
    source = random.Random(f"wrong baud {name}")
    framer = Framer(SPECS[name])
    for _ in range(200):
        chunk = source.randbytes(source.randint(1, 600))
        assert framer.feed(chunk) == [], f"noise parsed as a {name} frame"
    assert framer.counters.frames == 0
    assert framer.counters.noise_bytes > 0


def uart_bits(data: bytes, idle_bits: int) -> list[int]:
    """The line levels, one per bit time, of ``data`` sent 8N1, LSB first."""
    bits = [1] * idle_bits
    for byte in data:
        bits += [0] + [byte >> i & 1 for i in range(8)] + [1]
    return bits + [1] * idle_bits


def uart_receive(bits: list[int], sent_baud: int, read_baud: int) -> bytes:
    """What a UART set to ``read_baud`` makes of a line driven at ``sent_baud``."""
    duration = len(bits) / sent_baud

    def level(t: float) -> int:
        return bits[int(t * sent_baud)] if t < duration else 1

    received = bytearray()
    step = 1 / (16 * read_baud)  # receivers oversample 16x to find the start edge
    t = 0.0
    while t + 10 / read_baud < duration:
        if level(t):
            t += step
            continue
        data = sum(level(t + (i + 1.5) / read_baud) << i for i in range(8))
        if level(t + 9.5 / read_baud):  # a byte with a broken stop bit is dropped
            received.append(data)
        t += 9.5 / read_baud
    return bytes(received)


LINE = uart_bits(STREAM * 4, idle_bits=20)


def test_the_uart_model_reads_the_right_baud_rate() -> None:
    framer = Framer(yaohua_a9.continuous_spec())
    assert weights(framer.feed(uart_receive(LINE, 9600, 9600))) == WEIGHTS * 4


@pytest.mark.parametrize("read_baud", [1200, 2400, 4800, 19200])
def test_frames_read_at_the_wrong_baud_rate_yield_no_readings(read_baud: int) -> None:
    framer = Framer(yaohua_a9.continuous_spec())
    garbled = uart_receive(LINE, 9600, read_baud)
    assert garbled, "the receiver should still see bytes"
    assert framer.feed(garbled) == []


def test_spec_needs_exactly_one_anchor() -> None:
    def parse(frame: bytes) -> Reading:
        raise AssertionError("never called")

    with pytest.raises(ValueError, match="exactly one"):
        FrameSpec(length=4, parse=parse)
    with pytest.raises(ValueError, match="exactly one"):
        FrameSpec(length=4, parse=parse, start=2, end=b"\r\n")
    with pytest.raises(ValueError, match="shorter"):
        FrameSpec(length=2, parse=parse, end=b"\r\n")
