"""Checkpoint cameras pushing plate captures to the hub over HTTP.

`POST {path}/{checkpoint}/{vendor}` with vendor `hikvision` (ANPR XML, alone or in a
multipart body with pictures), `dahua` (TrafficJunction JSON) or `vzenith` (JSON).
Cameras push without authentication, so the sender's address must be on the allowlist,
bodies are size-capped, and every payload is parsed as untrusted (coalhub.anpr).

Answers: 200 stored or duplicate; 400 unreadable (dead-lettered: a retry cannot help);
403 not on the allowlist; 404 unknown checkpoint or vendor; 413 too large; 503 the
database is unavailable (the camera retries later).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from coalhub import anpr
from coalhub.identifiers import PlateColour
from connectors.base import ConnectorStats, Reject, StoreOutcome
from connectors.fields import plausible_plate
from connectors.police import Capture, CheckpointRegistry, store_captures
from connectors.runner import TRANSIENT
from connectors.store import dead_letter

log = logging.getLogger("coalhub.connectors")
VENDORS = ("hikvision", "dahua", "vzenith")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class PolicePushConfig:
    path: str = "/connectors/police"
    allow_from: tuple[Network, ...] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    max_body_bytes: int = 8 * 1024 * 1024  # a capture with two or three pictures


class PolicePush:
    kind = "police"

    def __init__(self, name: str, config: PolicePushConfig, registry: CheckpointRegistry) -> None:
        self.name = name
        self.config = config
        self.registry = registry

    def routes(self, engine: AsyncEngine, stats: ConnectorStats) -> list[BaseRoute]:
        receiver = _Receiver(self, engine, stats)
        path = self.config.path.rstrip("/") + "/{checkpoint}/{vendor}"
        return [Route(path, receiver.receive, methods=["POST"], name=f"connector:{self.name}")]


class _Receiver:
    def __init__(self, push: PolicePush, engine: AsyncEngine, stats: ConnectorStats) -> None:
        self.push = push
        self.engine = engine
        self.stats = stats
        self._lock = asyncio.Lock()

    async def receive(self, request: Request) -> Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        checkpoint = str(request.path_params["checkpoint"])
        vendor = str(request.path_params["vendor"])
        body = await _body(request, self.push.config.max_body_bytes)
        if body is None:
            return _answer(413, "body too large")
        self.stats.received += 1
        locator = f"checkpoint {checkpoint} {vendor} from {_client(request)}"
        parsed = _parse(vendor, body, request.headers.get("content-type", ""), checkpoint, locator)
        try:
            outcome = await self._store(parsed)
        except TRANSIENT as error:
            self.stats.errors += 1
            self.stats.last_error = f"{type(error).__name__}: {error}"[:500]
            log.warning("connector %s: cannot store a capture: %s", self.push.name, error)
            return _answer(503, "storage unavailable, retry later")
        self.stats.record(outcome)
        if isinstance(parsed, Reject):
            return _answer(400, parsed.reason)
        if outcome.rejects:
            return _answer(200, outcome.rejects[0].reason)
        return _answer(200, "stored" if outcome.stored else "duplicate")

    def _refusal(self, request: Request) -> Response | None:
        try:
            address = ipaddress.ip_address(_client(request))
        except ValueError:
            return _answer(403, "unknown sender")
        if not any(address in network for network in self.push.config.allow_from):
            return _answer(403, "sender not allowed")
        if request.path_params["checkpoint"] not in self.push.registry.sites:
            return _answer(404, "unknown checkpoint")
        if request.path_params["vendor"] not in VENDORS:
            return _answer(404, f"vendor is one of {', '.join(VENDORS)}")
        return None

    async def _store(self, parsed: Capture | Reject) -> StoreOutcome:
        async with self._lock, self.engine.begin() as connection:
            # one at a time: cameras push a few captures a second at most
            if isinstance(parsed, Reject):
                outcome = StoreOutcome(rejects=[parsed])
            else:
                outcome = await store_captures(connection, self.push.registry, [parsed])
            await dead_letter(connection, self.push.name, outcome.rejects)
            return outcome


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else ""


async def _body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, message: str) -> Response:
    return JSONResponse({"result": message}, status_code=status)


def _parse(
    vendor: str, body: bytes, content_type: str, checkpoint: str, locator: str
) -> Capture | Reject:
    try:
        image: str | None = None
        if vendor == "hikvision" and content_type.lower().startswith("multipart/"):
            push = anpr.parse_hikvision_multipart(body, content_type)
            capture = push.capture
            image = _first_picture(push.pictures)
        elif vendor == "hikvision":
            capture = anpr.parse_hikvision_xml(body)
        elif vendor == "dahua":
            capture = anpr.parse_dahua(body)
        else:
            capture = anpr.parse_vzenith(body)
    except anpr.CaptureParseError as error:
        return Reject(error.reason, error.detail, _raw(body), locator)
    if not capture.plate_read:
        return Reject("plate_unread", "the camera read no plate", _raw(body), locator)
    plate = plausible_plate(capture.plate)
    if plate is None:
        return Reject("bad_plate", f"plate {capture.plate!r}", _raw(body), locator)
    return Capture(
        checkpoint=checkpoint,
        plate=plate,
        colour=None if capture.colour is None else PlateColour(capture.colour.value),
        passed_at=capture.captured_at,
        direction=capture.direction,
        lane=capture.lane,
        raw=_raw(capture.raw if isinstance(capture.raw, bytes) else capture.raw.encode()),
        locator=locator,
        image_sha256=image,
    )


def _first_picture(pictures: Sequence[anpr.Picture]) -> str | None:
    return pictures[0].sha256 if pictures else None


def _raw(body: bytes) -> bytes | str:
    # text payloads stay readable in the dead-letter table; pictures and binary as base64
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body
