"""Plate-camera pushes: colour and plate normalisation, one parser per vendor, hostile input."""

import dataclasses
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import get_args

import pytest

from coalhub import anpr
from coalhub.anpr import (
    CaptureParseError,
    PlateCapture,
    PlateColour,
    colour_from_etc,
    colour_from_jtt415,
    normalise_colour_text,
    normalise_plate,
)

ISAPI_NS = "http://www.isapi.org/ver20/XMLSchema"
HIK_TIME = datetime(2026, 11, 26, 1, 30, 5, tzinfo=UTC)  # 09:30:05 Beijing time


def hikvision_xml(
    plate: str = "蒙C12345",
    *,
    namespace: str | None = ISAPI_NS,
    date_time: str = "2026-11-26T09:30:05+08:00",
    event_type: str = "ANPR",
    anpr: bool = True,
) -> str:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    anpr_element = f"""
  <ANPR>
    <country>3</country>
    <licensePlate>{plate}</licensePlate>
    <line>2</line>
    <direction>forward</direction>
    <confidenceLevel>97</confidenceLevel>
    <plateType>unknown</plateType>
    <plateColor>yellow</plateColor>
    <vehicleType>truck</vehicleType>
  </ANPR>"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0"{xmlns}>
  <ipAddress>10.15.3.21</ipAddress>
  <portNo>80</portNo>
  <protocol>HTTP</protocol>
  <channelID>1</channelID>
  <dateTime>{date_time}</dateTime>
  <activePostCount>1</activePostCount>
  <eventType>{event_type}</eventType>
  <eventState>active</eventState>
  <eventDescription>ANPR</eventDescription>{anpr_element if anpr else ""}
</EventNotificationAlert>"""


def multipart(parts: list[tuple[str, str, bytes]], boundary: str = "boundary") -> bytes:
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, content_type, data in parts
    ]
    return b"".join(chunks) + f"--{boundary}--\r\n".encode()


def dahua_data(**changes: object) -> dict[str, object]:
    # field names and the UTC/RealUTC relation follow a public TrafficJunction sample
    # (camera in GMT+7: UTC - RealUTC = 25200 s)
    data: dict[str, object] = {
        "Code": "TrafficJunction",
        "Lane": 2,
        "UTC": 1706625295,
        "RealUTC": 1706600095,
        "UTCMS": 305,
        "TrafficCar": {
            "PlateNumber": "蒙C12345",
            "PlateColor": "Yellow",
            "Lane": 1,
            "DrivingDirection": ["Approach", "Car come in", "Car go out"],
            "MachineName": "WH-GATE-03",
        },
        "Vehicle": {"Category": "Truck"},
    }
    return data | changes


def vzenith_json(license_text: str = "蒙C12345", **result: object) -> str:
    plate_result: dict[str, object] = {
        "license": license_text,
        "colorType": 2,
        "confidence": 96,
        "direction": 4,
        "timeStamp": {"Timeval": {"sec": 1795656605, "usec": 250000}},
    }
    return json.dumps(
        {
            "AlarmInfoPlate": {
                "channel": 0,
                "ipaddr": "10.15.3.22",
                "serialno": "a1b2c3d4-e5f60718",
                "result": {"PlateResult": plate_result | result},
            }
        },
        ensure_ascii=False,
    )


# ---- colours and plates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "colour"),
    [
        (1, PlateColour.BLUE),
        (2, PlateColour.YELLOW),
        (3, PlateColour.BLACK),
        (4, PlateColour.WHITE),
        (9, PlateColour.OTHER),
        (93, PlateColour.YELLOW_GREEN),
        (94, PlateColour.GREEN),
        (0, None),
        (5, None),
    ],
)
def test_jtt415_colour_codes(code: int, colour: PlateColour | None) -> None:
    assert colour_from_jtt415(code) is colour


