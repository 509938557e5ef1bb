"""The camera listener: pushes from configured cameras only, deduplicated, parsed as untrusted."""

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest

from coalhub.anpr import PlateColour
from device_bridge.camera_http import VZENITH_OK, CameraListener, CameraRead
from device_bridge.config import CameraSettings, CameraSource, CameraVendor
from device_bridge.simulator import vzenith_push
from tests.test_anpr import hikvision_xml, multipart

HIKVISION = CameraSource("gate-in", "192.168.1.64", CameraVendor.HIKVISION)
VZENITH = CameraSource("lane-2", "192.168.1.65", CameraVendor.VZENITH)
SETTINGS = CameraSettings("0.0.0.0", 8081, (HIKVISION, VZENITH), max_body_bytes=64 * 1024)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reads() -> list[CameraRead]:
    return []


@pytest.fixture
def listener(reads: list[CameraRead], clock: Clock) -> CameraListener:
    return CameraListener(SETTINGS, reads.append, clock=clock)


async def client_from(listener: CameraListener, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=listener.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
        yield client


@pytest.fixture
async def gate(listener: CameraListener) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_from(listener, HIKVISION.address):
        yield client


@pytest.fixture
async def lane(listener: CameraListener) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_from(listener, VZENITH.address):
        yield client


async def test_a_hikvision_multipart_push_with_pictures(
    gate: httpx.AsyncClient, reads: list[CameraRead]
) -> None:
    picture = b"\xff\xd8 a jpeg \xff\xd9"
    body = multipart(
        [
            ("anpr.xml", "application/xml", hikvision_xml("蒙C·12345").encode()),
            ("licensePlatePicture.jpg", "image/jpeg", picture),
        ]
    )
    response = await gate.post(
        "/anpr", content=body, headers={"Content-Type": "multipart/form-data; boundary=boundary"}
    )
    assert response.status_code == 200
    [read] = reads
    assert (read.camera, read.capture.plate, read.capture.colour) == (
        HIKVISION,
        "蒙C12345",
        PlateColour.YELLOW,
    )
    assert read.pictures == (hashlib.sha256(picture).hexdigest(),)
    assert read.capture.camera_id == "gate-in"


async def test_a_bare_hikvision_xml_push(gate: httpx.AsyncClient, reads: list[CameraRead]) -> None:
    response = await gate.post(
        "/anpr/hikvision", content=hikvision_xml(), headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 200
    assert [r.capture.plate for r in reads] == ["蒙C12345"]


async def test_a_vzenith_json_push_gets_the_answer_it_expects(
    lane: httpx.AsyncClient, reads: list[CameraRead]
) -> None:
    response = await lane.post(
        "/anpr/vzenith",
        content=vzenith_push("蒙C20000"),
        headers={"Content-Type": "application/json"},
    )
    assert response.json() == VZENITH_OK
    assert [(r.camera.id, r.capture.plate) for r in reads] == [("lane-2", "蒙C20000")]


async def test_pushes_from_elsewhere_are_refused(
    listener: CameraListener, reads: list[CameraRead]
) -> None:
    async for intruder in client_from(listener, "192.168.1.99"):
        response = await intruder.post("/anpr", content=vzenith_push("蒙C20000"))
        assert response.status_code == 403
    assert reads == []
    assert listener.counters.refused_sources == 1


async def test_a_repeated_read_is_dropped_within_the_window(
    lane: httpx.AsyncClient, listener: CameraListener, reads: list[CameraRead], clock: Clock
) -> None:
    for _ in range(3):
        await lane.post("/anpr/vzenith", content=vzenith_push("蒙C20000"))
        clock.now += 2
    await lane.post("/anpr/vzenith", content=vzenith_push("蒙C30000"))
    clock.now += SETTINGS.dedupe_seconds + 1
    await lane.post("/anpr/vzenith", content=vzenith_push("蒙C20000"))
    assert [r.capture.plate for r in reads] == ["蒙C20000", "蒙C30000", "蒙C20000"]
    assert listener.counters.cameras["lane-2"].duplicates == 2


async def test_unread_and_unreadable_pushes(
    gate: httpx.AsyncClient, listener: CameraListener, reads: list[CameraRead]
) -> None:
    unread = await gate.post("/anpr/hikvision", content=hikvision_xml("无车牌"))
    assert unread.status_code == 200
    doctype = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    hostile = await gate.post("/anpr/hikvision", content=doctype)
    assert (hostile.status_code, hostile.text) == (400, "forbidden_dtd")
    huge = await gate.post("/anpr/hikvision", content=b"<x>" + b"a" * 70_000 + b"</x>")
    assert huge.status_code == 413
    counters = listener.counters.cameras["gate-in"]
    assert (counters.unread_plates, counters.parse_errors) == (1, 1)
    assert listener.counters.oversized_bodies == 1
    assert reads == []
