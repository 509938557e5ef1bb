"""What every indicator protocol produces, and how a parser says a frame is bad."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import reduce


class WeightKind(StrEnum):
    GROSS = "gross"
    NET = "net"
    TARE = "tare"


@dataclass(frozen=True, slots=True)
class Reading:
    """One weight as an indicator reported it.

    - ``weight`` is in the indicator's ``unit``, with the indicator's decimals kept
      exactly (Decimal, never float). It is None only for an out-of-range frame
      that carries no value, so ``weight is None`` implies ``overload``.
    - ``kind`` is None when the frame does not say whether it is gross or net.
    - ``stable`` is None when the protocol carries no stability flag: infer it
      with :mod:`device_bridge.stability`.
    - ``overload`` means the indicator flagged the weight as out of range
      (over capacity; Toledo's bit and the A12(E) ``LO`` frame also cover under-range).
    - ``raw`` is the frame exactly as received; ``tare`` is set by protocols that
      send it alongside the weight.
    """

    weight: Decimal | None
    unit: str
    kind: WeightKind | None
    stable: bool | None
    overload: bool
    raw: bytes
    tare: Decimal | None = None

    def __post_init__(self) -> None:
        if self.weight is None and not self.overload:
            raise ValueError("a reading without a weight must be flagged out of range")


# Receives each reading with the monotonic time it was completed.
ReadingSink = Callable[[Reading, float], None]


class FrameError(ValueError):
    """A candidate frame that must not become a reading."""


class MalformedFrameError(FrameError):
    """The bytes do not have the protocol's layout (wrong delimiters or fields)."""


class ChecksumError(FrameError):
    """The layout is right but the checksum does not match: a corrupted frame."""


class ParityError(FrameError):
    """A byte's parity bit is wrong (7E1/7O1 devices read as 8N1)."""


_UPPER_HEX = b"0123456789ABCDEF"


def xor_of(data: bytes) -> int:
    return reduce(lambda acc, byte: acc ^ byte, data, 0)


def hex_pair(value: int) -> bytes:
    """``value`` (0-255) as two uppercase ASCII hex digits, high nibble first."""
    return b"%02X" % value


def parse_hex_pair(chars: bytes) -> int:
    """The inverse of :func:`hex_pair`; anything else is a malformed frame."""
    if len(chars) != 2 or any(char not in _UPPER_HEX for char in chars):
        raise MalformedFrameError(f"checksum characters {chars!r} are not uppercase hex")
    return int(chars, 16)


def check_xor(covered: bytes, check_chars: bytes) -> None:
    expected = parse_hex_pair(check_chars)
    actual = xor_of(covered)
    if actual != expected:
        raise ChecksumError(f"XOR is {actual:02X}, frame says {expected:02X}")


def scaled(value: int, decimals: int) -> Decimal:
    """``value`` with the decimal point moved ``decimals`` places left (right if negative)."""
    if decimals < 0:
        # scaleb would give 4.926E+5; whole numbers should print as whole numbers
        return Decimal(value * 10**-decimals)
    return Decimal(value).scaleb(-decimals)
