"""Plate-camera push events (Hikvision, Dahua, Vzenith) parsed into one `PlateCapture`.

Pushes arrive unauthenticated, so every payload is untrusted: XML with a DOCTYPE or an
entity declaration is refused, malformed input raises `CaptureParseError`, and only the
plate and the capture time are required; any other field that does not parse is left None.
"""

import email
import email.errors
import email.message
import hashlib
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Final, Literal, NoReturn
from xml.parsers import expat

BEIJING: Final = timezone(timedelta(hours=8), "GMT+8")


class PlateColour(StrEnum):
    """Canonical plate colours; each outside source maps onto these."""

    BLUE = "blue"
    YELLOW = "yellow"
    BLACK = "black"
    WHITE = "white"
    GREEN = "green"  # gradient green: small new-energy vehicle
    YELLOW_GREEN = "yellow_green"  # large new-energy vehicle
    OTHER = "other"


_JTT415_COLOURS: Final = {
    1: PlateColour.BLUE,
    2: PlateColour.YELLOW,
    3: PlateColour.BLACK,
    4: PlateColour.WHITE,
    9: PlateColour.OTHER,
    93: PlateColour.YELLOW_GREEN,
    94: PlateColour.GREEN,
}
_ETC_COLOURS: Final = {
    0: PlateColour.BLUE,
    1: PlateColour.YELLOW,
    4: PlateColour.GREEN,
    5: PlateColour.YELLOW_GREEN,
}
# Assumption: colorType as documented for a Vzenith-compatible HTTP push
# (0 unknown, 1 blue, 2 yellow, 3 white, 4 black, 5 green); not checked against Vzenith's
# own manual, and no code for yellow-green is documented there.
_VZENITH_COLOURS: Final = {
    1: PlateColour.BLUE,
    2: PlateColour.YELLOW,
    3: PlateColour.WHITE,
    4: PlateColour.BLACK,
    5: PlateColour.GREEN,
}
_COLOUR_WORDS: Final = {
    "blue": PlateColour.BLUE,
    "蓝": PlateColour.BLUE,
    "yellow": PlateColour.YELLOW,
    "黄": PlateColour.YELLOW,
    "black": PlateColour.BLACK,
    "黑": PlateColour.BLACK,
    "white": PlateColour.WHITE,
    "白": PlateColour.WHITE,
    "green": PlateColour.GREEN,
    "gradientgreen": PlateColour.GREEN,
    "newenergygreen": PlateColour.GREEN,
    "绿": PlateColour.GREEN,
    "渐变绿": PlateColour.GREEN,
    "新能源绿": PlateColour.GREEN,
    "yellowgreen": PlateColour.YELLOW_GREEN,
    "newenergyyellowgreen": PlateColour.YELLOW_GREEN,
    "黄绿": PlateColour.YELLOW_GREEN,
    "黄绿双拼": PlateColour.YELLOW_GREEN,
    "other": PlateColour.OTHER,
    "其他": PlateColour.OTHER,
    "其它": PlateColour.OTHER,
}


def colour_from_jtt415(code: int) -> PlateColour | None:
    """JT/T 415 vehicle plate colour code; None for 0 (unplated) and undefined codes."""
    return _JTT415_COLOURS.get(code)


def colour_from_etc(code: int) -> PlateColour | None:
    """Toll (ETC) plate colour code; None for codes outside the mapped set."""
    return _ETC_COLOURS.get(code)


def colour_from_vzenith(code: int) -> PlateColour | None:
    return _VZENITH_COLOURS.get(code)


def normalise_colour_text(text: str | None) -> PlateColour | None:
    """Colour words firmware sends ("blue", "yellowGreen", "蓝", "黄绿色", ...); None if unknown."""
    if text is None:
        return None
    key = re.sub(r"[\s_\-]", "", unicodedata.normalize("NFKC", text)).lower()
    for suffix in ("车牌", "牌", "色"):
        key = key.removesuffix(suffix)
    return _COLOUR_WORDS.get(key)


