"""The Modbus reader against a real pymodbus server on loopback simulating an indicator."""

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

import pytest
from pymodbus import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from device_bridge.backoff import BackoffPolicy
from device_bridge.modbus import ModbusIndicator, PollSettings, RtuLink, TcpLink
from device_bridge.modbus_profiles import FLINTEC_FT112, ID551PN
from device_bridge.protocols.base import Reading, WeightKind
from device_bridge.register_map import RegisterMap

FAST_POLL = PollSettings(
    interval=0.01,
    timeout=0.2,
    backoff=BackoffPolicy(initial=0.02, maximum=0.2),
    heartbeat_timeout=0.3,
)
# a truck driving on: rising weight with the unstable bit, settling, then stable
DRIVE_ON = [(weight, True) for weight in range(0, 32000, 4000)] + [
    (32640, True),
    (32580, True),
    (32600, False),
]


def int32_words(value: int) -> list[int]:
    return list(struct.unpack(">HH", struct.pack(">i", value)))


def float32_words(value: float) -> list[int]:
    return list(struct.unpack(">HH", struct.pack(">f", value)))


def ft112_layout(registers: list[int], weight: int, moving: bool) -> None:
    """Wire addresses of FLINTEC_FT112: gross 4-5, status 6 (bit 2 unstable)."""
    registers[4:6] = int32_words(weight)
    registers[6] = 0x0004 if moving else 0


def id551pn_layout(registers: list[int], weight: int, moving: bool) -> None:
    """Wire addresses of ID551PN: float weight 0-1, status 4 (bit 12 motion, 15 OK)."""
    registers[0:2] = float32_words(weight)
    registers[4] = 0x8000 | (0x1000 if moving else 0)


@dataclass
class ScriptedScale:
    """The indicator: every read request moves one step along ``script`` (the last
    step repeats) and bumps the heartbeat, as firmware updating its registers."""

    script: list[tuple[int, bool]]
    layout: Callable[[list[int], int, bool], None] = ft112_layout
    heartbeat_address: int | None = 10
    heartbeat_frozen: bool = False
    answer_delay: float = 0.0
    reads: int = 0
    function_codes: set[int] = field(default_factory=set)

    async def action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> None:
        assert start_address == 0  # the layouts index the block by wire address
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        self.function_codes.add(function_code)
        weight, moving = self.script[min(self.reads, len(self.script) - 1)]
        self.reads += 1
        self.layout(registers, weight, moving)
        if self.heartbeat_address is not None and not self.heartbeat_frozen:
            registers[self.heartbeat_address] = (registers[self.heartbeat_address] + 1) & 0xFFFF

    def device(self) -> SimDevice:
        registers = SimData(address=0, count=20, values=0, datatype=DataType.REGISTERS)
        return SimDevice(id=1, simdata=[registers], action=self.action)


class SimulatedServer:
    """A pymodbus server on loopback; restarts reuse the first start's free port."""

    def __init__(self, scale: ScriptedScale, framer: FramerType = FramerType.SOCKET) -> None:
        self._device = scale.device()
        self._framer = framer
        self._server: ModbusTcpServer | None = None
        self.port = 0

    async def start(self) -> None:
        server = ModbusTcpServer(
            self._device, address=("127.0.0.1", self.port), framer=self._framer
        )
        await server.serve_forever(background=True)
        # listening, the transport is the asyncio.Server, which knows the bound port
        self.port = cast("asyncio.Server", server.transport).sockets[0].getsockname()[1]
        self._server = server

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None


@asynccontextmanager
async def serving(
    scale: ScriptedScale, framer: FramerType = FramerType.SOCKET
) -> AsyncIterator[SimulatedServer]:
    server = SimulatedServer(scale, framer)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class Collected:
    def __init__(self) -> None:
        self.readings: list[Reading] = []

    def __call__(self, reading: Reading, received_at: float) -> None:
        self.readings.append(reading)


@asynccontextmanager
async def polling(indicator: ModbusIndicator) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(indicator.run())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        # polling: the counters and collected readings have no change event to await
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def tcp_indicator(
    server: SimulatedServer, sink: Collected, register_map: RegisterMap = FLINTEC_FT112
) -> ModbusIndicator:
    return ModbusIndicator(TcpLink("127.0.0.1", server.port), register_map, sink, poll=FAST_POLL)


async def test_weight_ramp_in_motion_then_stable() -> None:
    scale, sink = ScriptedScale(DRIVE_ON), Collected()
    async with serving(scale) as server:
        indicator = tcp_indicator(server, sink)
        async with polling(indicator):
            await wait_until(lambda: len(sink.readings) >= len(DRIVE_ON) + 3)
    # one read per poll: reading i is script step i, then the last step repeats
    observed = [(r.weight, r.stable) for r in sink.readings[: len(DRIVE_ON)]]
    assert observed == [(Decimal(weight), not moving) for weight, moving in DRIVE_ON]
    assert all(r.weight == 32600 and r.stable for r in sink.readings[len(DRIVE_ON) :])
    assert all(r.kind is WeightKind.GROSS and r.unit == "kg" for r in sink.readings)
    counters = indicator.counters
    assert counters.readings == len(sink.readings)
    assert counters.timeouts == counters.connection_errors == counters.reconnects == 0
    assert scale.function_codes == {3}


