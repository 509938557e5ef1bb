"""JT/T 809 platform-to-platform codec (2011, and 2019 where noted): bytes in, values out.

Layouts follow JT/T 809-2011 as implemented by SmallChi/JT809; its 0x1001 login frame and
its 0x1202 location body are the test vectors. The 2019 parts (the 8-byte header time,
the access code in 0x1001, the 0x1202 body embedding a JT/T 808 0x0200 body followed by
three platform alarm slots) are taken from SmallChi/JT809's 2019 mode only, not from the
standard's text: treat them as unverified. They are kept to `Edition.V2019` branches.

Encrypted bodies (ENCRYPT_FLAG 1) are not decrypted; `decode_body` refuses them.
"""

import binascii
import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from functools import lru_cache
from typing import Final

from connectors import jt808
from connectors.binary import Reader, pack

HEAD: Final = b"\x5b"
TAIL: Final = b"\x5d"
_HEADER_SIZE: Final = 22
_TIME_SIZE: Final = 8
_FRAME_OVERHEAD: Final = 1 + 2 + 1  # head flag, CRC, tail flag
_PLATE_SIZE: Final = 21
_PLATFORM_ID_SIZE: Final = 11
_POSITION_2011_SIZE: Final = 36
DEFAULT_MAX_FRAME_BYTES: Final = 1 << 20

# one vocabulary with JT/T 808, whose decoder reads the 2019 embedded location
Reason = jt808.Reason


class JT809DecodeError(ValueError):
    """Raised for any input the codec cannot decode; `reason` is a stable code."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: Reason = reason
        self.detail = detail


class Edition(IntEnum):
    V2011 = 2011
    V2019 = 2019


class MsgId(IntEnum):
    LOGIN_REQUEST = 0x1001
    LOGIN_RESPONSE = 0x1002
    LINK_TEST = 0x1005
    LINK_TEST_RESPONSE = 0x1006
    UP_EXCHANGE = 0x1200
    DOWN_EXCHANGE = 0x9200


class DataType(IntEnum):
    UP_REAL_LOCATION = 0x1202
    UP_HISTORY_LOCATION = 0x1203
    DOWN_CAR_LOCATION = 0x9202
    DOWN_HISTORY_LOCATION = 0x9203


_SINGLE_LOCATION: Final = {DataType.UP_REAL_LOCATION, DataType.DOWN_CAR_LOCATION}
_LOCATION_BATCH: Final = {DataType.UP_HISTORY_LOCATION, DataType.DOWN_HISTORY_LOCATION}


@dataclass(frozen=True, slots=True)
class Header:
    """Message header; `sent_at` (UTC) exists only in 2019 headers."""

    msg_id: int
    centre_id: int
    sn: int
    version: tuple[int, int, int] = (1, 0, 0)
    encrypted: bool = False
    key: int = 0
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    header: Header
    body: bytes


@dataclass(frozen=True, slots=True)
class LoginRequest:
    """0x1001; `centre_id` (the access code) is sent only in 2019."""

    user_id: int
    password: str
    down_link_ip: str
    down_link_port: int
    centre_id: int | None = None


@dataclass(frozen=True, slots=True)
class LoginResponse:
    result: int
    verify_code: int


@dataclass(frozen=True, slots=True)
class LinkTest:
    """0x1005 (request) and 0x1006 (response): empty bodies."""

    response: bool


@dataclass(frozen=True, slots=True)
class VehicleExchange:
    """0x1200 / 0x9200; `plate_colour` is a JT/T 415 code, `data` the sub-business body."""

    plate: str
    plate_colour: int
    data_type: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Position2011:
    """A 2011 GNSS_DATA body. Speeds are whole km/h, mileage whole km."""

    encrypted: bool
    time: datetime
    latitude: float
    longitude: float
    speed_kmh: int
    recorder_speed_kmh: int
    mileage_km: int
    direction: int
    altitude_m: int
    state: int
    alarm: int


@dataclass(frozen=True, slots=True)
class PlatformAlarm:
    platform_id: str
    alarm: int


@dataclass(frozen=True, slots=True)
class Position2019:
    """A 2019 location: a JT/T 808 0x0200 body plus three platform alarm slots (unverified)."""

    encrypted: bool
    location: jt808.Location
    platform_alarms: tuple[PlatformAlarm, PlatformAlarm, PlatformAlarm]


Position = Position2011 | Position2019
Message = LoginRequest | LoginResponse | LinkTest | VehicleExchange


# ---- framing ---------------------------------------------------------------------------

_RAW_FLAG: Final = re.compile(rb"[\x5b\x5d]")


def escape(data: bytes) -> bytes:
    # each escape byte is escaped before the flag that escapes into it
    data = data.replace(b"\x5a", b"\x5a\x02").replace(b"\x5b", b"\x5a\x01")
    return data.replace(b"\x5e", b"\x5e\x02").replace(b"\x5d", b"\x5e\x01")


def unescape(data: bytes) -> bytes:
    if _RAW_FLAG.search(data):
        raise JT809DecodeError("bad_escape", "unescaped 0x5B or 0x5D inside a frame")
    if (bad := _BAD_PAIR.search(data)) is not None:
        pair = data[bad.start() : bad.start() + 2]
        detail = f"{pair[:1].hex()} followed by {pair[1:].hex() or 'nothing'}"
        raise JT809DecodeError("bad_escape", detail)
    # every 0x5A/0x5E now leads a valid pair; in this order no replacement feeds the next
    return (
        data.replace(b"\x5a\x01", b"\x5b")
        .replace(b"\x5a\x02", b"\x5a")
        .replace(b"\x5e\x01", b"\x5d")
        .replace(b"\x5e\x02", b"\x5e")
    )


_BAD_PAIR: Final = re.compile(rb"[\x5a\x5e](?![\x01\x02])")


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR."""
    return binascii.crc_hqx(data, 0xFFFF)


