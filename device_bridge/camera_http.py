"""The bridge's listener for plate-camera pushes (Hikvision ANPR, Vzenith JSON).

Cameras push without authentication, so a push is accepted only from a configured
camera's address, its body is bounded, and its content is parsed as untrusted input by
:mod:`coalhub.anpr`. A camera repeats a read while a truck stands in front of it:
the same plate from the same camera within ``dedupe_seconds`` is acknowledged and
dropped. Unread plates ("无车牌") are counted and dropped.

Endpoints: ``POST /anpr`` (recognised by content type), ``POST /anpr/hikvision``
(multipart with ``anpr.xml`` and pictures, or bare XML), ``POST /anpr/vzenith`` (JSON).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from coalhub import anpr
from device_bridge.config import CameraSettings, CameraSource, CameraVendor

logger = logging.getLogger(__name__)

# what a Vzenith camera expects back; anything else makes some firmware retry
VZENITH_OK = {"Response_AlarmInfoPlate": {"info": "ok"}}


@dataclass(frozen=True)
class CameraRead:
    camera: CameraSource
    capture: anpr.PlateCapture
    pictures: tuple[str, ...]  # SHA-256 of each snapshot
    received_at: float  # bridge monotonic clock


@dataclass
class CameraCounters:
    captures: int = 0
    duplicates: int = 0
    unread_plates: int = 0
    parse_errors: int = 0
    last_push_at: float | None = None


@dataclass
class ListenerCounters:
    refused_sources: int = 0
    oversized_bodies: int = 0
    cameras: dict[str, CameraCounters] = field(default_factory=dict)


class _BodyTooLargeError(Exception):
    pass


class CameraListener:
    """Hands each new plate read to ``on_read``; :attr:`app` is the ASGI app to serve."""

    def __init__(
        self,
        settings: CameraSettings,
        on_read: Callable[[CameraRead], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.counters = ListenerCounters(
            cameras={source.id: CameraCounters() for source in settings.sources}
        )
        self._on_read = on_read
        self._clock = clock
        self._by_address = {source.address: source for source in settings.sources}
        self._recent: dict[tuple[str, str], float] = {}
        self.app = Starlette(
            routes=[
                Route("/anpr", self._push, methods=["POST"]),
                Route("/anpr/hikvision", self._push, methods=["POST"]),
                Route("/anpr/vzenith", self._push, methods=["POST"]),
            ]
        )

    async def _push(self, request: Request) -> Response:
        source = self._by_address.get(request.client.host if request.client else "")
        if source is None:
            self.counters.refused_sources += 1
            logger.warning("refused a camera push from %s", request.client)
            return PlainTextResponse("forbidden", status_code=403)
        try:
            body = await self._body(request)
        except _BodyTooLargeError:
            self.counters.oversized_bodies += 1
            return PlainTextResponse("too large", status_code=413)
        counters = self.counters.cameras[source.id]
        counters.last_push_at = self._clock()
        content_type = request.headers.get("content-type", "")
        try:
            capture, pictures = _parse(source, body, content_type, request.url.path)
        except anpr.CaptureParseError as error:
            counters.parse_errors += 1
            logger.warning("camera %s sent an unreadable push: %s", source.id, error)
            return PlainTextResponse(error.reason, status_code=400)
        self._accept(source, counters, capture, pictures)
        if _vendor(source, content_type, request.url.path) is CameraVendor.VZENITH:
            return JSONResponse(VZENITH_OK)
        return PlainTextResponse("OK")

    async def _body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _BodyTooLargeError
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise _BodyTooLargeError
        return bytes(body)

    def _accept(
        self,
        source: CameraSource,
        counters: CameraCounters,
        capture: anpr.PlateCapture,
        pictures: tuple[str, ...],
    ) -> None:
        now = self._clock()
        if not capture.plate_read:
            counters.unread_plates += 1
            return
        key = (source.id, capture.plate)
        last = self._recent.get(key)
        self._recent[key] = now
        self._forget_before(now - self.settings.dedupe_seconds)
        if last is not None and now - last <= self.settings.dedupe_seconds:
            counters.duplicates += 1
            return
        counters.captures += 1
        self._on_read(CameraRead(source, capture, pictures, now))

    def _forget_before(self, cutoff: float) -> None:
        if len(self._recent) > 256:
            self._recent = {key: at for key, at in self._recent.items() if at >= cutoff}


def _vendor(source: CameraSource, content_type: str, path: str) -> CameraVendor:
    if path.endswith("/vzenith") or "json" in content_type:
        return CameraVendor.VZENITH
    if path.endswith("/hikvision") or "xml" in content_type or "multipart" in content_type:
        return CameraVendor.HIKVISION
    return source.vendor


def _parse(
    source: CameraSource, body: bytes, content_type: str, path: str
) -> tuple[anpr.PlateCapture, tuple[str, ...]]:
    if _vendor(source, content_type, path) is CameraVendor.VZENITH:
        return anpr.parse_vzenith(body, camera_id=source.id), ()
    if content_type.lower().startswith("multipart/"):
        push = anpr.parse_hikvision_multipart(body, content_type, camera_id=source.id)
        return push.capture, tuple(picture.sha256 for picture in push.pictures)
    return anpr.parse_hikvision_xml(body, camera_id=source.id), ()
