"""JT/T 808 terminal protocol codec (2013 and 2019 headers): bytes in, values out, no I/O.

Layouts follow JT/T 808-2013/2019 as implemented by SmallChi/JT808 (0x0100, 0x0102 and
0x0200 checked field by field against it). Split packets are not reassembled here: that
needs per-connection state, so `decode_body` refuses a fragment.
"""

import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum, StrEnum
from functools import lru_cache
from typing import Final, Literal

from connectors.binary import Reader, pack

FLAG: Final = b"\x7e"
BEIJING: Final = timezone(timedelta(hours=8), "GMT+8")

_SPLIT_BIT: Final = 1 << 13
_V2019_BIT: Final = 1 << 14
_MAX_BODY: Final = 0x3FF
# worst case: 2019 header with split fields, longest body, checksum, all escaped, two flags
MAX_FRAME_BYTES: Final = 2 * (21 + _MAX_BODY + 1) + 2

_STATUS_POSITIONED: Final = 1 << 1
_STATUS_SOUTH: Final = 1 << 2
_STATUS_WEST: Final = 1 << 3

Reason = Literal[
    "bad_frame",
    "bad_escape",
    "bad_checksum",
    "truncated",
    "bad_length",
    "bad_split",
    "bad_bcd",
    "bad_text",
    "bad_time",
    "impossible_coordinates",
    "unsupported",
]