def _header_size(edition: Edition) -> int:
    return _HEADER_SIZE + (_TIME_SIZE if edition is Edition.V2019 else 0)


def decode_frame(frame: bytes, edition: Edition = Edition.V2011) -> Frame:
    """Decode one frame including its 0x5B/0x5D flags; the body is left undecoded.

    The edition is a per-link setting: nothing in a frame tells 2011 from 2019.
    """
    if len(frame) < 2 or frame[:1] != HEAD or frame[-1:] != TAIL:
        raise JT809DecodeError("bad_frame", "a frame starts with 0x5B and ends with 0x5D")
    content = unescape(frame[1:-1])
    if len(content) < _header_size(edition) + 2:
        raise JT809DecodeError("truncated", f"{len(content)} bytes cannot hold header and CRC")
    packet, sent = content[:-2], int.from_bytes(content[-2:], "big")
    if (computed := crc16_ccitt_false(packet)) != sent:
        raise JT809DecodeError("bad_checksum", f"computed {computed:#06x}, sent {sent:#06x}")
    declared_length = int.from_bytes(packet[:4], "big")
    # MSG_LENGTH counts the unescaped frame, flags and CRC included
    if declared_length != len(content) + 2:
        detail = f"header says {declared_length}, frame has {len(content) + 2}"
        raise JT809DecodeError("bad_length", detail)
    size = _header_size(edition)
    return Frame(_decode_header(packet, edition), packet[size:])


# after MSG_LENGTH: sn, msg id, centre id, version (3 bytes), encrypt flag, key
_HEADER_2011: Final = struct.Struct(">IHIBBBBI")


def _decode_header(packet: bytes, edition: Edition) -> Header:
    # the caller checked the length; struct rather than a Reader: this runs for every frame
    sn, msg_id, centre_id, major, minor, patch, encrypted, key = _HEADER_2011.unpack_from(packet, 4)
    sent_at = None
    if edition is Edition.V2019:
        sent_at = _decode_utc_seconds(
            int.from_bytes(packet[_HEADER_SIZE : _HEADER_SIZE + 8], "big")
        )
    return Header(msg_id, centre_id, sn, (major, minor, patch), encrypted != 0, key, sent_at)


