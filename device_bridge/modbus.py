"""Polling a Modbus indicator (TCP, or RTU on a serial line) for readings.

The only module that imports pymodbus: it is pinned to 3.16 because its API
breaks between minor versions. Register layout is data (:mod:`register_map`).

The polling loop owns retrying: pymodbus is told not to retry or reconnect by
itself, so every timeout and refused connection is counted here and followed by
exponential backoff, and nothing raised by the device or the network escapes.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum, auto
from typing import cast

from pymodbus import FramerType, ModbusException
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient, ModbusBaseClient
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from device_bridge.backoff import Backoff, BackoffPolicy
from device_bridge.protocols.base import ReadingSink
from device_bridge.register_map import RegisterMap, UnusableRegistersError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TcpLink:
    host: str
    port: int = 502


@dataclass(frozen=True)
class RtuLink:
    """RTU framing over a serial device, or any pyserial URL (``socket://host:port``
    for an RS-485-to-Ethernet converter in transparent mode)."""

    url: str
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1


ModbusLink = TcpLink | RtuLink


@dataclass(frozen=True)
class PollSettings:
    """``heartbeat_timeout``: how long an unchanged heartbeat register is believed."""

    interval: float = 0.2
    timeout: float = 1.0
    backoff: BackoffPolicy = field(default_factory=lambda: BackoffPolicy(0.2, 10.0))
    heartbeat_timeout: float = 3.0


@dataclass
class ModbusCounters:
    polls: int = 0
    readings: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    disconnects: int = 0
    reconnects: int = 0
    device_exceptions: int = 0
    unusable_data: int = 0
    unexpected_errors: int = 0
    heartbeat_stalls: int = 0
    # polls whose data was withheld because the heartbeat had stopped
    stale_polls: int = 0


class DeviceExceptionError(ModbusException):
    """The device answered with a Modbus exception (e.g. illegal data address)."""


class ModbusIndicator:
    """Polls one indicator and hands each reading to ``sink``."""

    def __init__(
        self,
        link: ModbusLink,
        register_map: RegisterMap,
        sink: ReadingSink,
        *,
        poll: PollSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.link = link
        self.register_map = register_map
        self.poll = poll or PollSettings()
        self.counters = ModbusCounters()
        self._sink = sink
        self._clock = clock
        self._backoff = Backoff(self.poll.backoff)
        self._client: ModbusBaseClient | None = None
        self._has_connected = False
        self._failing = False
        self._heartbeat = _HeartbeatWatch(self.poll.heartbeat_timeout)

    async def run(self) -> None:
        """Poll until cancelled. Device and network failures are counted and retried
        with backoff, never raised; an exception from the sink propagates."""
        try:
            while True:
                answered = await self._poll_once()
                await asyncio.sleep(self.poll.interval if answered else self._backoff.next_delay())
        finally:
            self._drop_client()

    async def _poll_once(self) -> bool:
        # False when the device did not answer usefully: the caller backs off
        self.counters.polls += 1
        try:
            registers = await self._read_block()
        except Exception as exc:  # the loop must survive anything the link throws at it
            self._count_failure(exc)
            return False
        if self._failing:
            logger.info("%s answers again", self.link)
            self._failing = False
        self._backoff.reset()
        self._handle(registers, self._clock())
        return True

    async def _read_block(self) -> Sequence[int]:
        client = await self._connected_client()
        register_map = self.register_map
        read = (
            client.read_holding_registers
            if register_map.function_code == 3
            else client.read_input_registers
        )
        response = await read(
            register_map.block_start,
            count=register_map.block_count,
            device_id=register_map.device_id,
        )
        if response.isError():
            raise DeviceExceptionError(f"exception code {response.exception_code}")
        return response.registers

    async def _connected_client(self) -> ModbusBaseClient:
        if self._client is not None and not self._client.connected:
            self.counters.disconnects += 1
            self._drop_client()
        if self._client is None:
            client = self._new_client()
            if not await client.connect():
                client.close()
                raise ConnectionException(f"cannot connect to {self.link}")
            if self._has_connected:
                self.counters.reconnects += 1
                logger.info("reconnected to %s", self.link)
            self._has_connected = True
            self._client = client
        return self._client

    def _new_client(self) -> ModbusBaseClient:
        # retries=0, reconnect_delay=0: this loop retries, backs off and counts
        link, timeout = self.link, self.poll.timeout
        if isinstance(link, TcpLink):
            return AsyncModbusTcpClient(
                link.host, port=link.port, timeout=timeout, retries=0, reconnect_delay=0
            )
        return AsyncModbusSerialClient(
            link.url,
            framer=FramerType.RTU,
            baudrate=link.baudrate,
            bytesize=link.bytesize,
            parity=link.parity,
            stopbits=link.stopbits,
            timeout=timeout,
            retries=0,
            reconnect_delay=0,
        )

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _count_failure(self, exc: Exception) -> None:
        counters = self.counters
        if isinstance(exc, DeviceExceptionError):
            counters.device_exceptions += 1
        elif isinstance(exc, ModbusIOException | TimeoutError):
            counters.timeouts += 1
        elif isinstance(exc, ConnectionException | OSError):
            counters.connection_errors += 1
        else:
            counters.unexpected_errors += 1
            logger.exception("unexpected failure polling %s", self.link)
        if not isinstance(exc, DeviceExceptionError):
            # A late answer to a timed-out request would be taken for the next one's:
            # start again on a fresh connection.
            self._drop_client()
        # one warning per outage, not one per retry
        log = logger.debug if self._failing else logger.warning
        log("poll of %s failed: %r", self.link, exc)
        self._failing = True

    def _handle(self, registers: Sequence[int], now: float) -> None:
        register_map = self.register_map
        heartbeat = self._heartbeat.check(register_map.heartbeat(registers), now)
        if heartbeat is not _Heartbeat.ALIVE:
            if heartbeat is _Heartbeat.JUST_STOPPED:
                self.counters.heartbeat_stalls += 1
                logger.warning("heartbeat of %s stopped: withholding readings", self.link)
            self.counters.stale_polls += 1
            return
        try:
            reading = register_map.decode(registers)
        except UnusableRegistersError as exc:
            self.counters.unusable_data += 1
            logger.debug("unusable registers from %s: %s", self.link, exc)
            return
        self.counters.readings += 1
        self._sink(reading, now)


class _Heartbeat(Enum):
    ALIVE = auto()
    JUST_STOPPED = auto()
    STOPPED = auto()


class _HeartbeatWatch:
    """A heartbeat register that stops changing means the data behind it is frozen."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._last: int | None = None
        self._changed_at = 0.0
        self._stopped = False

    def check(self, beat: int | None, now: float) -> _Heartbeat:
        if beat is None or beat != self._last:
            self._last, self._changed_at, self._stopped = beat, now, False
            return _Heartbeat.ALIVE
        if now - self._changed_at <= self._timeout:
            return _Heartbeat.ALIVE
        was_stopped, self._stopped = self._stopped, True
        return _Heartbeat.STOPPED if was_stopped else _Heartbeat.JUST_STOPPED


