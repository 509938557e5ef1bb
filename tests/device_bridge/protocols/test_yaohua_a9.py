from decimal import Decimal
from typing import Any

import pytest

from device_bridge.protocols import yaohua_a9
from device_bridge.protocols.base import (
    ChecksumError,
    MalformedFrameError,
    WeightKind,
    hex_pair,
    xor_of,
)
from device_bridge.protocols.framing import Framer
from device_bridge.protocols.yaohua_a9 import Command

# The frame a real reader once misread: 3260 kg, XOR 1C.
MISREAD_FRAME = b"\x02+00326001C\x03"


def continuous_frame(field: bytes) -> bytes:
    """A continuous frame around sign + 6 digits + decimals, with its XOR."""
    return b"\x02" + field + hex_pair(xor_of(field)) + b"\x03"


def reply_frame(address: bytes, command: bytes, field: bytes) -> bytes:
    """A reply in the assumed layout (constructed, not captured from hardware)."""
    covered = address + command + field
    return b"\x02" + covered + hex_pair(xor_of(covered)) + b"\x03"


def test_continuous_vectors_parse_to_their_weights(frame_vectors: dict[str, Any]) -> None:
    for vector in frame_vectors["yaohua_a9_continuous"]:
        frame = bytes.fromhex(vector["hex"])
        reading = yaohua_a9.parse_continuous(frame)
        assert reading.weight == Decimal(vector["weight"]), vector["source"]
        assert reading.raw == frame
        assert (reading.unit, reading.kind, reading.stable, reading.overload) == (
            "kg",
            None,
            None,
            False,
        )


def test_the_misread_frame_is_3260_kg() -> None:
    reading = yaohua_a9.parse_continuous(MISREAD_FRAME)
    assert reading.weight == Decimal(3260)
    assert str(reading.weight) == "3260"


def test_the_misread_frame_is_found_whole_in_a_stream() -> None:
    framer = Framer(yaohua_a9.continuous_spec())
    stream = continuous_frame(b"+0000000") + MISREAD_FRAME + continuous_frame(b"+0032800")
    readings = [reading for byte in stream for reading in framer.feed(bytes([byte]))]
    assert [reading.weight for reading in readings] == [0, 3260, 3280]
    assert framer.counters.noise_bytes == framer.counters.malformed_frames == 0


@pytest.mark.parametrize("position", range(1, 9))
def test_any_changed_byte_fails_the_xor(position: int) -> None:
    corrupted = bytearray(MISREAD_FRAME)
    # XOR 0x06 turns '+' into '-' and a digit into another digit (the decimals
    # into '6'): only the checksum can tell
    corrupted[position] ^= 0x06
    with pytest.raises(ChecksumError):
        yaohua_a9.parse_continuous(bytes(corrupted))


@pytest.mark.parametrize(
    ("field", "weight"),
    [
        (b"+0041393", Decimal("4.139")),
        (b"-0015021", Decimal("-150.2")),
        (b"+0492600", Decimal(49260)),
        (b"+0000004", Decimal("0.0000")),
        (b"-0000000", Decimal(0)),
    ],
)
def test_sign_and_decimals_place_the_point(field: bytes, weight: Decimal) -> None:
    reading = yaohua_a9.parse_continuous(continuous_frame(field))
    assert reading.weight == weight
    assert reading.weight is not None
    assert reading.weight.as_tuple() == weight.as_tuple()


@pytest.mark.parametrize(
    "frame",
    [
        continuous_frame(b" 0032600"),  # no sign
        continuous_frame(b"+00326A0"),  # a letter among the digits
        continuous_frame(b"+0032605"),  # five decimals do not exist
        b"\x02+00326001c\x03",  # the manual sends uppercase hex
        MISREAD_FRAME[:-1] + b"\x04",  # wrong end byte
        MISREAD_FRAME + b"\x03",  # wrong length
    ],
)
def test_malformed_frames_are_rejected(frame: bytes) -> None:
    with pytest.raises(MalformedFrameError):
        yaohua_a9.parse_continuous(frame)


def test_requests_match_the_vectors(frame_vectors: dict[str, Any]) -> None:
    expected = frame_vectors["yaohua_a9_command_requests"]
    assert yaohua_a9.build_request(1, Command.HANDSHAKE).hex() == expected["handshake_addr1"]
    assert yaohua_a9.build_request(1, Command.GROSS).hex() == expected["read_gross_addr1"]
    assert yaohua_a9.build_request(1, Command.TARE).hex() == expected["read_tare_addr1"]
    assert yaohua_a9.build_request(1, Command.NET).hex() == expected["read_net_addr1"]


def test_request_addresses_run_from_a_to_z() -> None:
    assert yaohua_a9.build_request(2, Command.GROSS) == b"\x02BB00\x03"
    assert yaohua_a9.build_request(26, Command.NET)[1:3] == b"ZD"
    for address in (0, 27):
        with pytest.raises(ValueError, match="outside"):
            yaohua_a9.build_request(address, Command.GROSS)


@pytest.mark.parametrize(
    ("command", "kind"),
    [(b"B", WeightKind.GROSS), (b"C", WeightKind.TARE), (b"D", WeightKind.NET)],
)
def test_replies_carry_the_requested_kind(command: bytes, kind: WeightKind) -> None:
    reading = yaohua_a9.parse_reply(reply_frame(b"A", command, b"+0326000"), address=1)
    assert (reading.weight, reading.kind, reading.stable) == (Decimal(32600), kind, None)


def test_reply_xor_covers_address_and_command() -> None:
    frame = bytearray(reply_frame(b"A", b"B", b"+0326000"))
    frame[2] = ord("D")  # net instead of gross, XOR left as it was
    with pytest.raises(ChecksumError):
        yaohua_a9.parse_reply(bytes(frame))


@pytest.mark.parametrize(
    ("frame", "address"),
    [
        (reply_frame(b"B", b"B", b"+0326000"), 1),  # another indicator on the line
        (reply_frame(b"A", b"A", b"+0326000"), None),  # handshake carries no weight
        (reply_frame(b"a", b"B", b"+0326000"), None),  # not an address
    ],
)
def test_replies_that_are_not_ours_are_rejected(frame: bytes, address: int | None) -> None:
    with pytest.raises(MalformedFrameError):
        yaohua_a9.parse_reply(frame, address=address)


def test_reply_framer_cuts_replies_from_a_stream() -> None:
    framer = Framer(yaohua_a9.reply_spec(address=1))
    gross, tare = reply_frame(b"A", b"B", b"+0326000"), reply_frame(b"A", b"C", b"+0140000")
    assert [(r.kind, r.weight) for r in framer.feed(b"\x00\xff" + gross + tare)] == [
        (WeightKind.GROSS, Decimal(32600)),
        (WeightKind.TARE, Decimal(14000)),
    ]
    assert framer.counters.noise_bytes == 2
