from decimal import Decimal
from typing import Any

import pytest

from device_bridge.protocols import toledo
from device_bridge.protocols.base import (
    ChecksumError,
    MalformedFrameError,
    ParityError,
    WeightKind,
)
from device_bridge.protocols.framing import Framer
from device_bridge.protocols.toledo import Parity, ToledoSettings

NO_DECIMALS = 0x22  # SWA: bit 5 always set, decimal code 2
KG = 0x30  # SWB: bit 5 always set, bit 4 kg
SWC = 0x20


def frame(
    swa: int = NO_DECIMALS,
    swb: int = KG,
    weight: bytes = b"049260",
    tare: bytes = b"000000",
    *,
    checksum: bool = True,
) -> bytes:
    body = bytes((0x02, swa, swb, SWC)) + weight + tare + b"\r"
    return body + bytes(((-sum(body)) % 128,)) if checksum else body


def with_parity(data: bytes, parity: Parity) -> bytes:
    """What a 7E1/7O1 device's bytes look like to a port opened as 8N1."""
    wanted = 0 if parity is Parity.EVEN else 1
    return bytes(byte | (0x80 if byte.bit_count() % 2 != wanted else 0) for byte in data)


def test_vector_parses(frame_vectors: dict[str, Any]) -> None:
    for vector in frame_vectors["toledo_continuous"]:
        raw = bytes.fromhex(vector["hex"])
        reading = toledo.parse(raw)
        assert reading.weight == vector["displayed"]
        assert reading.tare == vector["tare"]
        assert reading.kind is (WeightKind.GROSS if vector["gross"] else WeightKind.NET)
        assert reading.stable is not vector["motion"]
        assert reading.unit == vector["unit"]
        assert reading.raw == raw


def test_status_bits() -> None:
    net_negative_moving = toledo.parse(frame(swb=KG | 0x01 | 0x02 | 0x08, weight=b"000150"))
    assert net_negative_moving.kind is WeightKind.NET
    assert net_negative_moving.weight == Decimal(-150)
    assert net_negative_moving.stable is False
    assert net_negative_moving.overload is False
    assert toledo.parse(frame(swb=KG | 0x04)).overload is True


@pytest.mark.parametrize(
    ("code", "weight"),
    [
        (0, Decimal(4926000)),
        (1, Decimal(492600)),
        (2, Decimal(49260)),
        (3, Decimal("4926.0")),
        (5, Decimal("49.260")),
        (7, Decimal("0.49260")),
    ],
)
def test_decimal_code(code: int, weight: Decimal) -> None:
    reading = toledo.parse(frame(swa=0x20 | code))
    assert reading.weight == weight
    assert str(reading.weight) == str(weight)


def test_unit_bit_is_a_device_setting() -> None:
    kg_on_bit5 = ToledoSettings(kg_bit=5)
    assert toledo.parse(frame(swb=0x20), kg_on_bit5).unit == "kg"
    assert toledo.parse(frame(swb=0x10), kg_on_bit5).unit == "lb"
    assert toledo.parse(frame(swb=0x00)).unit == "lb"
    assert toledo.parse(frame(swb=0x00), ToledoSettings(kg_bit=None, fixed_unit="t")).unit == "t"


def test_leading_blanks_read_as_zeros() -> None:
    reading = toledo.parse(frame(weight=b"  9260", tare=b"     0"))
    assert (reading.weight, reading.tare) == (Decimal(9260), Decimal(0))


def test_checksum_is_verified_when_configured() -> None:
    corrupted = bytearray(frame())
    corrupted[6] = ord("8")  # 049260 -> 048260
    with pytest.raises(ChecksumError):
        toledo.parse(bytes(corrupted))
    no_checksum = ToledoSettings(checksum=False)
    assert toledo.parse(frame(checksum=False), no_checksum).weight == 49260


@pytest.mark.parametrize(
    "raw",
    [
        frame(weight=b"04926X"),
        frame(checksum=False),  # one byte short for a device that sends the checksum
        frame()[:16] + b"\n" + frame()[17:],  # LF where CR belongs
        bytes((0x02, 0xA2)) + frame()[2:],  # bit 7 set on a device without parity
    ],
)
def test_malformed_frames_are_rejected(raw: bytes) -> None:
    with pytest.raises(MalformedFrameError):
        toledo.parse(raw)


@pytest.mark.parametrize("parity", [Parity.EVEN, Parity.ODD])
def test_seven_bit_parity_is_verified_and_stripped(parity: Parity) -> None:
    settings = ToledoSettings(parity=parity)
    framer = Framer(toledo.spec(settings))
    raw = with_parity(frame(), parity)
    corrupted = bytearray(raw)
    corrupted[5] ^= 0x80  # one parity bit flipped on the line
    readings = framer.feed(raw + bytes(corrupted) + raw)
    assert [reading.weight for reading in readings] == [49260, 49260]
    assert readings[0].raw == raw
    assert framer.counters.bad_parity == 1


def test_parity_bytes_are_not_read_as_plain_ascii() -> None:
    framer = Framer(toledo.spec())
    assert framer.feed(with_parity(frame(), Parity.EVEN) * 3) == []


def test_ignore_parity_strips_without_checking() -> None:
    raw = bytes(byte | 0x80 for byte in frame())  # mark parity
    assert toledo.parse(raw, ToledoSettings(parity=Parity.IGNORE)).weight == 49260
    with pytest.raises(ParityError):
        toledo.parse(raw, ToledoSettings(parity=Parity.EVEN))


def test_settings_reject_a_bit_outside_a_byte() -> None:
    with pytest.raises(ValueError, match="kg_bit"):
        ToledoSettings(kg_bit=8)