# "无车牌" Hikvision; "_无_" Vzenith (assumption); "unknown" English firmware
_UNREAD_PLATES: Final = frozenset({"", "无车牌", "无牌", "无牌车", "未识别", "_无_", "UNKNOWN"})
_PLATE_SEPARATORS: Final = re.compile(r"[\s·•\-]")


def normalise_plate(text: str) -> tuple[str, bool]:
    """(plate, read): full-width folded, separators dropped, letters upper-cased."""
    plate = _PLATE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    return ("", False) if plate in _UNREAD_PLATES else (plate, True)


Reason = Literal[
    "bad_xml",
    "forbidden_dtd",
    "bad_json",
    "bad_multipart",
    "not_plate_event",
    "missing_field",
    "bad_time",
]


class CaptureParseError(ValueError):
    """Raised for any push the parsers cannot read; `reason` is a stable code."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: Reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class PlateCapture:
    """One plate read; an unread plate has `plate` "" and `plate_read` False."""

    plate: str
    plate_read: bool
    colour: PlateColour | None
    captured_at: datetime
    camera_id: str | None
    lane: int | None
    direction: str | None
    vendor: str
    raw: bytes | str
    vehicle_type: str | None = None


@dataclass(frozen=True, slots=True)
class Picture:
    name: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class HikvisionPush:
    capture: PlateCapture
    pictures: tuple[Picture, ...]


# ---- Hikvision -------------------------------------------------------------------------


def parse_hikvision_xml(
    document: bytes | str, *, camera_id: str | None = None, assume_zone: tzinfo = BEIJING
) -> PlateCapture:
    """An `EventNotificationAlert` with an ANPR element, with or without its namespace.

    `assume_zone` applies only when `dateTime` carries no offset.
    """
    root = _parse_xml(document)
    anpr = _child(root, "ANPR")
    if _local_name(root.tag) != "EventNotificationAlert" or anpr is None:
        raise CaptureParseError("not_plate_event", f"<{_local_name(root.tag)}> without ANPR")
    plate_text = _child_text(anpr, "licensePlate")
    if plate_text is None:
        raise CaptureParseError("missing_field", "ANPR/licensePlate")
    plate, read = normalise_plate(plate_text)
    return PlateCapture(
        plate=plate,
        plate_read=read,
        colour=normalise_colour_text(_child_text(anpr, "plateColor")),
        captured_at=_iso_time(_child_text(root, "dateTime"), assume_zone),
        camera_id=camera_id
        or _child_text(root, "deviceID")
        or _child_text(root, "ipAddress")
        or None,
        lane=_int_or_none(_child_text(anpr, "line")),
        direction=_direction(_child_text(anpr, "direction")),
        vendor="hikvision",
        raw=document,
        vehicle_type=_child_text(anpr, "vehicleType") or None,
    )


def parse_hikvision_multipart(
    body: bytes, content_type: str, *, camera_id: str | None = None, assume_zone: tzinfo = BEIJING
) -> HikvisionPush:
    """A multipart push: one XML part (anpr.xml) and pictures, which are hashed, not kept.

    `content_type` is the request's Content-Type header; the capture's `raw` is the XML part.
    """
    xml_parts: list[bytes] = []
    pictures: list[Picture] = []
    for part in _multipart_parts(body, content_type):
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        name = _part_name(part)
        if part.get_content_type() in {"text/xml", "application/xml"} or name.endswith(".xml"):
            xml_parts.append(data)
        else:
            digest = hashlib.sha256(data).hexdigest()
            pictures.append(Picture(name, part.get_content_type(), len(data), digest))
    if len(xml_parts) != 1:
        raise CaptureParseError("bad_multipart", f"{len(xml_parts)} XML parts, expected one")
    capture = parse_hikvision_xml(xml_parts[0], camera_id=camera_id, assume_zone=assume_zone)
    return HikvisionPush(capture, tuple(pictures))


def _multipart_parts(body: bytes, content_type: str) -> list[email.message.Message]:
    if "\r" in content_type or "\n" in content_type:
        raise CaptureParseError("bad_multipart", "line break in the Content-Type header")
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    message = email.message_from_bytes(head + body)
    fatal = (
        email.errors.StartBoundaryNotFoundDefect,
        email.errors.MultipartInvariantViolationDefect,
    )
    if not message.is_multipart() or any(isinstance(d, fatal) for d in message.defects):
        raise CaptureParseError("bad_multipart", f"not a readable multipart body: {content_type}")
    return [part for part in message.walk() if not part.is_multipart()]


def _part_name(part: email.message.Message) -> str:
    name = part.get_param("name", header="content-disposition")
    if isinstance(name, str):
        return name
    return part.get_filename() or ""


def _parse_xml(document: bytes | str) -> ET.Element:
    _refuse_dtd(document)
    try:
        return ET.fromstring(document)  # noqa: S314 -- DTDs refused above, so no entities
    except ET.ParseError as error:
        raise CaptureParseError("bad_xml", str(error)) from error


def _refuse_dtd(document: bytes | str) -> None:
    # expat reports the DOCTYPE before any entity could expand, whatever the encoding
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_declaration
    parser.EntityDeclHandler = _refuse_declaration
    try:
        parser.Parse(document, True)
    except expat.ExpatError as error:
        raise CaptureParseError("bad_xml", str(error)) from error


def _refuse_declaration(*_: object) -> NoReturn:
    raise CaptureParseError("forbidden_dtd", "DOCTYPE and ENTITY declarations are refused")


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(parent: ET.Element, name: str) -> ET.Element | None:
    return next((child for child in parent if _local_name(child.tag) == name), None)


def _child_text(parent: ET.Element, name: str) -> str | None:
    child = _child(parent, name)
    return None if child is None else (child.text or "").strip()


def _iso_time(text: str | None, assume_zone: tzinfo) -> datetime:
    if not text:
        raise CaptureParseError("missing_field", "dateTime")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise CaptureParseError("bad_time", f"{text!r}: {error}") from error
    return (moment if moment.tzinfo else moment.replace(tzinfo=assume_zone)).astimezone(UTC)


# ---- Dahua -----------------------------------------------------------------------------

_DAHUA_RECORD: Final = re.compile(r"Code=(?P<code>[^;]*);.*?data=(?P<data>.*)\Z", re.DOTALL)


def parse_dahua(
    payload: bytes | str, *, camera_id: str | None = None, assume_zone: tzinfo = BEIJING
) -> PlateCapture:
    """A `TrafficJunction` event: its data object, `{"Code", "Data"}`, or a
    `Code=TrafficJunction;...;data={...}` record from the event stream.

    Time: `RealUTC` when present. Otherwise `UTC`, which Dahua fills with local wall time
    counted as if it were UTC (seen in a public sample where `UTC` - `RealUTC` equals the
    camera's zone); it is read in `assume_zone`.
    """
    event = _dahua_event(payload)
    car = _member(event, "TrafficCar")
    if not isinstance(car, dict):
        raise CaptureParseError("missing_field", "TrafficCar")
    plate, read = normalise_plate(_str_or_none(car.get("PlateNumber")) or "")
    colour = _str_or_none(car.get("PlateColor"))
    return PlateCapture(
        plate=plate,
        plate_read=read,
        colour=normalise_colour_text(colour),
        captured_at=_dahua_time(event, assume_zone),
        camera_id=camera_id or _str_or_none(car.get("MachineName")) or None,
        lane=_int_or_none(car.get("Lane", event.get("Lane"))),
        direction=_dahua_direction(car.get("DrivingDirection")),
        vendor="dahua",
        raw=payload,
        vehicle_type=_str_or_none(_member(event, "Vehicle", "Category")),
    )


def _dahua_event(payload: bytes | str) -> dict[str, object]:
    text = _payload_text(payload)
    if (record := _DAHUA_RECORD.match(text.strip())) is not None:
        _expect_traffic_junction(record["code"])
        return _load_json_object(record["data"])
    event = _load_json_object(text)
    if "Data" in event and "Code" in event:
        _expect_traffic_junction(event["Code"])
        data = event["Data"]
        if not isinstance(data, dict):
            raise CaptureParseError("missing_field", "Data")
        return data
    return event


def _expect_traffic_junction(code: object) -> None:
    if code != "TrafficJunction":
        raise CaptureParseError("not_plate_event", f"event code {code!r}")


def _dahua_time(event: dict[str, object], assume_zone: tzinfo) -> datetime:
    micros = (_int_or_none(event.get("UTCMS")) or 0) * 1000
    real_utc = _int_or_none(event.get("RealUTC"))
    if real_utc:
        return _epoch(real_utc, micros, UTC)
    wall = _int_or_none(event.get("UTC", _member(event, "TrafficCar", "UTC")))
    if wall is None:
        raise CaptureParseError("missing_field", "UTC")
    return _epoch(wall, micros, assume_zone)


def _dahua_direction(value: object) -> str | None:
    first = value[0] if isinstance(value, list) and value else value
    return _direction(_str_or_none(first))


# ---- Vzenith ---------------------------------------------------------------------------

_VZENITH_DIRECTIONS: Final = {1: "left", 2: "right", 3: "up", 4: "down"}


def parse_vzenith(payload: bytes | str, *, camera_id: str | None = None) -> PlateCapture:
    """`AlarmInfoPlate.result.PlateResult`; `timeStamp.Timeval.sec` is a true UTC epoch."""
    alarm = _member(_load_json_object(payload), "AlarmInfoPlate")
    result = _member(alarm, "result", "PlateResult")
    if not isinstance(alarm, dict) or not isinstance(result, dict):
        raise CaptureParseError("missing_field", "AlarmInfoPlate.result.PlateResult")
    license_text = _str_or_none(result.get("license"))
    if license_text is None:
        raise CaptureParseError("missing_field", "PlateResult.license")
    plate, read = normalise_plate(license_text)
    colour_code = _int_or_none(result.get("colorType"))
    seconds = _int_or_none(_member(result, "timeStamp", "Timeval", "sec"))
    if seconds is None:
        raise CaptureParseError("missing_field", "PlateResult.timeStamp.Timeval.sec")
    micros = _int_or_none(_member(result, "timeStamp", "Timeval", "usec")) or 0
    return PlateCapture(
        plate=plate,
        plate_read=read,
        colour=None if colour_code is None else colour_from_vzenith(colour_code),
        captured_at=_epoch(seconds, micros, UTC),
        camera_id=camera_id or _str_or_none(alarm.get("serialno")) or None,
        lane=None,
        direction=_VZENITH_DIRECTIONS.get(_int_or_none(result.get("direction")) or 0),
        vendor="vzenith",
        raw=payload,
    )


# ---- shared field readers ----------------------------------------------------------------


def _load_json_object(payload: bytes | str) -> dict[str, object]:
    try:
        value = json.loads(_payload_text(payload))
    except (ValueError, RecursionError) as error:
        raise CaptureParseError("bad_json", str(error)) from error
    if not isinstance(value, dict):
        raise CaptureParseError("bad_json", "the payload is not a JSON object")
    return value


def _payload_text(payload: bytes | str) -> str:
    if isinstance(payload, str):
        return payload
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # some gate-camera firmware sends GBK although its manual says UTF-8
        return payload.decode("gbk")
    except UnicodeDecodeError as error:
        raise CaptureParseError("bad_json", "the payload is neither UTF-8 nor GBK") from error


def _member(value: object, *path: str) -> object:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _str_or_none(value: object) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value)
    return None


def _direction(text: str | None) -> str | None:
    return None if not text or text.lower() == "unknown" else text.lower()


def _epoch(seconds: int, micros: int, zone: tzinfo) -> datetime:
    # `zone` is the zone of the wall time the counter encodes: UTC for a true epoch
    try:
        wall = datetime.fromtimestamp(seconds, UTC).replace(tzinfo=zone)
    except (OverflowError, OSError, ValueError) as error:
        raise CaptureParseError("bad_time", f"{seconds} seconds: {error}") from error
    return (wall + timedelta(microseconds=micros)).astimezone(UTC)