async def test_a_stopped_heartbeat_withholds_readings_until_it_beats_again() -> None:
    scale, sink = ScriptedScale([(32600, False)]), Collected()
    async with serving(scale) as server:
        indicator = tcp_indicator(server, sink)
        async with polling(indicator):
            await wait_until(lambda: len(sink.readings) >= 3)
            scale.heartbeat_frozen = True
            await wait_until(lambda: indicator.counters.heartbeat_stalls == 1)
            withheld_from = len(sink.readings)
            await wait_until(lambda: indicator.counters.stale_polls >= 5)
            assert len(sink.readings) == withheld_from
            scale.heartbeat_frozen = False
            await wait_until(lambda: len(sink.readings) > withheld_from)
    assert indicator.counters.heartbeat_stalls == 1


async def test_server_restart_is_survived_with_backoff() -> None:
    scale, sink = ScriptedScale([(32600, False)]), Collected()
    async with serving(scale) as server:
        indicator = tcp_indicator(server, sink)
        async with polling(indicator) as task:
            await wait_until(lambda: len(sink.readings) >= 3)
            await server.stop()
            polls_before_outage = indicator.counters.polls
            await asyncio.sleep(0.6)
            outage_polls = indicator.counters.polls - polls_before_outage
            assert indicator.counters.connection_errors >= 2
            # at the 0.01 s poll interval this would be ~60 attempts; backoff
            # (0.02, 0.04, 0.08, 0.16, 0.2, ...) allows about 6
            assert outage_polls <= 10
            assert not task.done()
            readings_before_restart = len(sink.readings)
            await server.start()
            await wait_until(lambda: len(sink.readings) > readings_before_restart + 2)
    assert indicator.counters.reconnects == 1


async def test_an_indicator_that_stops_answering_times_out_and_recovers() -> None:
    scale, sink = ScriptedScale([(32600, False)]), Collected()
    async with serving(scale) as server:
        indicator = tcp_indicator(server, sink)
        async with polling(indicator) as task:
            await wait_until(lambda: len(sink.readings) >= 3)
            scale.answer_delay = 0.4  # twice the client timeout
            await wait_until(lambda: indicator.counters.timeouts >= 2)
            assert not task.done()
            scale.answer_delay = 0.0
            answered_before = len(sink.readings)
            await wait_until(lambda: len(sink.readings) > answered_before + 2)
    assert indicator.counters.reconnects >= 2  # a fresh connection after each timeout


async def test_a_modbus_exception_is_counted_and_polling_goes_on() -> None:
    beyond_the_device = RegisterMap.from_dict(
        {"name": "wrong map", "weight": {"address": 4}, "heartbeat_address": 40}
    )
    scale, sink = ScriptedScale([(32600, False)]), Collected()
    async with serving(scale) as server:
        indicator = tcp_indicator(server, sink, beyond_the_device)
        async with polling(indicator) as task:
            await wait_until(lambda: indicator.counters.device_exceptions >= 3)
            assert not task.done()
    assert sink.readings == []
    assert indicator.counters.reconnects == 0  # the device answered: the link is fine


async def test_input_registers_with_function_code_4() -> None:
    input_map = RegisterMap.from_dict(
        {
            "name": "input registers",
            "function_code": 4,
            "addressing": "one_based",
            "weight": {"address": 5, "data_type": "int32", "decimals": 1, "kind": "net"},
        }
    )
    scale, sink = ScriptedScale([(32605, False)], heartbeat_address=None), Collected()
    async with serving(scale) as server, polling(tcp_indicator(server, sink, input_map)):
        await wait_until(lambda: len(sink.readings) >= 2)
    assert (sink.readings[0].weight, sink.readings[0].kind) == (Decimal("3260.5"), WeightKind.NET)
    assert scale.function_codes == {4}


async def test_rtu_framing_over_a_serial_url() -> None:
    scale = ScriptedScale(
        [(32000, True), (32600, False)], layout=id551pn_layout, heartbeat_address=None
    )
    sink = Collected()
    async with serving(scale, FramerType.RTU) as server:
        link = RtuLink(url=f"socket://127.0.0.1:{server.port}")
        indicator = ModbusIndicator(link, ID551PN, sink, poll=FAST_POLL)
        async with polling(indicator):
            await wait_until(lambda: len(sink.readings) >= 3)
    assert [(r.weight, r.stable) for r in sink.readings[:3]] == [
        (Decimal(32000), False),
        (Decimal(32600), True),
        (Decimal(32600), True),
    ]
    assert indicator.counters.timeouts == indicator.counters.connection_errors == 0


async def test_a_failing_sink_is_a_bug_and_stops_the_loop() -> None:
    def broken_sink(reading: Reading, received_at: float) -> None:
        raise RuntimeError("sink bug")

    async with serving(ScriptedScale([(32600, False)])) as server:
        indicator = ModbusIndicator(
            TcpLink("127.0.0.1", server.port), FLINTEC_FT112, broken_sink, poll=FAST_POLL
        )
        with pytest.raises(RuntimeError, match="sink bug"):
            await asyncio.wait_for(indicator.run(), 5)
    assert indicator.counters.unexpected_errors == 0
