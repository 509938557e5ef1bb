"""Mettler-Toledo standard continuous output and its Chinese clones.

Frame: ``STX SWA SWB SWC`` + 6 digits displayed weight + 6 digits tare + ``CR`` +
optional checksum (7-bit sum of every byte, checksum included, is 0 mod 128).

- SWA bits 0-2: decimal code, 2 = no decimals, decimals = code - 2 (0 and 1 mean
  the display counts in tens and hundreds); bits 3-4: increment (not needed here).
- SWB bit 0 net, bit 1 negative, bit 2 out of range, bit 3 motion, bit 4 kg
  (lb when clear). Clones move the kg bit: it is a per-device setting.

Clones often run 7E1: read as 8N1 each byte's bit 7 is the parity bit. With
``parity`` EVEN/ODD it is verified and stripped, IGNORE strips it unchecked, NONE
requires 7-bit bytes. Weight digits may have leading blanks instead of zeros.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import partial

from device_bridge.protocols.base import (
    ChecksumError,
    MalformedFrameError,
    ParityError,
    Reading,
    WeightKind,
    scaled,
)
from device_bridge.protocols.framing import FrameSpec

STX = 0x02
CR = 0x0D
LENGTH_WITHOUT_CHECKSUM = 17

_NET = 0x01
_NEGATIVE = 0x02
_OUT_OF_RANGE = 0x04
_MOTION = 0x08
_DECIMAL_CODE = 0x07
_NO_DECIMALS_CODE = 2


class Parity(StrEnum):
    NONE = "none"
    EVEN = "even"
    ODD = "odd"
    IGNORE = "ignore"


@dataclass(frozen=True)
class ToledoSettings:
    """Per-device settings; ``kg_bit`` None means the device has no unit bit."""

    checksum: bool = True
    parity: Parity = Parity.NONE
    kg_bit: int | None = 4
    unit_when_no_kg: str = "lb"
    fixed_unit: str = "kg"

    def __post_init__(self) -> None:
        if self.kg_bit is not None and not 0 <= self.kg_bit <= 7:
            raise ValueError(f"kg_bit {self.kg_bit} is not a bit of a status byte")

    @property
    def length(self) -> int:
        return LENGTH_WITHOUT_CHECKSUM + (1 if self.checksum else 0)


def parse(frame: bytes, settings: ToledoSettings = ToledoSettings()) -> Reading:
    data = _strip_parity(frame, settings.parity)
    if len(data) != settings.length or data[0] != STX or data[16] != CR:
        raise MalformedFrameError(f"not a {settings.length}-byte STX..CR frame: {frame!r}")
    if settings.checksum and sum(data) % 128:
        raise ChecksumError(f"7-bit sum of {frame!r} is {sum(data) % 128}, not 0")
    swa, swb = data[1], data[2]
    weight = _digits(data[4:10])
    return Reading(
        weight=_scale(-weight if swb & _NEGATIVE else weight, swa),
        unit=_unit(swb, settings),
        kind=WeightKind.NET if swb & _NET else WeightKind.GROSS,
        stable=not swb & _MOTION,
        overload=bool(swb & _OUT_OF_RANGE),
        raw=frame,
        tare=_scale(_digits(data[10:16]), swa),
    )


def spec(settings: ToledoSettings = ToledoSettings()) -> FrameSpec:
    return FrameSpec(
        length=settings.length,
        start=STX,
        parse=partial(parse, settings=settings),
        byte_mask=0xFF if settings.parity is Parity.NONE else 0x7F,
    )


def _strip_parity(frame: bytes, parity: Parity) -> bytes:
    if parity is Parity.NONE:
        if any(byte & 0x80 for byte in frame):
            raise MalformedFrameError("bit 7 set in a frame expected to be 7-bit ASCII")
        return frame
    if parity is not Parity.IGNORE:
        wanted = 0 if parity is Parity.EVEN else 1
        if any(byte.bit_count() % 2 != wanted for byte in frame):
            raise ParityError(f"{parity} parity fails in {frame!r}")
    return bytes(byte & 0x7F for byte in frame)


def _digits(field: bytes) -> int:
    digits = field.lstrip(b" ")
    if not digits.isdigit():
        raise MalformedFrameError(f"field {field!r} is not digits")
    return int(digits)


def _scale(value: int, swa: int) -> Decimal:
    return scaled(value, (swa & _DECIMAL_CODE) - _NO_DECIMALS_CODE)


def _unit(swb: int, settings: ToledoSettings) -> str:
    if settings.kg_bit is None:
        return settings.fixed_unit
    return "kg" if swb >> settings.kg_bit & 1 else settings.unit_when_no_kg
