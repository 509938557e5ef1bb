"""Yaohua XK3190-A9 / A9+ serial output, continuous (tF=0) and command mode (tF=1).

Continuous frame, 12 bytes, 8N1::

    02 | sign | 6 digits, most significant first | decimals '0'..'4' | XOR hi lo | 03

The XOR covers sign, digits and decimals (bytes 2-9) and is sent as two uppercase
ASCII hex digits. The frame says neither gross/net nor stable: stability must be
inferred (:mod:`device_bridge.stability`).

Command mode: the host sends ``02 addr cmd XOR-hi XOR-lo 03`` (addr 'A'..'Z' for
1..26, XOR over addr and cmd).
"""

from decimal import Decimal
from enum import StrEnum
from functools import partial

from device_bridge.protocols.base import (
    MalformedFrameError,
    Reading,
    WeightKind,
    check_xor,
    hex_pair,
    scaled,
    xor_of,
)
from device_bridge.protocols.framing import FrameSpec

STX = 0x02
ETX = 0x03
CONTINUOUS_LENGTH = 12
REPLY_LENGTH = 14
MAX_ADDRESS = 26


class Command(StrEnum):
    HANDSHAKE = "A"
    GROSS = "B"
    TARE = "C"
    NET = "D"


_KIND_BY_COMMAND = {
    Command.GROSS: WeightKind.GROSS,
    Command.TARE: WeightKind.TARE,
    Command.NET: WeightKind.NET,
}


def parse_continuous(frame: bytes, unit: str = "kg") -> Reading:
    """Parse one continuous-mode frame; the unit is the indicator's configured one."""
    _check_delimiters(frame, CONTINUOUS_LENGTH)
    check_xor(frame[1:9], frame[9:11])
    return Reading(
        weight=_signed_weight(frame[1:9]),
        unit=unit,
        kind=None,
        stable=None,
        overload=False,
        raw=frame,
    )


def continuous_spec(unit: str = "kg") -> FrameSpec:
    return FrameSpec(
        length=CONTINUOUS_LENGTH, start=STX, parse=partial(parse_continuous, unit=unit)
    )


def build_request(address: int, command: Command) -> bytes:
    """The command-mode request asking indicator ``address`` (1..26) for ``command``."""
    if not 1 <= address <= MAX_ADDRESS:
        raise ValueError(f"indicator address {address} is outside 1..{MAX_ADDRESS}")
    body = bytes((ord("A") + address - 1, ord(command)))
    return bytes((STX,)) + body + hex_pair(xor_of(body)) + bytes((ETX,))


def parse_reply(frame: bytes, *, address: int | None = None, unit: str = "kg") -> Reading:
    """Parse a command-mode reply to a gross, tare or net request (14 bytes).

    ASSUMPTION to confirm on hardware: the layout comes from the manual's
    description, not from a captured frame::

        02 | addr | cmd | sign | 6 digits | decimals | XOR hi lo | 03

    with the XOR over addr .. decimals. A handshake reply (cmd 'A') carries no
    weight (6 bytes per the A9+ manual) and is not handled here. Replies from
    another ``address`` on a shared RS-485 line are rejected as malformed.
    """
    _check_delimiters(frame, REPLY_LENGTH)
    check_xor(frame[1:11], frame[11:13])
    _check_address(frame[1], address)
    kind = _weight_kind(frame[2])
    return Reading(
        weight=_signed_weight(frame[3:11]),
        unit=unit,
        kind=kind,
        stable=None,
        overload=False,
        raw=frame,
    )


def reply_spec(*, address: int | None = None, unit: str = "kg") -> FrameSpec:
    return FrameSpec(
        length=REPLY_LENGTH, start=STX, parse=partial(parse_reply, address=address, unit=unit)
    )


def _check_delimiters(frame: bytes, length: int) -> None:
    if len(frame) != length or frame[0] != STX or frame[-1] != ETX:
        raise MalformedFrameError(f"not a {length}-byte STX..ETX frame: {frame!r}")


def _check_address(address_char: int, expected: int | None) -> None:
    if not ord("A") <= address_char < ord("A") + MAX_ADDRESS:
        raise MalformedFrameError(f"address character {address_char:#04x} is not A..Z")
    if expected is not None and address_char != ord("A") + expected - 1:
        raise MalformedFrameError(f"reply from address {chr(address_char)}, expected {expected}")


def _weight_kind(command_char: int) -> WeightKind:
    try:
        return _KIND_BY_COMMAND[Command(chr(command_char))]
    except (ValueError, KeyError):
        raise MalformedFrameError(f"command {chr(command_char)!r} carries no weight") from None


def _signed_weight(field: bytes) -> Decimal:
    """Sign, six digits and a decimals digit, e.g. ``+0032600`` -> 3260."""
    sign, digits, decimals = field[0], field[1:7], field[7]
    if sign not in b"+-" or not digits.isdigit() or decimals not in b"01234":
        raise MalformedFrameError(f"weight field {field!r} is not sign, 6 digits, decimals")
    value = int(digits)
    return scaled(-value if sign == ord("-") else value, decimals - ord("0"))
