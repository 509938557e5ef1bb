from decimal import Decimal
from typing import Any

import pytest

from device_bridge.protocols import yaohua_a12e
from device_bridge.protocols.base import (
    ChecksumError,
    MalformedFrameError,
    WeightKind,
    hex_pair,
    xor_of,
)
from device_bridge.protocols.framing import Framer

# Out-of-range frames exactly as the manual (p13) spells them, XOR "23" included.
OVERLOAD_FRAME = b" " * 9 + b"OL23\r\n"
UNDERLOAD_FRAME = b" " * 9 + b"LO23\r\n"


def frame(body: bytes) -> bytes:
    """A frame around the 11 bytes 'W', kind, weight and unit, with its XOR."""
    return body + hex_pair(xor_of(body)) + b"\r\n"


def test_manual_vector_parses(frame_vectors: dict[str, Any]) -> None:
    for vector in frame_vectors["yaohua_a12e"]:
        raw = bytes.fromhex(vector["hex"])
        reading = yaohua_a12e.parse(raw)
        assert reading.weight == Decimal(str(vector["weight"]))
        assert reading.unit == vector["unit"]
        assert (reading.kind, reading.stable, reading.overload, reading.raw) == (
            WeightKind.GROSS,
            None,
            False,
            raw,
        )


@pytest.mark.parametrize(
    ("body", "kind", "weight"),
    [
        (b"WN049260 kg", WeightKind.NET, Decimal(49260)),  # no point: 7th char blank
        (b"WG-04.139kg", WeightKind.GROSS, Decimal("-4.139")),
        (b"WG0032.60kg", WeightKind.GROSS, Decimal("32.60")),
    ],
)
def test_kind_sign_and_point(body: bytes, kind: WeightKind, weight: Decimal) -> None:
    reading = yaohua_a12e.parse(frame(body))
    assert (reading.kind, reading.weight, reading.unit) == (kind, weight, "kg")
    assert reading.weight is not None
    assert reading.weight.as_tuple() == weight.as_tuple()


@pytest.mark.parametrize("raw", [OVERLOAD_FRAME, UNDERLOAD_FRAME])
def test_out_of_range_frames_carry_no_weight(raw: bytes) -> None:
    reading = yaohua_a12e.parse(raw, fallback_unit="t")
    assert (reading.weight, reading.overload, reading.unit) == (None, True, "t")


def test_checksum_is_verified() -> None:
    with pytest.raises(ChecksumError):
        yaohua_a12e.parse(b"WG004.189kg3D\r\n")


@pytest.mark.parametrize(
    "raw",
    [
        frame(b"XG004.139kg"),  # not 'W'
        frame(b"WT004.139kg"),  # neither gross nor net
        frame(b"WG00.4.39kg"),  # two points
        frame(b"WG004.139k1"),  # unit is not letters
        frame(b"WG004.139kg")[:-1] + b"\r",  # CR CR, no LF
    ],
)
def test_malformed_frames_are_rejected(raw: bytes) -> None:
    with pytest.raises(MalformedFrameError):
        yaohua_a12e.parse(raw)


def test_framer_finds_frames_by_trailer_including_out_of_range_ones() -> None:
    framer = Framer(yaohua_a12e.spec())
    # joined mid-frame: the stream starts with the tail of a frame
    stream = b"39kg3D\r\n" + frame(b"WG004.139kg") + OVERLOAD_FRAME + frame(b"WN049260 kg")
    readings = [reading for byte in stream for reading in framer.feed(bytes([byte]))]
    assert [(r.weight, r.overload) for r in readings] == [
        (Decimal("4.139"), False),
        (None, True),
        (Decimal(49260), False),
    ]
    assert framer.counters.noise_bytes == len(b"39kg3D\r\n")
    assert framer.counters.malformed_frames == 0


def test_bad_frame_between_good_ones_costs_only_itself() -> None:
    framer = Framer(yaohua_a12e.spec())
    corrupted = b"WG004.189kg3D\r\n"
    stream = frame(b"WG004.139kg") + corrupted + frame(b"WG004.140kg")
    assert [r.weight for r in framer.feed(stream)] == [Decimal("4.139"), Decimal("4.140")]
    assert framer.counters.bad_checksums == 1
    assert framer.counters.noise_bytes == 0