class JT808DecodeError(ValueError):
    """Raised for any input the codec cannot decode; `reason` is a stable code."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: Reason = reason
        self.detail = detail


class MsgId(IntEnum):
    HEARTBEAT = 0x0002
    REGISTRATION = 0x0100
    AUTHENTICATION = 0x0102
    LOCATION = 0x0200
    LOCATION_BATCH = 0x0704
    PLATFORM_GENERAL_REPLY = 0x8001
    REGISTRATION_REPLY = 0x8100


class LoadState(StrEnum):
    EMPTY = "empty"
    HALF = "half"
    RESERVED = "reserved"
    FULL = "full"


_LOAD_STATES: Final = (LoadState.EMPTY, LoadState.HALF, LoadState.RESERVED, LoadState.FULL)


@dataclass(frozen=True, slots=True)
class Split:
    total: int
    index: int


@dataclass(frozen=True, slots=True)
class Header:
    """Message header; `protocol_version` is None for a 2013 header, set for a 2019 one."""

    msg_id: int
    phone: str
    seq: int
    protocol_version: int | None = None
    encryption: int = 0
    split: Split | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    header: Header
    body: bytes


@dataclass(frozen=True, slots=True)
class Extra:
    id: int
    value: bytes


@dataclass(frozen=True, slots=True)
class Location:
    """A 0x0200 body. Coordinates are signed; their signs are the south/west status bits."""

    alarm: int
    status: int
    latitude: float
    longitude: float
    altitude_m: int
    speed_kmh: float
    direction: int
    time: datetime
    extras: tuple[Extra, ...] = ()

    @property
    def positioned(self) -> bool:
        return bool(self.status & _STATUS_POSITIONED)

    @property
    def load_state(self) -> LoadState:
        return _LOAD_STATES[(self.status >> 8) & 0b11]

    def extra_value(self, extra_id: int) -> bytes | None:
        return next((e.value for e in self.extras if e.id == extra_id), None)

    @property
    def mileage_km(self) -> float | None:
        raw = self._known_extra(0x01, 4)
        return None if raw is None else raw / 10

    @property
    def fuel_l(self) -> float | None:
        raw = self._known_extra(0x02, 2)
        return None if raw is None else raw / 10

    @property
    def rssi(self) -> int | None:
        return self._known_extra(0x30, 1)

    @property
    def satellites(self) -> int | None:
        return self._known_extra(0x31, 1)

    def _known_extra(self, extra_id: int, size: int) -> int | None:
        # a known id with an unexpected length stays raw in `extras` and reads as absent
        value = self.extra_value(extra_id)
        return int.from_bytes(value, "big") if value is not None and len(value) == size else None


@dataclass(frozen=True, slots=True)
class LocationBatch:
    """A 0x0704 body; `kind` 0 is a normal batch, 1 a blind-area re-upload."""

    kind: int
    locations: tuple[Location, ...]


@dataclass(frozen=True, slots=True)
class Heartbeat:
    pass


@dataclass(frozen=True, slots=True)
class Registration:
    """A 0x0100 body; `plate_colour` is a JT/T 415 code, 0 meaning unplated (plate = VIN)."""

    province_id: int
    city_id: int
    maker_id: str
    model: str
    terminal_id: str
    plate_colour: int
    plate: str


@dataclass(frozen=True, slots=True)
class Authentication:
    """A 0x0102 body; `imei` and `software_version` exist only in 2019."""

    token: str
    imei: str | None = None
    software_version: str | None = None


@dataclass(frozen=True, slots=True)
class GeneralReply:
    reply_seq: int
    reply_msg_id: int
    result: int


@dataclass(frozen=True, slots=True)
class RegistrationReply:
    """A 0x8100 body; the token is sent only when `result` is 0 (success)."""

    reply_seq: int
    result: int
    token: str | None = None


Message = (
    Location
    | LocationBatch
    | Heartbeat
    | Registration
    | Authentication
    | GeneralReply
    | RegistrationReply
)


# ---- framing ---------------------------------------------------------------------------

_UNESCAPE: Final = {b"\x7d\x01": b"\x7d", b"\x7d\x02": b"\x7e"}
_ESCAPE_PAIR: Final = re.compile(rb"\x7d.?", re.DOTALL)


def escape(data: bytes) -> bytes:
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(data: bytes) -> bytes:
    if FLAG in data:
        raise JT808DecodeError("bad_escape", "unescaped 0x7E inside a frame")
    if b"\x7d" not in data:  # most frames: nothing to undo
        return data
    return _ESCAPE_PAIR.sub(_unescape_pair, data)


def _unescape_pair(match: re.Match[bytes]) -> bytes:
    pair = match.group()
    if pair not in _UNESCAPE:
        raise JT808DecodeError("bad_escape", f"0x7D followed by {pair[1:].hex() or 'nothing'}")
    return _UNESCAPE[pair]


def checksum(data: bytes) -> int:
    """XOR of all bytes, folded as one big integer (a byte-by-byte loop is 5x slower)."""
    value, width = int.from_bytes(data, "little"), len(data)
    while width > 1:
        half = width // 2
        value = (value >> (8 * half)) ^ (value & ((1 << (8 * half)) - 1))
        width -= half
    return value


def decode_frame(frame: bytes) -> Frame:
    """Decode one frame including both 0x7E flags; the body is left undecoded."""
    if len(frame) < 2 or frame[:1] != FLAG or frame[-1:] != FLAG:
        raise JT808DecodeError("bad_frame", "a frame starts and ends with 0x7E")
    content = unescape(frame[1:-1])
    if not content:
        raise JT808DecodeError("truncated", "empty frame")
    packet, sent = content[:-1], content[-1]
    if (computed := checksum(packet)) != sent:
        raise JT808DecodeError("bad_checksum", f"computed {computed:#04x}, sent {sent:#04x}")
    header, body_length, size = _decode_header(packet)
    body = packet[size:]
    if len(body) != body_length:
        raise JT808DecodeError("bad_length", f"header says {body_length}, body has {len(body)}")
    return Frame(header, body)


def _decode_header(packet: bytes) -> tuple[Header, int, int]:
    """(header, body length it declares, header size)."""
    if len(packet) < 4:
        raise JT808DecodeError("truncated", f"{len(packet)} bytes cannot hold a header")
    msg_id, attributes = _ID_ATTRIBUTES.unpack_from(packet)
    v2019 = bool(attributes & _V2019_BIT)
    phone_at, phone_size = (5, 10) if v2019 else (4, 6)  # 2019 puts a version byte first
    size = phone_at + phone_size + 2
    if len(packet) < size:
        raise JT808DecodeError("truncated", f"{len(packet)} bytes cannot hold the header")
    version = packet[4] if v2019 else None
    phone = _phone(packet[phone_at : phone_at + phone_size])
    seq = int.from_bytes(packet[size - 2 : size], "big")
    split = None
    if attributes & _SPLIT_BIT:
        reader = Reader(packet, JT808DecodeError, size)
        split = _decode_split(reader)
        size = reader.offset
    encryption = (attributes >> 10) & 0b111
    return Header(msg_id, phone, seq, version, encryption, split), attributes & _MAX_BODY, size


_ID_ATTRIBUTES: Final = struct.Struct(">HH")


@lru_cache(maxsize=65536)  # each terminal sends its phone in every frame
def _phone(raw: bytes) -> str:
    return _decode_bcd(raw, "bad_bcd")


def _decode_split(reader: Reader) -> Split:
    split = Split(total=reader.u16(), index=reader.u16())
    if not 1 <= split.index <= split.total:
        raise JT808DecodeError("bad_split", f"packet {split.index} of {split.total}")
    return split


def encode_frame(header: Header, body: bytes) -> bytes:
    if len(body) > _MAX_BODY:
        raise ValueError(f"a body holds at most {_MAX_BODY} bytes, got {len(body)}")
    attributes = len(body) | (header.encryption & 0b111) << 10
    attributes |= _SPLIT_BIT if header.split is not None else 0
    attributes |= _V2019_BIT if header.protocol_version is not None else 0
    packet = pack(">HH", header.msg_id, attributes)
    if header.protocol_version is not None:
        packet += pack(">B", header.protocol_version)
    packet += _encode_bcd(header.phone, 6 if header.protocol_version is None else 10)
    packet += pack(">H", header.seq)
    if header.split is not None:
        packet += pack(">HH", header.split.total, header.split.index)
    packet += body
    return FLAG + escape(packet + bytes([checksum(packet)])) + FLAG


def split_frames(buffer: bytes) -> tuple[list[bytes], bytes, int]:
    """Cut a TCP byte stream into whole frames that pass `decode_frame`.

    Returns (frames, rest, dropped): `rest` is an unfinished frame to prepend to the next
    read, `dropped` counts the bytes skipped: garbage, and frames that fail `decode_frame`.
    """
    frames: list[bytes] = []
    dropped = position = 0
    while (start := buffer.find(FLAG, position)) != -1:
        dropped += start - position
        end = buffer.find(FLAG, start + 1)
        if end == -1:
            rest = buffer[start:]
            if len(rest) > MAX_FRAME_BYTES:
                return frames, b"", dropped + len(rest)
            return frames, rest, dropped
        if _is_frame(buffer[start : end + 1]):
            frames.append(buffer[start : end + 1])
            position = end + 1
        else:
            # the closing flag of garbage may be the opening flag of the next frame
            dropped += end - start
            position = end
    return frames, b"", dropped + len(buffer) - position


def _is_frame(candidate: bytes) -> bool:
    try:
        decode_frame(candidate)
    except JT808DecodeError:
        return False
    return True


# ---- bodies ----------------------------------------------------------------------------


def decode_body(frame: Frame) -> Message:
    """Decode the body of a whole (not split, not encrypted) frame by its message id."""
    header = frame.header
    if header.split is not None or header.encryption:
        raise JT808DecodeError("unsupported", "split or encrypted body")
    decoder = _DECODERS.get(header.msg_id)
    if decoder is None:
        raise JT808DecodeError("unsupported", f"message id {header.msg_id:#06x}")
    return decoder(frame.body, header.protocol_version is not None)


_LOCATION_FIXED: Final = struct.Struct(">IIIIHHH")
_LOCATION_SIZE: Final = _LOCATION_FIXED.size + 6  # then the BCD time


def decode_location(body: bytes) -> Location:
    # struct and slices rather than a Reader: this runs for every position received
    if len(body) < _LOCATION_SIZE:
        detail = f"need {_LOCATION_SIZE} bytes for a location, {len(body)} left"
        raise JT808DecodeError("truncated", detail)
    alarm, status, latitude, longitude, altitude, speed, direction = _LOCATION_FIXED.unpack_from(
        body
    )
    time = _decode_time(body[_LOCATION_FIXED.size : _LOCATION_SIZE])
    return Location(
        alarm=alarm,
        status=status,
        latitude=_coordinate(latitude, bool(status & _STATUS_SOUTH), 90),
        longitude=_coordinate(longitude, bool(status & _STATUS_WEST), 180),
        altitude_m=altitude,
        speed_kmh=speed / 10,
        direction=direction,
        time=time,
        extras=_decode_extras(body, _LOCATION_SIZE),
    )


def _coordinate(micro_degrees: int, negative: bool, limit: int) -> float:
    if micro_degrees > limit * 1_000_000:
        detail = f"{micro_degrees / 1e6} exceeds {limit} degrees"
        raise JT808DecodeError("impossible_coordinates", detail)
    degrees = micro_degrees / 1_000_000
    return -degrees if negative else degrees


def _decode_extras(body: bytes, offset: int) -> tuple[Extra, ...]:
    # unknown ids are kept raw: real terminals send 0x03, 0x25, 0x2B and vendor ids
    extras: list[Extra] = []
    end = len(body)
    while offset < end:
        if offset + 2 > end:
            raise JT808DecodeError("truncated", f"extra at offset {offset} without its length")
        extra_id, size = body[offset], body[offset + 1]
        offset += 2
        if offset + size > end:
            detail = f"need {size} bytes at offset {offset}, {end - offset} left"
            raise JT808DecodeError("truncated", detail)
        extras.append(Extra(extra_id, body[offset : offset + size]))
        offset += size
    return tuple(extras)


def encode_location(location: Location) -> bytes:
    status = location.status & ~(_STATUS_SOUTH | _STATUS_WEST)
    status |= _STATUS_SOUTH if _is_negative(location.latitude) else 0
    status |= _STATUS_WEST if _is_negative(location.longitude) else 0
    fixed = pack(
        ">IIIIHHH",
        location.alarm,
        status,
        _micro_degrees(location.latitude, 90),
        _micro_degrees(location.longitude, 180),
        location.altitude_m,
        round(location.speed_kmh * 10),
        location.direction,
    )
    extras = b"".join(pack(">BB", e.id, len(e.value)) + e.value for e in location.extras)
    return fixed + _encode_time(location.time) + extras


def _is_negative(value: float) -> bool:
    return math.copysign(1.0, value) < 0  # -0.0 too: a south/west bit with zero magnitude


def _micro_degrees(degrees: float, limit: int) -> int:
    value = round(abs(degrees) * 1_000_000)
    if value > limit * 1_000_000:
        raise ValueError(f"{degrees} is beyond ±{limit} degrees")
    return value


def decode_location_batch(body: bytes) -> LocationBatch:
    reader = Reader(body, JT808DecodeError)
    count, kind = reader.u16(), reader.u8()
    locations = tuple(decode_location(reader.take(reader.u16())) for _ in range(count))
    reader.expect_end()
    return LocationBatch(kind, locations)


def encode_location_batch(batch: LocationBatch) -> bytes:
    items = [encode_location(location) for location in batch.locations]
    head = pack(">HB", len(items), batch.kind)
    return head + b"".join(pack(">H", len(item)) + item for item in items)


def decode_heartbeat(body: bytes) -> Heartbeat:
    Reader(body, JT808DecodeError).expect_end()
    return Heartbeat()


_REGISTRATION_WIDTHS: Final = {False: (5, 20, 7), True: (11, 30, 30)}


def decode_registration(body: bytes, version_2019: bool) -> Registration:
    reader = Reader(body, JT808DecodeError)
    province_id, city_id = reader.u16(), reader.u16()
    maker, model, terminal = (
        _decode_text(reader.take(width)) for width in _REGISTRATION_WIDTHS[version_2019]
    )
    plate_colour = reader.u8()
    plate = _decode_text(reader.rest())
    return Registration(province_id, city_id, maker, model, terminal, plate_colour, plate)


def encode_registration(registration: Registration, version_2019: bool) -> bytes:
    maker_width, model_width, terminal_width = _REGISTRATION_WIDTHS[version_2019]
    return b"".join(
        (
            pack(">HH", registration.province_id, registration.city_id),
            _encode_text(registration.maker_id, maker_width),
            _encode_text(registration.model, model_width),
            _encode_text(registration.terminal_id, terminal_width),
            pack(">B", registration.plate_colour),
            _encode_text(registration.plate),
        )
    )


def decode_authentication(body: bytes, version_2019: bool) -> Authentication:
    reader = Reader(body, JT808DecodeError)
    if not version_2019:
        return Authentication(_decode_text(reader.rest()))
    token = _decode_text(reader.take(reader.u8()))
    imei, software_version = _decode_text(reader.take(15)), _decode_text(reader.take(20))
    reader.expect_end()
    return Authentication(token, imei, software_version)


def encode_authentication(authentication: Authentication, version_2019: bool) -> bytes:
    token = _encode_text(authentication.token)
    if not version_2019:
        return token
    return b"".join(
        (
            pack(">B", len(token)),
            token,
            _encode_text(authentication.imei or "", 15),
            _encode_text(authentication.software_version or "", 20),
        )
    )


def decode_general_reply(body: bytes) -> GeneralReply:
    reader = Reader(body, JT808DecodeError)
    reply = GeneralReply(reply_seq=reader.u16(), reply_msg_id=reader.u16(), result=reader.u8())
    reader.expect_end()
    return reply


def encode_general_reply(reply: GeneralReply) -> bytes:
    return pack(">HHB", reply.reply_seq, reply.reply_msg_id, reply.result)


def decode_registration_reply(body: bytes) -> RegistrationReply:
    reader = Reader(body, JT808DecodeError)
    reply_seq, result = reader.u16(), reader.u8()
    token = _decode_text(reader.rest()) if result == 0 else None
    reader.expect_end()
    return RegistrationReply(reply_seq, result, token)


def encode_registration_reply(reply: RegistrationReply) -> bytes:
    token = _encode_text(reply.token or "") if reply.result == 0 else b""
    return pack(">HB", reply.reply_seq, reply.result) + token


_DECODERS: Final[dict[int, Callable[[bytes, bool], Message]]] = {
    MsgId.HEARTBEAT: lambda body, _: decode_heartbeat(body),
    MsgId.REGISTRATION: decode_registration,
    MsgId.AUTHENTICATION: decode_authentication,
    MsgId.LOCATION: lambda body, _: decode_location(body),
    MsgId.LOCATION_BATCH: lambda body, _: decode_location_batch(body),
    MsgId.PLATFORM_GENERAL_REPLY: lambda body, _: decode_general_reply(body),
    MsgId.REGISTRATION_REPLY: lambda body, _: decode_registration_reply(body),
}


# ---- field codecs ----------------------------------------------------------------------


def _decode_bcd(raw: bytes, reason: Reason) -> str:
    digits = raw.hex()
    if not digits.isdigit():
        raise JT808DecodeError(reason, f"{digits} is not BCD")
    return digits


def _encode_bcd(digits: str, size: int) -> bytes:
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 2 * size:
        raise ValueError(f"{digits!r} is not at most {2 * size} decimal digits")
    return bytes.fromhex(digits.rjust(2 * size, "0"))


@lru_cache(maxsize=4096)  # thousands of trucks report in the same seconds
def _decode_time(raw: bytes) -> datetime:
    digits = _decode_bcd(raw, "bad_time")
    year, month, day, hour, minute, second = (int(digits[i : i + 2]) for i in range(0, 12, 2))
    try:
        local = datetime(2000 + year, month, day, hour, minute, second, tzinfo=BEIJING)
    except ValueError as error:
        raise JT808DecodeError("bad_time", f"{digits}: {error}") from error
    return local.astimezone(UTC)


def _encode_time(moment: datetime) -> bytes:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no defined Beijing time")
    local = moment.astimezone(BEIJING)
    if not 2000 <= local.year <= 2099:
        raise ValueError(f"{local.year} does not fit a two-digit year")
    return bytes.fromhex(local.strftime("%y%m%d%H%M%S"))


def _decode_text(raw: bytes) -> str:
    # fixed-width fields are padded with 0x00; some terminals also terminate strings with it
    try:
        return raw.split(b"\x00", 1)[0].decode("gbk")
    except UnicodeDecodeError as error:
        raise JT808DecodeError("bad_text", f"{raw.hex()} is not GBK") from error


def _encode_text(text: str, width: int | None = None) -> bytes:
    raw = text.encode("gbk")
    if width is None:
        return raw
    if len(raw) > width:
        raise ValueError(f"{text!r} needs {len(raw)} bytes, the field holds {width}")
    return raw.ljust(width, b"\x00")
