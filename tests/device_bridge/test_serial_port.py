"""The serial reader against a real pseudo-terminal standing in for the indicator."""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest
import serial

from device_bridge.backoff import BackoffPolicy
from device_bridge.protocols import yaohua_a9
from device_bridge.protocols.base import Reading, WeightKind, hex_pair, xor_of
from device_bridge.protocols.framing import Framer
from device_bridge.protocols.yaohua_a9 import Command
from device_bridge.serial_port import SerialIndicator, SerialSettings
from tests.device_bridge.peers import PtyIndicator

FRAME_INTERVAL = 0.05  # 20 frames/s, as an A9 sends them at 9600 baud
FAST_BACKOFF = BackoffPolicy(initial=0.02, maximum=0.1)


def a9_frame(weight: int) -> bytes:
    field = b"%+07d0" % weight
    return b"\x02" + field + hex_pair(xor_of(field)) + b"\x03"


def a9_reply(command: bytes, weight: int) -> bytes:
    covered = b"A" + command + b"%+07d0" % weight
    return b"\x02" + covered + hex_pair(xor_of(covered)) + b"\x03"


@pytest.fixture
def indicator(tmp_path: Path) -> Iterator[PtyIndicator]:
    device = PtyIndicator(tmp_path / "usb-FTDI_FT232R-if00-port0")
    device.plug_in()
    yield device
    if device.plugged_in:
        device.unplug()


class Collected:
    def __init__(self) -> None:
        self.readings: list[Reading] = []

    def __call__(self, reading: Reading, received_at: float) -> None:
        self.readings.append(reading)

    @property
    def weights(self) -> list[Decimal | None]:
        return [reading.weight for reading in self.readings]


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        # polling: the counters and collected readings have no change event to await
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@asynccontextmanager
async def running(reader: SerialIndicator) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(reader.run())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def transmit(device: PtyIndicator, weights: list[int]) -> None:
    for weight in weights:
        device.send(a9_frame(weight))
        await asyncio.sleep(FRAME_INTERVAL)


def a9_reader(indicator: PtyIndicator, sink: Collected) -> SerialIndicator:
    return SerialIndicator(
        SerialSettings(url=str(indicator.path), backoff=FAST_BACKOFF),
        Framer(yaohua_a9.continuous_spec()),
        sink,
    )


async def test_reads_frames_at_the_indicator_rate(indicator: PtyIndicator) -> None:
    sink = Collected()
    sent = list(range(0, 25000, 1000))
    async with running(a9_reader(indicator, sink)) as task:
        await transmit(indicator, sent)
        await wait_until(lambda: len(sink.readings) >= 15)
        assert not task.done()
    # frames sent before the port was open are gone; after that none may be lost
    first = sent.index(int(sink.weights[0] or 0))
    assert sink.weights == sent[first : first + len(sink.weights)]
    assert all(reading.stable is None and reading.kind is None for reading in sink.readings)


async def test_split_frames_and_line_noise(indicator: PtyIndicator) -> None:
    sink = Collected()
    reader = a9_reader(indicator, sink)
    async with running(reader):
        await transmit(indicator, [500] * 3)  # until the port is surely open
        await wait_until(lambda: len(sink.readings) >= 1)
        frame = a9_frame(3260)
        indicator.send(b"\xff\x00" + frame[:5])
        await asyncio.sleep(FRAME_INTERVAL)
        indicator.send(frame[5:])
        await wait_until(lambda: Decimal(3260) in sink.weights)
    assert reader.framer.counters.noise_bytes == 2


async def test_unplug_and_replug(indicator: PtyIndicator) -> None:
    sink = Collected()
    reader = a9_reader(indicator, sink)
    async with running(reader) as task:
        await transmit(indicator, [1000] * 5)
        await wait_until(lambda: len(sink.readings) >= 3)
        received = reader.counters.bytes_received
        indicator.send(a9_frame(9999)[:6])  # unplugged in the middle of a frame
        await wait_until(lambda: reader.counters.bytes_received == received + 6)

        indicator.unplug()
        await wait_until(lambda: reader.counters.open_failures >= 2)
        assert reader.counters.disconnects == 1
        assert reader.framer.counters.stale_partials == 1

        indicator.plug_in()
        await transmit(indicator, [2000] * 10)
        await wait_until(lambda: Decimal(2000) in sink.weights)
        assert not task.done()
    assert reader.counters.reconnects == 1
    assert set(sink.weights) == {1000, 2000}  # the half frame never joined the new ones


async def test_command_mode_polls_and_reads_replies(indicator: PtyIndicator) -> None:
    sink = Collected()
    request = yaohua_a9.build_request(1, Command.GROSS)
    reader = SerialIndicator(
        SerialSettings(url=str(indicator.path), poll_request=request, poll_interval=0.05),
        Framer(yaohua_a9.reply_spec(address=1)),
        sink,
    )
    requests, received = 0, b""
    async with running(reader), asyncio.timeout(5):
        while len(sink.readings) < 3:
            received += indicator.receive()
            while request in received:
                received = received.replace(request, b"", 1)
                requests += 1
                indicator.send(a9_reply(b"B", 32600 + requests))
            await asyncio.sleep(0.005)
    assert received == b""  # nothing but well-formed requests came down the line
    assert [reading.kind for reading in sink.readings] == [WeightKind.GROSS] * 3
    assert sink.weights == [32601, 32602, 32603]


async def test_cancelling_releases_the_port(indicator: PtyIndicator) -> None:
    sink = Collected()
    async with running(a9_reader(indicator, sink)):
        await transmit(indicator, [700] * 3)
        await wait_until(lambda: len(sink.readings) >= 1)
        with pytest.raises(serial.SerialException, match="lock"):
            serial.serial_for_url(str(indicator.path), exclusive=True)
    # the reader's exclusive lock is gone, so another client can open the port
    serial.serial_for_url(str(indicator.path), exclusive=True).close()
