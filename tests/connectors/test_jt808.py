"""JT/T 808 codec: the shared vectors, round trips, the stream splitter, every failure."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import jt808
from connectors.jt808 import (
    BEIJING,
    FLAG,
    Authentication,
    Extra,
    GeneralReply,
    Header,
    Heartbeat,
    JT808DecodeError,
    LoadState,
    Location,
    LocationBatch,
    MsgId,
    Registration,
    RegistrationReply,
    Split,
)

VECTORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors" / "frames.json"
PROPERTY = settings(derandomize=True, database=None, max_examples=300, deadline=None)

PHONE = "013912345678"
WUHAI_TIME = datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)


@pytest.fixture(scope="module")
def location_vectors() -> list[dict[str, Any]]:
    if not VECTORS.exists():
        pytest.skip(f"shared test vectors not found at {VECTORS}")
    vectors: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))["jt808_0200"]
    return vectors


def location(**changes: Any) -> Location:
    fields: dict[str, Any] = {
        "alarm": 0,
        "status": 0b10,
        "latitude": 39.654321,
        "longitude": 106.812345,
        "altitude_m": 1090,
        "speed_kmh": 45.5,
        "direction": 270,
        "time": WUHAI_TIME,
        "extras": (Extra(0x01, (123456).to_bytes(4, "big")), Extra(0x31, b"\x0c")),
    }
    return Location(**(fields | changes))


def frame(msg_id: int, body: bytes, **header: Any) -> bytes:
    return jt808.encode_frame(Header(msg_id=msg_id, phone=PHONE, seq=7, **header), body)


def raw_frame(packet: bytes) -> bytes:
    """A frame around any packet, valid checksum and escapes, header not checked."""
    return FLAG + jt808.escape(packet + bytes([jt808.checksum(packet)])) + FLAG


def header_2013(msg_id: int, attributes: int) -> bytes:
    return (
        msg_id.to_bytes(2, "big") + attributes.to_bytes(2, "big") + bytes.fromhex(PHONE) + b"\0\7"
    )


# ---- the shared vectors ----------------------------------------------------------------


def test_first_vector_decodes_every_listed_field(location_vectors: list[dict[str, Any]]) -> None:
    vector = location_vectors[0]
    raw = bytes.fromhex(vector["hex"])
    assert b"\x7d\x01" in raw
    assert b"\x7d\x02" in raw  # the vector exercises both escapes

    decoded = jt808.decode_frame(raw)
    body = jt808.decode_body(decoded)

    assert decoded.header == Header(msg_id=MsgId.LOCATION, phone=vector["phone"], seq=vector["seq"])
    assert isinstance(body, Location)
    assert (body.alarm, body.status) == (vector["alarm"], vector["status"])
    assert (body.latitude, body.longitude) == (vector["lat"], vector["lon"])
    assert body.altitude_m == vector["alt_m"]
    assert round(body.speed_kmh * 10) == vector["speed_raw"]
    assert body.direction == vector["dir"]
    local_time = datetime.strptime(vector["time"], "%y%m%d%H%M%S").replace(tzinfo=BEIJING)
    assert body.time == local_time
    assert body.time.tzinfo is UTC
    assert body.time == datetime(2018, 10, 15, 2, 10, 10, tzinfo=UTC)
    assert {f"0x{e.id:02x}": e.value.hex() for e in body.extras} == vector["extras"]
    assert (body.mileage_km, body.fuel_l) == (10.0, 12.5)


def test_second_vector_header(location_vectors: list[dict[str, Any]]) -> None:
    vector = location_vectors[1]
    decoded = jt808.decode_frame(bytes.fromhex(vector["hex"]))
    assert (decoded.header.phone, decoded.header.seq) == (vector["phone"], vector["seq"])
    assert isinstance(jt808.decode_body(decoded), Location)


def test_vectors_encode_back_byte_for_byte(location_vectors: list[dict[str, Any]]) -> None:
    for vector in location_vectors:
        decoded = jt808.decode_frame(bytes.fromhex(vector["hex"]))
        body = jt808.decode_location(decoded.body)
        encoded = jt808.encode_frame(decoded.header, jt808.encode_location(body))
        assert encoded.hex().upper() == vector["hex"]


# ---- framing ---------------------------------------------------------------------------


def test_escape_follows_the_standard_example() -> None:
    assert jt808.escape(bytes.fromhex("307e087d55")) == bytes.fromhex("307d02087d0155")
    assert jt808.unescape(bytes.fromhex("307d02087d0155")) == bytes.fromhex("307e087d55")


def test_2019_header_with_split_fields_round_trips() -> None:
    header = Header(
        msg_id=MsgId.LOCATION,
        phone="00000000013912345678",
        seq=65535,
        protocol_version=1,
        split=Split(total=3, index=2),
    )
    decoded = jt808.decode_frame(jt808.encode_frame(header, b"\x7e\x7d" * 10))
    assert decoded == jt808.Frame(header, b"\x7e\x7d" * 10)


def test_short_phone_is_left_padded_with_zeros() -> None:
    encoded = jt808.encode_frame(Header(MsgId.HEARTBEAT, "13912345678", 1), b"")
    assert jt808.decode_frame(encoded).header.phone == "013912345678"


@PROPERTY
@given(body=st.binary(max_size=0x3FF), seq=st.integers(0, 0xFFFF), v2019=st.booleans())
def test_any_body_survives_escaping_and_splitting(body: bytes, seq: int, v2019: bool) -> None:
    header = Header(0x0F00, PHONE.rjust(20 if v2019 else 12, "0"), seq, 1 if v2019 else None)
    encoded = jt808.encode_frame(header, body)
    frames, rest, dropped = jt808.split_frames(b"\x00garbage" + encoded + encoded[:5])
    assert (frames, rest, dropped) == ([encoded], encoded[:5], 8)
    assert jt808.decode_frame(frames[0]) == jt808.Frame(header, body)


# ---- 0x0200 and 0x0704 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bits", "state"),
    [
        (0b00, LoadState.EMPTY),
        (0b01, LoadState.HALF),
        (0b10, LoadState.RESERVED),
        (0b11, LoadState.FULL),
    ],
)
def test_load_state_is_status_bits_8_and_9(bits: int, state: LoadState) -> None:
    decoded = jt808.decode_location(jt808.encode_location(location(status=bits << 8)))
    assert decoded.load_state is state
    assert not decoded.positioned


def test_south_and_west_bits_sign_the_coordinates() -> None:
    body = jt808.encode_location(location(latitude=-33.86, longitude=-70.65))
    status = int.from_bytes(body[4:8], "big")
    assert status & 0b1100 == 0b1100
    decoded = jt808.decode_location(body)
    assert (decoded.latitude, decoded.longitude) == (-33.86, -70.65)
    assert decoded.positioned


def test_unknown_extras_are_kept_raw_and_known_ones_decoded() -> None:
    extras = (
        Extra(0x25, b"\x00\x00\x00\x01"),
        Extra(0x01, (98765).to_bytes(4, "big")),
        Extra(0x02, (4321).to_bytes(2, "big")),
        Extra(0x2B, b"\x01\x02\x03\x04"),
        Extra(0x30, b"\x1f"),
        Extra(0x31, b"\x09"),
        Extra(0xE1, b""),
    )
    decoded = jt808.decode_location(jt808.encode_location(location(extras=extras)))
    assert decoded.extras == extras
    assert (decoded.mileage_km, decoded.fuel_l, decoded.rssi, decoded.satellites) == (
        9876.5,
        432.1,
        31,
        9,
    )
    assert decoded.extra_value(0x2B) == b"\x01\x02\x03\x04"


def test_known_extra_with_odd_length_reads_as_absent() -> None:
    decoded = jt808.decode_location(
        jt808.encode_location(location(extras=(Extra(0x01, b"\x01\x02"),)))
    )
    assert decoded.mileage_km is None
    assert decoded.extra_value(0x01) == b"\x01\x02"


def test_batch_round_trips_through_a_frame() -> None:
    batch = LocationBatch(kind=1, locations=(location(), location(speed_kmh=0.0, extras=())))
    decoded = jt808.decode_body(
        jt808.decode_frame(frame(MsgId.LOCATION_BATCH, jt808.encode_location_batch(batch)))
    )
    assert decoded == batch


# mirrors the decoder: a south/west bit on a zero coordinate reads as -0.0
locations = st.builds(
    lambda alarm, status, lat, lon, alt, speed, direction, time, extras: Location(
        alarm=alarm,
        status=status,
        latitude=-(lat / 1e6) if status & 0b100 else lat / 1e6,
        longitude=-(lon / 1e6) if status & 0b1000 else lon / 1e6,
        altitude_m=alt,
        speed_kmh=speed / 10,
        direction=direction,
        time=time,
        extras=tuple(Extra(i, v) for i, v in extras),
    ),
    alarm=st.integers(0, 0xFFFFFFFF),
    status=st.integers(0, 0xFFFFFFFF),
    lat=st.integers(0, 90_000_000),
    lon=st.integers(0, 180_000_000),
    alt=st.integers(0, 0xFFFF),
    speed=st.integers(0, 0xFFFF),
    direction=st.integers(0, 0xFFFF),
    time=st.datetimes(
        min_value=datetime(2000, 1, 1, 0, 0, 0),
        max_value=datetime(2099, 12, 31, 15, 59, 59),
        timezones=st.just(UTC),
    ).map(lambda moment: moment.replace(microsecond=0)),
    extras=st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=12)), max_size=6),
)


@PROPERTY
@given(value=locations)
def test_location_bodies_round_trip(value: Location) -> None:
    assert jt808.decode_location(jt808.encode_location(value)) == value


# ---- other messages --------------------------------------------------------------------


def test_heartbeat_has_an_empty_body() -> None:
    assert jt808.decode_body(jt808.decode_frame(frame(MsgId.HEARTBEAT, b""))) == Heartbeat()


@pytest.mark.parametrize("v2019", [False, True], ids=["2013", "2019"])
def test_registration_round_trips_with_a_chinese_plate(v2019: bool) -> None:
    registration = Registration(
        province_id=15,
        city_id=300,
        maker_id="70111",
        model="BSJ-A6" if v2019 else "BSJ-A6-2013",
        terminal_id="T123456",
        plate_colour=2,
        plate="蒙C12345",
    )
    header = {"protocol_version": 1} if v2019 else {}
    body = jt808.encode_registration(registration, version_2019=v2019)
    assert len(body) == (2 + 2 + 11 + 30 + 30 + 1 + 8 if v2019 else 2 + 2 + 5 + 20 + 7 + 1 + 8)
    decoded = jt808.decode_body(jt808.decode_frame(frame(MsgId.REGISTRATION, body, **header)))
    assert decoded == registration


def test_authentication_2013_is_the_bare_token() -> None:
    body = jt808.encode_authentication(Authentication("AUTH-7788"), version_2019=False)
    assert body == b"AUTH-7788"
    assert jt808.decode_authentication(body, version_2019=False) == Authentication("AUTH-7788")


def test_authentication_2019_carries_imei_and_version() -> None:
    auth = Authentication("AUTH-7788", imei="860123456789012", software_version="V1.2.3")
    body = jt808.encode_authentication(auth, version_2019=True)
    assert body[0] == len("AUTH-7788")
    assert len(body) == 1 + 9 + 15 + 20
    decoded = jt808.decode_body(
        jt808.decode_frame(frame(MsgId.AUTHENTICATION, body, protocol_version=1))
    )
    assert decoded == auth


def test_platform_general_reply_layout() -> None:
    reply = GeneralReply(reply_seq=126, reply_msg_id=MsgId.LOCATION, result=0)
    body = jt808.encode_general_reply(reply)
    assert body == bytes.fromhex("007e020000")
    assert jt808.decode_body(jt808.decode_frame(frame(MsgId.PLATFORM_GENERAL_REPLY, body))) == reply


@pytest.mark.parametrize(
    ("reply", "hex_body"),
    [
        (RegistrationReply(reply_seq=9, result=0, token="TOKEN1"), "000900" + b"TOKEN1".hex()),
        (RegistrationReply(reply_seq=9, result=3), "000903"),
    ],
    ids=["accepted-with-token", "refused-without-token"],
)
def test_registration_reply_layout(reply: RegistrationReply, hex_body: str) -> None:
    body = jt808.encode_registration_reply(reply)
    assert body.hex() == hex_body
    assert jt808.decode_registration_reply(body) == reply


# ---- the stream splitter -----------------------------------------------------------------


def test_splitter_skips_garbage_and_keeps_a_partial_frame() -> None:
    one, two = frame(MsgId.HEARTBEAT, b""), frame(MsgId.LOCATION, jt808.encode_location(location()))
    frames, rest, dropped = jt808.split_frames(b"junk" + one + b"\x01\x02" + two + two[:7])
    assert (frames, rest, dropped) == ([one, two], two[:7], 6)


def test_splitter_resynchronises_after_a_corrupt_frame() -> None:
    good = frame(MsgId.HEARTBEAT, b"")
    corrupt = good[:-2] + bytes([good[-2] ^ 0xFF]) + FLAG
    # a stray flag in the garbage must not swallow the next frame's opening flag
    stream = b"\x7e\x11\x22" + corrupt + good + FLAG + good
    frames, rest, dropped = jt808.split_frames(stream)
    assert frames == [good, good]
    assert rest == b""
    assert dropped == len(stream) - 2 * len(good)


def test_splitter_gives_the_same_frames_whatever_the_chunking() -> None:
    frames = [frame(MsgId.LOCATION, jt808.encode_location(location(direction=d))) for d in range(3)]
    stream = b"\xff".join(frames)
    for size in (1, 2, 3, 7, 64):
        found: list[bytes] = []
        pending = b""
        for offset in range(0, len(stream), size):
            new, pending, _ = jt808.split_frames(pending + stream[offset : offset + size])
            found += new
        assert found == frames, size


def test_splitter_drops_an_endless_partial_frame() -> None:
    endless = FLAG + b"\x01" * (jt808.MAX_FRAME_BYTES + 1)
    assert jt808.split_frames(endless) == ([], b"", len(endless))


# ---- every decode failure --------------------------------------------------------------


def location_body(lat: int = 0, lon: int = 0, time: str = "261126091011") -> bytes:
    fixed = (0).to_bytes(8, "big") + lat.to_bytes(4, "big") + lon.to_bytes(4, "big")
    return fixed + bytes(6) + bytes.fromhex(time)


FAILURES: list[tuple[str, Callable[[], object]]] = [
    ("bad_frame", lambda: jt808.decode_frame(b"\x00\x02\x00\x00")),
    ("bad_frame", lambda: jt808.decode_frame(FLAG)),
    ("bad_escape", lambda: jt808.decode_frame(b"\x7e\x00\x7d\x03\x7e")),
    ("bad_escape", lambda: jt808.decode_frame(b"\x7e\x00\x7d\x7e")),
    ("bad_escape", lambda: jt808.unescape(b"\x00\x7e\x00")),
    ("bad_checksum", lambda: jt808.decode_frame(frame(MsgId.HEARTBEAT, b"")[:-2] + b"\x00\x7e")),
    ("truncated", lambda: jt808.decode_frame(FLAG + FLAG)),
    ("truncated", lambda: jt808.decode_frame(raw_frame(b"\x00\x02\x00\x00\x01"))),
    ("truncated", lambda: jt808.decode_location(location_body()[:-1])),
    ("truncated", lambda: jt808.decode_location(location_body() + b"\x01")),
    ("truncated", lambda: jt808.decode_location(location_body() + b"\x01\x04\x00")),
    ("truncated", lambda: jt808.decode_location_batch(b"\x00\x02\x00\x00\x1c" + location_body())),
    ("bad_length", lambda: jt808.decode_frame(raw_frame(header_2013(0x0002, 5)))),
    ("bad_length", lambda: jt808.decode_frame(raw_frame(header_2013(0x0002, 0) + b"\x00"))),
    ("bad_length", lambda: jt808.decode_heartbeat(b"\x00")),
    ("bad_length", lambda: jt808.decode_location_batch(b"\x00\x00\x00\x99")),
    ("bad_split", lambda: jt808.decode_frame(raw_frame(header_2013(2, 1 << 13) + b"\0\2\0\3"))),
    ("bad_split", lambda: jt808.decode_frame(raw_frame(header_2013(2, 1 << 13) + b"\0\2\0\0"))),
    ("bad_bcd", lambda: jt808.decode_frame(raw_frame(b"\0\2\0\0" + b"\x1a" * 6 + b"\0\1"))),
    ("bad_text", lambda: jt808.decode_authentication(b"\xff\xff", version_2019=False)),
    ("bad_time", lambda: jt808.decode_location(location_body(time="261326091011"))),
    ("bad_time", lambda: jt808.decode_location(location_body(time="2611260910ff"))),
    ("bad_time", lambda: jt808.decode_location(location_body(time="000000000000"))),
    ("impossible_coordinates", lambda: jt808.decode_location(location_body(lat=90_000_001))),
    ("impossible_coordinates", lambda: jt808.decode_location(location_body(lon=180_000_001))),
    ("unsupported", lambda: jt808.decode_body(jt808.decode_frame(frame(0x0F00, b"")))),
    (
        "unsupported",
        lambda: jt808.decode_body(jt808.decode_frame(frame(2, b"", split=Split(2, 1)))),
    ),
    ("unsupported", lambda: jt808.decode_body(jt808.decode_frame(frame(2, b"", encryption=1)))),
]


@pytest.mark.parametrize(
    ("reason", "decode"), FAILURES, ids=[f"{reason}-{n}" for n, (reason, _) in enumerate(FAILURES)]
)
def test_malformed_input_raises_the_typed_error(reason: str, decode: Callable[[], object]) -> None:
    with pytest.raises(JT808DecodeError) as caught:
        decode()
    assert caught.value.reason == reason


def test_every_reason_code_is_exercised() -> None:
    assert {reason for reason, _ in FAILURES} == set(get_args(jt808.Reason))


@pytest.mark.parametrize(
    "encode",
    [
        lambda: jt808.encode_location(location(latitude=90.000001)),
        lambda: jt808.encode_location(location(time=datetime(2026, 1, 1))),
        lambda: jt808.encode_location(location(time=datetime(1999, 12, 31, tzinfo=UTC))),
        lambda: jt808.encode_location(location(speed_kmh=-1)),
        lambda: jt808.encode_frame(Header(2, "1391234567890", 1), b""),
        lambda: jt808.encode_frame(Header(2, PHONE, 1), bytes(0x400)),
        lambda: jt808.encode_registration(
            Registration(15, 300, "TOO-LONG", "m", "t", 2, "蒙C12345"), version_2019=False
        ),
    ],
    ids=["latitude", "naive-time", "year", "speed", "phone", "body", "field-width"],
)
def test_encoders_refuse_values_that_do_not_fit(encode: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r".") as caught:
        encode()
    assert not isinstance(caught.value, JT808DecodeError)
