"""Readers for configured indicators: the protocol's framer on a serial port, or Modbus."""

from dataclasses import asdict, replace
from typing import Any

from device_bridge.config import Device, ModbusDevice, SerialDevice, SerialProtocol
from device_bridge.modbus import ModbusIndicator
from device_bridge.protocols import toledo, yaohua_a9, yaohua_a12e
from device_bridge.protocols.base import ReadingSink
from device_bridge.protocols.framing import Framer, FrameSpec
from device_bridge.serial_port import SerialIndicator


def frame_spec(device: SerialDevice) -> FrameSpec:
    protocol = device.protocol
    if protocol is SerialProtocol.YAOHUA_A9:
        return yaohua_a9.continuous_spec(unit=device.unit)
    if protocol is SerialProtocol.YAOHUA_A9_COMMAND:
        return yaohua_a9.reply_spec(address=device.address, unit=device.unit)
    if protocol is SerialProtocol.YAOHUA_A12E:
        return yaohua_a12e.spec(fallback_unit=device.unit)
    return toledo.spec(device.toledo)


def build_reader(device: Device, sink: ReadingSink) -> SerialIndicator | ModbusIndicator:
    if isinstance(device, ModbusDevice):
        return ModbusIndicator(device.link, device.register_map, sink, poll=device.poll)
    settings = device.serial
    if device.protocol is SerialProtocol.YAOHUA_A9_COMMAND:
        request = yaohua_a9.build_request(device.address, yaohua_a9.Command.GROSS)
        settings = replace(settings, poll_request=request)
    return SerialIndicator(settings, Framer(frame_spec(device)), sink)


def reader_counters(reader: SerialIndicator | ModbusIndicator) -> dict[str, Any]:
    """Link and framing counters, for the heartbeat."""
    if isinstance(reader, ModbusIndicator):
        return asdict(reader.counters)
    return asdict(reader.counters) | asdict(reader.framer.counters)


def protocol_name(device: Device) -> str:
    return device.protocol if isinstance(device, ModbusDevice) else device.protocol.value
