"""Yaohua XK3190-A12(E) continuous output, 15 bytes ending in CR LF.

Normal frame (manual p13)::

    'W' | 'G' gross or 'N' net | 7 chars weight with point | unit 'kg' | XOR hi lo | CR LF

e.g. ``WG004.139kg3D`` = 4.139 kg. Without a decimal point the 7th weight char is
a blank; a negative weight has '-' as its first char. The XOR covers bytes 1-11.
Out of range the indicator sends nine blanks then ``OL`` (over capacity) or ``LO``
(below -20 divisions), same XOR and trailer. These frames do not start with 'W',
so frames are found by their CR LF trailer.
"""

import re
from decimal import Decimal
from functools import partial

from device_bridge.protocols.base import MalformedFrameError, Reading, WeightKind, check_xor
from device_bridge.protocols.framing import FrameSpec

LENGTH = 15
TRAILER = b"\r\n"
_OUT_OF_RANGE_BODIES = (b" " * 9 + b"OL", b" " * 9 + b"LO")
_KINDS = {ord("G"): WeightKind.GROSS, ord("N"): WeightKind.NET}
_WEIGHT = re.compile(rb" *(-?[0-9]+(?:\.[0-9]+)?) *")
_UNIT = re.compile(rb"[A-Za-z]+ *")


def parse(frame: bytes, fallback_unit: str = "kg") -> Reading:
    """Parse one frame; ``fallback_unit`` labels OL/LO frames, which carry no unit."""
    if len(frame) != LENGTH or not frame.endswith(TRAILER):
        raise MalformedFrameError(f"not a {LENGTH}-byte frame ending in CR LF: {frame!r}")
    body = frame[:11]
    check_xor(body, frame[11:13])
    if body in _OUT_OF_RANGE_BODIES:
        return Reading(
            weight=None, unit=fallback_unit, kind=None, stable=None, overload=True, raw=frame
        )
    return Reading(
        weight=_weight(body[2:9]),
        unit=_unit(body[9:11]),
        kind=_kind(body),
        stable=None,
        overload=False,
        raw=frame,
    )


def spec(fallback_unit: str = "kg") -> FrameSpec:
    return FrameSpec(length=LENGTH, end=TRAILER, parse=partial(parse, fallback_unit=fallback_unit))


def _kind(body: bytes) -> WeightKind:
    if body[0] != ord("W") or body[1] not in _KINDS:
        raise MalformedFrameError(f"frame starts {body[:2]!r}, expected WG or WN")
    return _KINDS[body[1]]


def _weight(field: bytes) -> Decimal:
    match = _WEIGHT.fullmatch(field)
    if match is None:
        raise MalformedFrameError(f"weight field {field!r} is not a number")
    return Decimal(match.group(1).decode("ascii"))


def _unit(field: bytes) -> str:
    if _UNIT.fullmatch(field) is None:
        raise MalformedFrameError(f"unit field {field!r} is not letters")
    return field.decode("ascii").rstrip()