def _decode_utc_seconds(seconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise JT809DecodeError("bad_time", f"{seconds} seconds: {error}") from error


def encode_frame(header: Header, body: bytes) -> bytes:
    """Encode a frame; a header with `sent_at` is written in the 2019 layout."""
    edition = Edition.V2011 if header.sent_at is None else Edition.V2019
    length = _FRAME_OVERHEAD + _header_size(edition) + len(body)
    packet = pack(">IIHI", length, header.sn, header.msg_id, header.centre_id)
    packet += bytes(header.version) + pack(">BI", int(header.encrypted), header.key)
    if header.sent_at is not None:
        packet += pack(">Q", _utc_seconds(header.sent_at))
    packet += body
    return HEAD + escape(packet + pack(">H", crc16_ccitt_false(packet))) + TAIL


def _utc_seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no defined UTC time")
    return int(moment.timestamp())


def split_frames(
    buffer: bytes, edition: Edition = Edition.V2011, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
) -> tuple[list[bytes], bytes, int]:
    """Cut a TCP byte stream into whole frames that pass `decode_frame`.

    Returns (frames, rest, dropped): `rest` is an unfinished frame to prepend to the next
    read (dropped instead once longer than `max_frame_bytes`), `dropped` counts the bytes
    skipped: garbage, and frames that fail `decode_frame`.
    """
    frames: list[bytes] = []
    dropped = position = 0
    while (start := buffer.find(HEAD, position)) != -1:
        dropped += start - position
        end = buffer.find(TAIL, start + 1)
        restart = buffer.find(HEAD, start + 1, len(buffer) if end == -1 else end)
        if restart != -1:  # a new head before any tail: the bytes so far are a broken frame
            dropped += restart - start
            position = restart
        elif end == -1:
            rest = buffer[start:]
            if len(rest) > max_frame_bytes:
                return frames, b"", dropped + len(rest)
            return frames, rest, dropped
        else:
            candidate = buffer[start : end + 1]
            if _is_frame(candidate, edition):
                frames.append(candidate)
            else:
                dropped += len(candidate)
            position = end + 1
    return frames, b"", dropped + len(buffer) - position


def _is_frame(candidate: bytes, edition: Edition) -> bool:
    try:
        decode_frame(candidate, edition)
    except JT809DecodeError:
        return False
    return True


# ---- bodies ----------------------------------------------------------------------------


def decode_body(frame: Frame, edition: Edition = Edition.V2011) -> Message:
    """Decode the body of an unencrypted frame by its message id."""
    if frame.header.encrypted:
        raise JT809DecodeError("unsupported", "encrypted body")
    decoder = _DECODERS.get(frame.header.msg_id)
    if decoder is None:
        raise JT809DecodeError("unsupported", f"message id {frame.header.msg_id:#06x}")
    return decoder(frame.body, edition)


def decode_login_request(body: bytes, edition: Edition = Edition.V2011) -> LoginRequest:
    reader = Reader(body, JT809DecodeError)
    user_id, password = reader.u32(), _decode_text(reader.take(8))
    centre_id = reader.u32() if edition is Edition.V2019 else None
    down_link_ip, down_link_port = _decode_text(reader.take(32)), reader.u16()
    reader.expect_end()
    return LoginRequest(user_id, password, down_link_ip, down_link_port, centre_id)


def encode_login_request(login: LoginRequest, edition: Edition = Edition.V2011) -> bytes:
    centre = b""
    if edition is Edition.V2019:
        if login.centre_id is None:
            raise ValueError("a 2019 login request carries the access code (centre_id)")
        centre = pack(">I", login.centre_id)
    return b"".join(
        (
            pack(">I", login.user_id),
            _encode_text(login.password, 8),
            centre,
            _encode_text(login.down_link_ip, 32),
            pack(">H", login.down_link_port),
        )
    )


def decode_login_response(body: bytes) -> LoginResponse:
    reader = Reader(body, JT809DecodeError)
    response = LoginResponse(result=reader.u8(), verify_code=reader.u32())
    reader.expect_end()
    return response


def encode_login_response(response: LoginResponse) -> bytes:
    return pack(">BI", response.result, response.verify_code)


def decode_link_test(body: bytes, response: bool) -> LinkTest:
    Reader(body, JT809DecodeError).expect_end()
    return LinkTest(response)


_EXCHANGE_HEAD: Final = struct.Struct(">BHI")  # after the plate: colour, data type, length


def decode_vehicle_exchange(body: bytes) -> VehicleExchange:
    head = _PLATE_SIZE + _EXCHANGE_HEAD.size
    if len(body) < head:
        raise JT809DecodeError("truncated", f"need {head} bytes, {len(body)} left")
    plate_colour, data_type, size = _EXCHANGE_HEAD.unpack_from(body, _PLATE_SIZE)
    if len(body) < head + size:
        detail = f"need {size} bytes at offset {head}, {len(body) - head} left"
        raise JT809DecodeError("truncated", detail)
    if len(body) > head + size:
        raise JT809DecodeError("bad_length", f"{len(body) - head - size} unexpected trailing bytes")
    plate = _plate_text(body[:_PLATE_SIZE])
    return VehicleExchange(plate, plate_colour, data_type, body[head:])


@lru_cache(maxsize=65536)  # the same trucks over and over
def _plate_text(raw: bytes) -> str:
    return _decode_text(raw)


def encode_vehicle_exchange(exchange: VehicleExchange) -> bytes:
    return b"".join(
        (
            _encode_text(exchange.plate, _PLATE_SIZE),
            pack(">BHI", exchange.plate_colour, exchange.data_type, len(exchange.data)),
            exchange.data,
        )
    )


def decode_positions(
    exchange: VehicleExchange, edition: Edition = Edition.V2011
) -> tuple[Position, ...]:
    """Positions in a 0x1202/0x9202 (one) or 0x1203/0x9203 (a counted batch) exchange."""
    reader = Reader(exchange.data, JT809DecodeError)
    if exchange.data_type in _SINGLE_LOCATION:
        positions: tuple[Position, ...] = (_read_position(reader, edition),)
    elif exchange.data_type in _LOCATION_BATCH:
        positions = tuple(_read_position(reader, edition) for _ in range(reader.u8()))
    else:
        raise JT809DecodeError("unsupported", f"data type {exchange.data_type:#06x}")
    reader.expect_end()
    return positions


def encode_positions(positions: tuple[Position, ...], *, batch: bool) -> bytes:
    """The data of a location exchange: one position, or a counted batch of them."""
    if not batch and len(positions) != 1:
        raise ValueError("a real-time location carries exactly one position")
    encoded = b"".join(_encode_position(position) for position in positions)
    return pack(">B", len(positions)) + encoded if batch else encoded


def _read_position(reader: Reader, edition: Edition) -> Position:
    if edition is Edition.V2019:
        return _read_position_2019(reader)
    return _read_position_2011(reader)


def _encode_position(position: Position) -> bytes:
    if isinstance(position, Position2019):
        return _encode_position_2019(position)
    return _encode_position_2011(position)


_POSITION_2011: Final = struct.Struct(">BBBHBBBIIHHIHHII")


def _read_position_2011(reader: Reader) -> Position2011:
    # one struct call rather than sixteen reads: the national platform sends thousands a second
    (
        encrypted,
        day,
        month,
        year,
        hour,
        minute,
        second,
        longitude,
        latitude,
        speed,
        recorder_speed,
        mileage,
        direction,
        altitude,
        state,
        alarm,
    ) = _POSITION_2011.unpack(reader.take(_POSITION_2011_SIZE))
    return Position2011(
        encrypted=encrypted != 0,
        time=_beijing_to_utc(year, month, day, hour, minute, second),
        # STATE is the JT/T 808 status word: bit 2 south, bit 3 west
        latitude=_coordinate(latitude, bool(state & 0b100), 90),
        longitude=_coordinate(longitude, bool(state & 0b1000), 180),
        speed_kmh=speed,
        recorder_speed_kmh=recorder_speed,
        mileage_km=mileage,
        direction=direction,
        altitude_m=altitude,
        state=state,
        alarm=alarm,
    )


def _encode_position_2011(position: Position2011) -> bytes:
    if position.time.tzinfo is None:
        raise ValueError("a naive datetime has no defined Beijing time")
    local = position.time.astimezone(jt808.BEIJING)
    state = position.state & ~0b1100
    state |= 0b100 if _is_negative(position.latitude) else 0
    state |= 0b1000 if _is_negative(position.longitude) else 0
    return pack(
        ">BBBHBBBIIHHIHHII",
        int(position.encrypted),
        local.day,
        local.month,
        local.year,
        local.hour,
        local.minute,
        local.second,
        _micro_degrees(position.longitude, 180),
        _micro_degrees(position.latitude, 90),
        position.speed_kmh,
        position.recorder_speed_kmh,
        position.mileage_km,
        position.direction,
        position.altitude_m,
        state,
        position.alarm,
    )


def _read_position_2019(reader: Reader) -> Position2019:
    encrypted = reader.u8() != 0
    gnss_data = reader.take(reader.u32())
    try:
        location = jt808.decode_location(gnss_data)
    except jt808.JT808DecodeError as error:
        raise JT809DecodeError(error.reason, f"embedded 0x0200: {error.detail}") from error
    alarms = tuple(
        PlatformAlarm(_decode_text(reader.take(_PLATFORM_ID_SIZE)), reader.u32()) for _ in range(3)
    )
    return Position2019(encrypted, location, (alarms[0], alarms[1], alarms[2]))


def _encode_position_2019(position: Position2019) -> bytes:
    gnss_data = jt808.encode_location(position.location)
    slots = b"".join(
        _encode_text(slot.platform_id, _PLATFORM_ID_SIZE) + pack(">I", slot.alarm)
        for slot in position.platform_alarms
    )
    return pack(">BI", int(position.encrypted), len(gnss_data)) + gnss_data + slots


_DECODERS: Final[dict[int, Callable[[bytes, Edition], Message]]] = {
    MsgId.LOGIN_REQUEST: decode_login_request,
    MsgId.LOGIN_RESPONSE: lambda body, _: decode_login_response(body),
    MsgId.LINK_TEST: lambda body, _: decode_link_test(body, response=False),
    MsgId.LINK_TEST_RESPONSE: lambda body, _: decode_link_test(body, response=True),
    MsgId.UP_EXCHANGE: lambda body, _: decode_vehicle_exchange(body),
    MsgId.DOWN_EXCHANGE: lambda body, _: decode_vehicle_exchange(body),
}


# ---- field codecs ----------------------------------------------------------------------


@lru_cache(maxsize=4096)  # many vehicles share each second
def _beijing_to_utc(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> datetime:
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=jt808.BEIJING)
    except ValueError as error:
        stamp = f"{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}"
        raise JT809DecodeError("bad_time", f"{stamp}: {error}") from error
    return local.astimezone(UTC)


def _coordinate(micro_degrees: int, negative: bool, limit: int) -> float:
    if micro_degrees > limit * 1_000_000:
        detail = f"{micro_degrees / 1e6} exceeds {limit} degrees"
        raise JT809DecodeError("impossible_coordinates", detail)
    degrees = micro_degrees / 1_000_000
    return -degrees if negative else degrees


def _is_negative(value: float) -> bool:
    return math.copysign(1.0, value) < 0  # -0.0 too: a south/west bit with zero magnitude


def _micro_degrees(degrees: float, limit: int) -> int:
    value = round(abs(degrees) * 1_000_000)
    if value > limit * 1_000_000:
        raise ValueError(f"{degrees} is beyond ±{limit} degrees")
    return value


def _decode_text(raw: bytes) -> str:
    try:
        return raw.split(b"\x00", 1)[0].decode("gbk")
    except UnicodeDecodeError as error:
        raise JT809DecodeError("bad_text", f"{raw.hex()} is not GBK") from error


def _encode_text(text: str, width: int) -> bytes:
    raw = text.encode("gbk")
    if len(raw) > width:
        raise ValueError(f"{text!r} needs {len(raw)} bytes, the field holds {width}")
    return raw.ljust(width, b"\x00")