@pytest.mark.parametrize(
    ("code", "colour"),
    [
        (0, PlateColour.BLUE),
        (1, PlateColour.YELLOW),
        (4, PlateColour.GREEN),
        (5, PlateColour.YELLOW_GREEN),
        (9, None),
    ],
)
def test_etc_colour_codes(code: int, colour: PlateColour | None) -> None:
    assert colour_from_etc(code) is colour


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("blue", PlateColour.BLUE),
        ("Blue", PlateColour.BLUE),
        ("蓝", PlateColour.BLUE),
        ("蓝色", PlateColour.BLUE),
        ("yellow", PlateColour.YELLOW),
        ("黄", PlateColour.YELLOW),
        ("黄牌", PlateColour.YELLOW),
        ("black", PlateColour.BLACK),
        ("黑色", PlateColour.BLACK),
        ("white", PlateColour.WHITE),
        ("白", PlateColour.WHITE),
        ("green", PlateColour.GREEN),
        ("渐变绿", PlateColour.GREEN),
        ("绿色", PlateColour.GREEN),
        ("newEnergyGreen", PlateColour.GREEN),
        ("yellowGreen", PlateColour.YELLOW_GREEN),
        ("YellowGreen", PlateColour.YELLOW_GREEN),
        ("yellow_green", PlateColour.YELLOW_GREEN),
        ("黄绿", PlateColour.YELLOW_GREEN),
        ("黄绿色", PlateColour.YELLOW_GREEN),
        ("other", PlateColour.OTHER),
        ("其他", PlateColour.OTHER),
        ("unknown", None),
        ("未知", None),
        ("紫", None),
        ("", None),
        (None, None),
    ],
)
def test_colour_words_from_firmware(text: str | None, colour: PlateColour | None) -> None:
    assert normalise_colour_text(text) is colour


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("蒙C12345", ("蒙C12345", True)),
        (" 蒙c 123 45 ", ("蒙C12345", True)),
        ("蒙C·12345", ("蒙C12345", True)),
        ("蒙Ｃ１２３４５", ("蒙C12345", True)),  # full-width letters and digits
        ("蒙CD12345", ("蒙CD12345", True)),
        ("无车牌", ("", False)),
        ("unknown", ("", False)),
        ("_无_", ("", False)),
        ("", ("", False)),
    ],
)
def test_plate_normalisation(text: str, expected: tuple[str, bool]) -> None:
    assert normalise_plate(text) == expected


# ---- Hikvision -------------------------------------------------------------------------


@pytest.mark.parametrize("namespace", [ISAPI_NS, "http://www.hikvision.com/ver20/XMLSchema", None])
def test_hikvision_xml_with_or_without_namespace(namespace: str | None) -> None:
    document = hikvision_xml(namespace=namespace).encode()
    assert anpr.parse_hikvision_xml(document) == PlateCapture(
        plate="蒙C12345",
        plate_read=True,
        colour=PlateColour.YELLOW,
        captured_at=HIK_TIME,
        camera_id="10.15.3.21",
        lane=2,
        direction="forward",
        vendor="hikvision",
        raw=document,
        vehicle_type="truck",
    )


def test_hikvision_text_input_and_explicit_camera_id() -> None:
    capture = anpr.parse_hikvision_xml(hikvision_xml(), camera_id="gate-3")
    assert capture.camera_id == "gate-3"
    assert capture.raw == hikvision_xml()


def test_hikvision_unread_plate() -> None:
    capture = anpr.parse_hikvision_xml(hikvision_xml("无车牌"))
    assert (capture.plate, capture.plate_read) == ("", False)


@pytest.mark.parametrize(
    ("date_time", "expected"),
    [
        ("2026-11-26T09:30:05+08:00", HIK_TIME),
        ("2026-11-26T01:30:05Z", HIK_TIME),
        ("2026-11-26T09:30:05.250+08:00", HIK_TIME + timedelta(milliseconds=250)),
        ("2026-11-26T09:30:05", HIK_TIME),  # no offset: the assumed zone, Beijing
    ],
)
def test_hikvision_times_become_utc(date_time: str, expected: datetime) -> None:
    captured_at = anpr.parse_hikvision_xml(hikvision_xml(date_time=date_time)).captured_at
    assert captured_at == expected
    assert captured_at.tzinfo is UTC


def test_hikvision_assumed_zone_is_configurable() -> None:
    document = hikvision_xml(date_time="2026-11-26T08:30:05")
    captured_at = anpr.parse_hikvision_xml(
        document, assume_zone=timezone(timedelta(hours=7))
    ).captured_at
    assert captured_at == HIK_TIME


