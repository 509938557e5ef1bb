"""JT/T 809 codec: public vectors, round trips as the superior platform, every failure."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import jt808, jt809
from connectors.jt809 import (
    HEAD,
    TAIL,
    DataType,
    Edition,
    Header,
    JT809DecodeError,
    LinkTest,
    LoginRequest,
    LoginResponse,
    MsgId,
    PlatformAlarm,
    Position2011,
    Position2019,
    VehicleExchange,
)

PROPERTY = settings(derandomize=True, database=None, max_examples=300, deadline=None)
CENTRE = 15030001

# SmallChi/JT809 src/JT809.Protocol.Test/JT809Packages/JT809_0x1001PackageTest.cs
LOGIN_FRAME = bytes.fromhex(
    "5B000000480000008510010133EFB8010000000000270F0133EFB8323031383039323031"
    "32372E302E302E31000000000000000000000000000000000000000000000003296A915D"
)
# SmallChi/JT809 src/JT809.Protocol.Test/JT809SubMessageBody/JT809_0x1200_0x1202Test.cs
GNSS_2011 = bytes.fromhex(
    "00130707DC0F0F0F07EF4D80017018400032003300000096002D002D0000000300000101"
)
GNSS_2019 = bytes.fromhex(
    "0100000026000000010000000200BA7F0E07E4F11C0028003C000018071510101001040000006402020037"
    "313131313131313131313100000001323232323232323232323200000002333333333333333333333300000003"
)


def position(**changes: Any) -> Position2011:
    fields: dict[str, Any] = {
        "encrypted": False,
        "time": datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC),
        "latitude": 39.654321,
        "longitude": 106.812345,
        "speed_kmh": 62,
        "recorder_speed_kmh": 61,
        "mileage_km": 123456,
        "direction": 90,
        "altitude_m": 1090,
        "state": 0b11,
        "alarm": 0,
    }
    return Position2011(**(fields | changes))


def exchange_frame(
    data_type: int, data: bytes, msg_id: int = MsgId.UP_EXCHANGE, plate: str = "蒙C12345"
) -> bytes:
    body = jt809.encode_vehicle_exchange(VehicleExchange(plate, 2, data_type, data))
    return jt809.encode_frame(Header(msg_id, CENTRE, sn=1), body)


def raw_frame(packet: bytes) -> bytes:
    """A frame around any packet, valid CRC and escapes, header not checked."""
    crc = jt809.crc16_ccitt_false(packet).to_bytes(2, "big")
    return HEAD + jt809.escape(packet + crc) + TAIL


def header_2011(length: int, msg_id: int = MsgId.LINK_TEST) -> bytes:
    return length.to_bytes(4, "big") + bytes(4) + msg_id.to_bytes(2, "big") + bytes(12)


# ---- CRC, escapes, framing ---------------------------------------------------------------


def test_crc_is_ccitt_false() -> None:
    assert jt809.crc16_ccitt_false(b"123456789") == 0x29B1


@pytest.mark.parametrize(
    ("plain", "escaped"),
    [
        ("5b", "5a01"),
        ("5a", "5a02"),
        ("5d", "5e01"),
        ("5e", "5e02"),
        ("005a5b5e5d00", "005a025a015e025e0100"),
    ],
)
def test_escapes(plain: str, escaped: str) -> None:
    assert jt809.escape(bytes.fromhex(plain)).hex() == escaped
    assert jt809.unescape(bytes.fromhex(escaped)).hex() == plain


def test_public_login_frame_decodes_and_encodes_back() -> None:
    frame = jt809.decode_frame(LOGIN_FRAME)
    assert frame.header == Header(MsgId.LOGIN_REQUEST, 20180920, sn=133, key=9999)
    assert jt809.decode_body(frame) == LoginRequest(20180920, "20180920", "127.0.0.1", 809)
    assert jt809.encode_frame(frame.header, frame.body) == LOGIN_FRAME


def test_2019_header_carries_the_utc_send_time() -> None:
    sent_at = datetime(2026, 11, 26, 3, 4, 5, tzinfo=UTC)
    header = Header(MsgId.LINK_TEST, CENTRE, sn=9, version=(3, 0, 0), sent_at=sent_at)
    encoded = jt809.encode_frame(header, b"")
    assert int.from_bytes(encoded[1:5], "big") == len(encoded) == 1 + 30 + 2 + 1
    assert encoded[23:31] == int(sent_at.timestamp()).to_bytes(8, "big")
    frame = jt809.decode_frame(encoded, Edition.V2019)
    assert frame == jt809.Frame(header, b"")
    assert jt809.decode_body(frame, Edition.V2019) == LinkTest(response=False)


@PROPERTY
@given(body=st.binary(max_size=300), sn=st.integers(0, 0xFFFFFFFF))
def test_any_body_survives_escaping_and_splitting(body: bytes, sn: int) -> None:
    encoded = jt809.encode_frame(Header(MsgId.UP_EXCHANGE, CENTRE, sn), body)
    frames, rest, dropped = jt809.split_frames(b"\x00\x5d" + encoded + encoded[:9])
    assert (frames, rest, dropped) == ([encoded], encoded[:9], 2)
    assert jt809.decode_frame(frames[0]).body == body


# ---- login and link test -----------------------------------------------------------------


def test_2019_login_carries_the_access_code() -> None:
    login = LoginRequest(7, "secret12", "10.1.2.3", 8090, centre_id=CENTRE)
    body = jt809.encode_login_request(login, Edition.V2019)
    assert body[12:16] == CENTRE.to_bytes(4, "big")
    assert jt809.decode_login_request(body, Edition.V2019) == login


def test_login_response_and_link_test_round_trip() -> None:
    response = LoginResponse(result=0, verify_code=0xCAFE)
    frame = jt809.encode_frame(
        Header(MsgId.LOGIN_RESPONSE, CENTRE, 2), jt809.encode_login_response(response)
    )
    assert jt809.decode_body(jt809.decode_frame(frame)) == response
    pong = jt809.encode_frame(Header(MsgId.LINK_TEST_RESPONSE, CENTRE, 3), b"")
    assert jt809.decode_body(jt809.decode_frame(pong)) == LinkTest(response=True)


# ---- locations ---------------------------------------------------------------------------


def test_public_2011_location_body() -> None:
    exchange = VehicleExchange("粤A12345", 1, DataType.UP_REAL_LOCATION, GNSS_2011)
    (decoded,) = jt809.decode_positions(exchange)
    assert decoded == Position2011(
        encrypted=False,
        time=datetime(2012, 7, 19, 7, 15, 15, tzinfo=UTC),  # 15:15:15 Beijing time
        latitude=24.123456,
        longitude=133.123456,
        speed_kmh=50,
        recorder_speed_kmh=51,
        mileage_km=150,
        direction=45,
        altitude_m=45,
        state=3,
        alarm=257,
    )
    assert jt809.encode_positions((decoded,), batch=False) == GNSS_2011


def test_public_2019_location_body_embeds_an_808_location() -> None:
    exchange = VehicleExchange("粤A12345", 1, DataType.UP_REAL_LOCATION, GNSS_2019)
    (decoded,) = jt809.decode_positions(exchange, Edition.V2019)
    assert isinstance(decoded, Position2019)
    assert decoded.encrypted
    assert (decoded.location.latitude, decoded.location.longitude) == (12.222222, 132.444444)
    assert decoded.location.time == datetime(2018, 7, 15, 2, 10, 10, tzinfo=UTC)
    assert (decoded.location.mileage_km, decoded.location.fuel_l) == (10.0, 5.5)
    assert decoded.platform_alarms == (
        PlatformAlarm("11111111111", 1),
        PlatformAlarm("22222222222", 2),
        PlatformAlarm("33333333333", 3),
    )
    assert jt809.encode_positions((decoded,), batch=False) == GNSS_2019


def test_real_time_location_with_a_gbk_plate_round_trips_through_a_frame() -> None:
    data = jt809.encode_positions((position(),), batch=False)
    frame = jt809.decode_frame(exchange_frame(DataType.UP_REAL_LOCATION, data))
    exchange = jt809.decode_body(frame)
    assert exchange == VehicleExchange("蒙C12345", 2, DataType.UP_REAL_LOCATION, data)
    assert frame.body[:21] == "蒙C12345".encode("gbk") + bytes(13)
    assert isinstance(exchange, VehicleExchange)
    assert jt809.decode_positions(exchange) == (position(),)


@pytest.mark.parametrize(
    ("msg_id", "data_type"),
    [
        (MsgId.UP_EXCHANGE, DataType.UP_HISTORY_LOCATION),
        (MsgId.DOWN_EXCHANGE, DataType.DOWN_HISTORY_LOCATION),
    ],
)
def test_batches_round_trip(msg_id: int, data_type: int) -> None:
    south_west = 0b1111  # state bits agree with the signs, so the batch compares equal
    positions = tuple(
        position(direction=d, latitude=-10.5, longitude=-0.0, state=south_west) for d in range(3)
    )
    data = jt809.encode_positions(positions, batch=True)
    assert data[0] == 3
    exchange = jt809.decode_body(jt809.decode_frame(exchange_frame(data_type, data, msg_id)))
    assert isinstance(exchange, VehicleExchange)
    assert jt809.decode_positions(exchange) == positions


def test_down_link_location_decodes_like_the_up_link_one() -> None:
    data = jt809.encode_positions((position(speed_kmh=0),), batch=False)
    frame = exchange_frame(DataType.DOWN_CAR_LOCATION, data, MsgId.DOWN_EXCHANGE)
    exchange = jt809.decode_body(jt809.decode_frame(frame))
    assert isinstance(exchange, VehicleExchange)
    assert jt809.decode_positions(exchange) == (position(speed_kmh=0),)


def test_2019_batch_of_embedded_808_locations() -> None:
    location = jt808.Location(0, 2, 39.65, 106.81, 1090, 60.5, 90, datetime(2026, 1, 2, tzinfo=UTC))
    slots = (PlatformAlarm("15030000001", 0), PlatformAlarm("", 0), PlatformAlarm("", 0))
    positions = (Position2019(False, location, slots), Position2019(True, location, slots))
    exchange = VehicleExchange(
        "蒙C12345", 2, DataType.UP_HISTORY_LOCATION, jt809.encode_positions(positions, batch=True)
    )
    assert jt809.decode_positions(exchange, Edition.V2019) == positions


positions_2011 = st.builds(
    lambda encrypted, time, lat, lon, speeds, mileage, direction, altitude, state, alarm: (
        Position2011(
            encrypted=encrypted,
            time=time,
            latitude=-(lat / 1e6) if state & 0b100 else lat / 1e6,
            longitude=-(lon / 1e6) if state & 0b1000 else lon / 1e6,
            speed_kmh=speeds[0],
            recorder_speed_kmh=speeds[1],
            mileage_km=mileage,
            direction=direction,
            altitude_m=altitude,
            state=state,
            alarm=alarm,
        )
    ),
    encrypted=st.booleans(),
    time=st.datetimes(
        min_value=datetime(1, 1, 1, 8, 0, 0),
        max_value=datetime(9999, 12, 31, 15, 59, 59),
        timezones=st.just(UTC),
    ).map(lambda moment: moment.replace(microsecond=0)),
    lat=st.integers(0, 90_000_000),
    lon=st.integers(0, 180_000_000),
    speeds=st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
    mileage=st.integers(0, 0xFFFFFFFF),
    direction=st.integers(0, 359),
    altitude=st.integers(0, 0xFFFF),
    state=st.integers(0, 0xFFFFFFFF),
    alarm=st.integers(0, 0xFFFFFFFF),
)


@PROPERTY
@given(value=positions_2011)
def test_2011_positions_round_trip(value: Position2011) -> None:
    exchange = VehicleExchange(
        "蒙C", 2, DataType.UP_REAL_LOCATION, jt809.encode_positions((value,), batch=False)
    )
    assert jt809.decode_positions(exchange) == (value,)


# ---- the stream splitter -----------------------------------------------------------------


def test_splitter_resynchronises() -> None:
    good = jt809.encode_frame(Header(MsgId.LINK_TEST, CENTRE, 1), b"")
    bad_crc = good[:-3] + bytes([good[-3] ^ 0x01]) + good[-2:]
    broken_head = good[:10]  # a frame cut short, then a new head
    stream = b"noise" + bad_crc + broken_head + good + b"\x5d\x5d" + good + good[:4]
    frames, rest, dropped = jt809.split_frames(stream)
    assert frames == [good, good]
    assert rest == good[:4]
    assert dropped == 5 + len(bad_crc) + len(broken_head) + 2


def test_splitter_gives_the_same_frames_whatever_the_chunking() -> None:
    frames = [
        exchange_frame(
            DataType.UP_REAL_LOCATION, jt809.encode_positions((position(),), batch=False)
        )
        for _ in range(3)
    ]
    stream = b"".join(frames)
    for size in (1, 2, 5, 64):
        found: list[bytes] = []
        pending = b""
        for offset in range(0, len(stream), size):
            new, pending, _ = jt809.split_frames(pending + stream[offset : offset + size])
            found += new
        assert found == frames, size


def test_splitter_drops_an_endless_partial_frame() -> None:
    endless = HEAD + bytes(100)
    assert jt809.split_frames(endless, max_frame_bytes=64) == ([], b"", len(endless))
    assert jt809.split_frames(endless) == ([], endless, 0)


# ---- every decode failure --------------------------------------------------------------

BAD_DAY = bytes([0, 32, 1, 7, 234, 0, 0, 0]) + bytes(28)  # day 32 of January 2026
TOO_FAR_NORTH = GNSS_2011[:12] + (90_000_001).to_bytes(4, "big") + GNSS_2011[16:]
TOO_FAR_EAST = GNSS_2011[:8] + (180_000_001).to_bytes(4, "big") + GNSS_2011[12:]
HUGE_TIME_2019 = header_2011(1 + 30 + 2 + 1) + b"\xff" * 8


def decode_single(data: bytes, edition: Edition = Edition.V2011) -> tuple[jt809.Position, ...]:
    return jt809.decode_positions(VehicleExchange("", 0, DataType.UP_REAL_LOCATION, data), edition)


def crc_flipped(frame: bytes) -> bytes:
    return frame[:-2] + bytes([frame[-2] ^ 0x01]) + TAIL


FAILURES: list[tuple[str, Callable[[], object]]] = [
    ("bad_frame", lambda: jt809.decode_frame(LOGIN_FRAME[1:])),
    ("bad_frame", lambda: jt809.decode_frame(HEAD)),
    ("bad_escape", lambda: jt809.decode_frame(HEAD + b"\x5a\x03" + TAIL)),
    ("bad_escape", lambda: jt809.decode_frame(HEAD + b"\x00\x5e" + TAIL)),
    ("bad_escape", lambda: jt809.decode_frame(HEAD + b"\x00\x5b\x00" + TAIL)),
    ("bad_checksum", lambda: jt809.decode_frame(crc_flipped(LOGIN_FRAME))),
    ("truncated", lambda: jt809.decode_frame(raw_frame(bytes(20)))),
    ("truncated", lambda: jt809.decode_frame(raw_frame(bytes(22)), Edition.V2019)),
    ("truncated", lambda: decode_single(GNSS_2011[:-1])),
    ("truncated", lambda: decode_single(GNSS_2019[:-1], Edition.V2019)),
    (
        "truncated",
        lambda: jt809.decode_vehicle_exchange(bytes(21) + b"\x02\x12\x02\x00\x00\x00\x24"),
    ),
    ("truncated", lambda: jt809.decode_login_request(bytes(45))),
    ("bad_length", lambda: jt809.decode_frame(raw_frame(header_2011(27)))),
    (
        "bad_length",
        lambda: jt809.decode_frame(raw_frame(header_2011(26) + bytes(8)), Edition.V2019),
    ),
    ("bad_length", lambda: decode_single(GNSS_2011 + b"\x00")),
    ("bad_length", lambda: jt809.decode_vehicle_exchange(bytes(21) + b"\x02\x12\x02" + bytes(5))),
    ("bad_length", lambda: jt809.decode_link_test(b"\x00", response=False)),
    ("bad_text", lambda: jt809.decode_vehicle_exchange(b"\xff" * 21 + b"\x02\x12\x02" + bytes(4))),
    ("bad_time", lambda: decode_single(BAD_DAY)),
    ("bad_time", lambda: jt809.decode_frame(raw_frame(HUGE_TIME_2019), Edition.V2019)),
    ("bad_time", lambda: decode_single(GNSS_2019[:27] + bytes(6) + GNSS_2019[33:], Edition.V2019)),
    ("impossible_coordinates", lambda: decode_single(TOO_FAR_NORTH)),
    ("impossible_coordinates", lambda: decode_single(TOO_FAR_EAST)),
    (
        "unsupported",
        lambda: jt809.decode_body(jt809.decode_frame(raw_frame(header_2011(26, 0x1400)))),
    ),
    (
        "unsupported",
        lambda: jt809.decode_body(jt809.Frame(Header(MsgId.LINK_TEST, 1, 1, encrypted=True), b"")),
    ),
    (
        "unsupported",
        lambda: jt809.decode_positions(VehicleExchange("蒙C12345", 2, 0x1201, b"")),
    ),
]


@pytest.mark.parametrize(
    ("reason", "decode"), FAILURES, ids=[f"{reason}-{n}" for n, (reason, _) in enumerate(FAILURES)]
)
def test_malformed_input_raises_the_typed_error(reason: str, decode: Callable[[], object]) -> None:
    with pytest.raises(JT809DecodeError) as caught:
        decode()
    assert caught.value.reason == reason


def test_every_reason_code_jt809_can_raise_is_exercised() -> None:
    only_808 = {"bad_split", "bad_bcd"}  # shared vocabulary; 809 frames have neither
    assert {reason for reason, _ in FAILURES} == set(get_args(jt809.Reason)) - only_808


@pytest.mark.parametrize(
    "encode",
    [
        lambda: jt809.encode_vehicle_exchange(VehicleExchange("蒙C" + "1" * 20, 2, 0x1202, b"")),
        lambda: jt809.encode_login_request(LoginRequest(1, "p", "ip", 1), Edition.V2019),
        lambda: jt809.encode_positions((position(), position()), batch=False),
        lambda: jt809.encode_positions((position(time=datetime(2026, 1, 1)),), batch=False),
        lambda: jt809.encode_positions((position(latitude=91.0),), batch=False),
        lambda: jt809.encode_frame(
            Header(MsgId.LINK_TEST, 1, 1, sent_at=datetime(2026, 1, 1)), b""
        ),
    ],
    ids=[
        "plate-width",
        "2019-login-without-code",
        "two-real-time",
        "naive",
        "latitude",
        "naive-sent",
    ],
)
def test_encoders_refuse_values_that_do_not_fit(encode: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r".") as caught:
        encode()
    assert not isinstance(caught.value, JT809DecodeError)


def test_beijing_time_is_converted_not_relabelled() -> None:
    beijing_noon = datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    data = jt809.encode_positions((position(time=beijing_noon),), batch=False)
    assert tuple(data[1:8]) == (1, 6, 0x07, 0xEA, 12, 0, 0)
    (decoded,) = decode_single(data)
    assert isinstance(decoded, Position2011)
    assert decoded.time == datetime(2026, 6, 1, 4, 0, 0, tzinfo=UTC)