class SimulatedIndicator:
    """A Modbus server playing an indicator with ``register_map``: for tests, demos and
    commissioning without hardware. Set :attr:`weight`, :attr:`stable` and
    :attr:`overload` at any time; every read sees them, and bumps the heartbeat
    register unless :attr:`heartbeat_frozen`. ``rtu`` frames it as RTU over TCP (for
    ``socket://`` URLs). Restarting reuses the first start's port."""

    def __init__(
        self,
        register_map: RegisterMap,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rtu: bool = False,
    ) -> None:
        self.register_map = register_map
        self.weight = Decimal(0)
        self.stable = True
        self.overload = False
        self.heartbeat_frozen = False
        self.reads = 0
        self.host, self.port = host, port
        self._framer = FramerType.RTU if rtu else FramerType.SOCKET
        self._heartbeat = 0
        size = register_map.block_start + register_map.block_count
        registers = SimData(address=0, count=size, values=0, datatype=DataType.REGISTERS)
        self._device = SimDevice(id=register_map.device_id, simdata=[registers], action=self._read)
        self._server: ModbusTcpServer | None = None

    async def start(self) -> None:
        server = ModbusTcpServer(self._device, address=(self.host, self.port), framer=self._framer)
        await server.serve_forever(background=True)
        # listening, the transport is the asyncio.Server, which knows the bound port
        self.port = cast("asyncio.Server", server.transport).sockets[0].getsockname()[1]
        self._server = server

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None

    async def _read(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> None:
        self.reads += 1
        if not self.heartbeat_frozen:
            self._heartbeat += 1
        encoded = self.register_map.encode(
            self.weight, stable=self.stable, overload=self.overload, heartbeat=self._heartbeat
        )
        for wire_address, value in encoded.items():
            registers[wire_address - start_address] = value