def test_hikvision_multipart_hashes_the_pictures() -> None:
    plate_jpeg, scene_jpeg = b"\xff\xd8plate\xff\xd9", b"\xff\xd8scene\r\n--not-a-boundary\xff\xd9"
    body = multipart(
        [
            ("anpr.xml", "text/xml", hikvision_xml().encode()),
            ("licensePlatePicture.jpg", "image/jpeg", plate_jpeg),
            ("detectionPicture.jpg", "image/jpeg", scene_jpeg),
        ],
        boundary="MIME_boundary_7f3a",
    )
    push = anpr.parse_hikvision_multipart(body, "multipart/form-data; boundary=MIME_boundary_7f3a")
    assert push.capture.plate == "蒙C12345"
    assert push.capture.raw == hikvision_xml().encode()
    assert push.pictures == (
        anpr.Picture(
            "licensePlatePicture.jpg",
            "image/jpeg",
            len(plate_jpeg),
            hashlib.sha256(plate_jpeg).hexdigest(),
        ),
        anpr.Picture(
            "detectionPicture.jpg",
            "image/jpeg",
            len(scene_jpeg),
            hashlib.sha256(scene_jpeg).hexdigest(),
        ),
    )


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<EventNotificationAlert><ANPR><licensePlate>&lol2;</licensePlate></ANPR></EventNotificationAlert>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<EventNotificationAlert><ANPR><licensePlate>&xxe;</licensePlate></ANPR></EventNotificationAlert>"""

HIKVISION_FAILURES: list[tuple[str, Callable[[], object]]] = [
    ("forbidden_dtd", lambda: anpr.parse_hikvision_xml(BILLION_LAUGHS)),
    ("forbidden_dtd", lambda: anpr.parse_hikvision_xml(EXTERNAL_ENTITY.encode())),
    (
        "forbidden_dtd",
        lambda: anpr.parse_hikvision_xml(
            BILLION_LAUGHS.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode(
                "utf-16"
            )
        ),
    ),
    ("bad_xml", lambda: anpr.parse_hikvision_xml(b"<EventNotificationAlert><ANPR>")),
    ("bad_xml", lambda: anpr.parse_hikvision_xml(b"")),
    ("not_plate_event", lambda: anpr.parse_hikvision_xml(hikvision_xml(anpr=False))),
    ("not_plate_event", lambda: anpr.parse_hikvision_xml("<Other><ANPR/></Other>")),
    (
        "missing_field",
        lambda: anpr.parse_hikvision_xml(hikvision_xml().replace("licensePlate>", "plate>")),
    ),
    (
        "missing_field",
        lambda: anpr.parse_hikvision_xml(hikvision_xml().replace("dateTime>", "when>")),
    ),
    ("bad_time", lambda: anpr.parse_hikvision_xml(hikvision_xml(date_time="yesterday"))),
    (
        "bad_multipart",
        lambda: anpr.parse_hikvision_multipart(
            multipart([("a.jpg", "image/jpeg", b"x")]), "multipart/form-data; boundary=boundary"
        ),
    ),
    (
        "bad_multipart",
        lambda: anpr.parse_hikvision_multipart(
            multipart([("anpr.xml", "text/xml", b"<a/>"), ("b.xml", "text/xml", b"<b/>")]),
            "multipart/form-data; boundary=boundary",
        ),
    ),
    (
        "bad_multipart",
        lambda: anpr.parse_hikvision_multipart(
            multipart([("anpr.xml", "text/xml", hikvision_xml().encode())]), "multipart/form-data"
        ),
    ),
    (
        "bad_multipart",
        lambda: anpr.parse_hikvision_multipart(
            multipart([("anpr.xml", "text/xml", hikvision_xml().encode())]), "text/xml"
        ),
    ),
    (
        "bad_multipart",
        lambda: anpr.parse_hikvision_multipart(
            b"", "multipart/form-data; boundary=b\r\nContent-Type: text/plain"
        ),
    ),
    (
        "bad_multipart",
        lambda: anpr.parse_hikvision_multipart(
            b"no boundary here", "multipart/form-data; boundary=boundary"
        ),
    ),
]


# ---- Dahua -----------------------------------------------------------------------------


def test_dahua_event_prefers_real_utc() -> None:
    payload = json.dumps(dahua_data(), ensure_ascii=False).encode()
    assert anpr.parse_dahua(payload) == PlateCapture(
        plate="蒙C12345",
        plate_read=True,
        colour=PlateColour.YELLOW,
        captured_at=datetime(2024, 1, 30, 7, 34, 55, 305000, tzinfo=UTC),
        camera_id="WH-GATE-03",
        lane=1,
        direction="approach",
        vendor="dahua",
        raw=payload,
        vehicle_type="Truck",
    )


def test_dahua_utc_field_is_local_wall_time() -> None:
    payload = json.dumps(dahua_data(RealUTC=None))
    gmt7 = timezone(timedelta(hours=7))
    captured_at = anpr.parse_dahua(payload, assume_zone=gmt7).captured_at
    assert captured_at == datetime(2024, 1, 30, 7, 34, 55, 305000, tzinfo=UTC)
    beijing = anpr.parse_dahua(payload).captured_at
    assert beijing == datetime(2024, 1, 30, 6, 34, 55, 305000, tzinfo=UTC)


def test_dahua_code_and_data_wrapper() -> None:
    payload = json.dumps({"Code": "TrafficJunction", "Action": "Pulse", "Data": dahua_data()})
    assert anpr.parse_dahua(payload).plate == "蒙C12345"


def test_dahua_event_stream_record() -> None:
    data = json.dumps(dahua_data(), ensure_ascii=False, indent=3)
    record = f"Code=TrafficJunction;action=Pulse;index=0;data={data}\r\n".encode()
    capture = anpr.parse_dahua(record, camera_id="gate-1")
    assert (capture.plate, capture.camera_id, capture.raw) == ("蒙C12345", "gate-1", record)


def test_dahua_gbk_payload_and_missing_plate() -> None:
    car = {"PlateNumber": "", "PlateColor": "Unknown"}
    payload = json.dumps(dahua_data(TrafficCar=car), ensure_ascii=False).encode("gbk")
    capture = anpr.parse_dahua(payload)
    assert (capture.plate, capture.plate_read, capture.colour) == ("", False, None)
    assert capture.lane == 2  # the event's lane when the car has none


DAHUA_FAILURES: list[tuple[str, Callable[[], object]]] = [
    ("bad_json", lambda: anpr.parse_dahua("{not json")),
    ("bad_json", lambda: anpr.parse_dahua("[1, 2]")),
    ("bad_json", lambda: anpr.parse_dahua("[" * 100_000 + "]" * 100_000)),
    ("bad_json", lambda: anpr.parse_dahua(b"\xff\xfe\xfa")),
    (
        "not_plate_event",
        lambda: anpr.parse_dahua(json.dumps({"Code": "VideoMotion", "Data": dahua_data()})),
    ),
    ("not_plate_event", lambda: anpr.parse_dahua("Code=VideoMotion;action=Start;index=0;data={}")),
    ("missing_field", lambda: anpr.parse_dahua(json.dumps(dahua_data(TrafficCar=None)))),
    (
        "missing_field",
        lambda: anpr.parse_dahua(json.dumps({"Code": "TrafficJunction", "Data": [1]})),
    ),
    ("missing_field", lambda: anpr.parse_dahua(json.dumps(dahua_data(UTC=None, RealUTC=0)))),
    ("bad_time", lambda: anpr.parse_dahua(json.dumps(dahua_data(RealUTC=10**13)))),
]


# ---- Vzenith ---------------------------------------------------------------------------


def test_vzenith_push() -> None:
    payload = vzenith_json()
    assert anpr.parse_vzenith(payload) == PlateCapture(
        plate="蒙C12345",
        plate_read=True,
        colour=PlateColour.YELLOW,
        captured_at=datetime(2026, 11, 26, 1, 30, 5, 250000, tzinfo=UTC),
        camera_id="a1b2c3d4-e5f60718",
        lane=None,
        direction="down",
        vendor="vzenith",
        raw=payload,
    )


@pytest.mark.parametrize(
    ("code", "colour"),
    [
        (0, None),
        (1, PlateColour.BLUE),
        (3, PlateColour.WHITE),
        (4, PlateColour.BLACK),
        (5, PlateColour.GREEN),
    ],
)
def test_vzenith_numeric_colours(code: int, colour: PlateColour | None) -> None:
    assert anpr.parse_vzenith(vzenith_json(colorType=code)).colour is colour


def test_vzenith_unread_plate() -> None:
    capture = anpr.parse_vzenith(vzenith_json("_无_").encode())
    assert (capture.plate, capture.plate_read) == ("", False)


VZENITH_FAILURES: list[tuple[str, Callable[[], object]]] = [
    ("bad_json", lambda: anpr.parse_vzenith(b"")),
    ("missing_field", lambda: anpr.parse_vzenith(json.dumps({"AlarmInfoPlate": {}}))),
    ("missing_field", lambda: anpr.parse_vzenith(vzenith_json(license=None))),
    ("missing_field", lambda: anpr.parse_vzenith(vzenith_json(timeStamp={"Timeval": {}}))),
    (
        "bad_time",
        lambda: anpr.parse_vzenith(vzenith_json(timeStamp={"Timeval": {"sec": -(10**14)}})),
    ),
]

FAILURES = HIKVISION_FAILURES + DAHUA_FAILURES + VZENITH_FAILURES


@pytest.mark.parametrize(
    ("reason", "parse"), FAILURES, ids=[f"{reason}-{n}" for n, (reason, _) in enumerate(FAILURES)]
)
def test_bad_pushes_raise_the_typed_error(reason: str, parse: Callable[[], object]) -> None:
    with pytest.raises(CaptureParseError) as caught:
        parse()
    assert caught.value.reason == reason


def test_every_reason_code_is_exercised() -> None:
    assert {reason for reason, _ in FAILURES} == set(get_args(anpr.Reason))


def test_captures_are_frozen() -> None:
    capture = anpr.parse_vzenith(vzenith_json())
    with pytest.raises(dataclasses.FrozenInstanceError):
        capture.plate = "蒙C00000"  # type: ignore[misc]
