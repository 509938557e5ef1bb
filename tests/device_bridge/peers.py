"""Real peers for the bridge's end-to-end tests: the hub served by uvicorn, a site in its
database with a device client, a serial indicator behind a pseudo-terminal, and a site
configuration file pointing the bridge at them."""

import asyncio
import contextlib
import os
import socket
import threading
import time
import tty
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp
from strawberry.relay import GlobalID

from coalhub import models as m
from coalhub.app import create_app
from coalhub.clients import create_client
from coalhub.db import create_sessionmaker
from coalhub.settings import Settings
from device_bridge.protocols.base import hex_pair, xor_of
from tests.factories import seed_world, uscc

BUYER_USCC = uscc("150303", 999)


async def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    async with asyncio.timeout(seconds):
        # polling: databases, files and other processes have no change event to await
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def wait_for_records(engine: AsyncEngine, count: int, seconds: float = 15.0) -> None:
    """Until the hub's database holds ``count`` weigh records."""
    async with asyncio.timeout(seconds):
        while await count_records(engine) != count:  # noqa: ASYNC110 - a database: no event
            await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Served:
    """An ASGI app under a real uvicorn server in a thread on 127.0.0.1; it can be
    stopped and started again on the same port (a new app each start)."""

    def __init__(self, app_factory: Callable[[], ASGIApp], port: int | None = None) -> None:
        self._app_factory = app_factory
        self.port = port or free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(
            self._app_factory(), host="127.0.0.1", port=self.port, log_level="warning"
        )
        server = uvicorn.Server(config)
        self._thread = threading.Thread(target=server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.01)
        self._server = server
        self.starts += 1

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(20)
            self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None


def hub_server(settings: Settings) -> Served:
    return Served(lambda: create_app(settings))


class HubProxy:
    """Between the bridge and the hub. ``mode`` "pass" forwards; "down" answers 503 as a
    broken link would; "lose" forwards but, for ingestion, answers 502 after the hub
    has stored the batch: the acknowledgement is lost on its way back."""

    def __init__(self, hub_url: str, mode: str = "pass") -> None:
        self.hub_url = hub_url
        self.mode = mode
        self.lost = 0
        self.app = Starlette(routes=[Route("/{path:path}", self.forward, methods=["GET", "POST"])])

    async def forward(self, request: Request) -> Response:
        if self.mode == "down":
            return Response("service unavailable", status_code=503)
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with httpx.AsyncClient() as client:
            answer = await client.request(
                request.method, self.hub_url + request.url.path, content=body, headers=headers
            )
        if self.mode == "lose" and b"ingestWeighRecords" in body and answer.status_code == 200:
            self.lost += 1
            return Response("bad gateway", status_code=502)
        return Response(answer.content, answer.status_code, media_type="application/json")


@dataclass(frozen=True)
class Site:
    """A weighbridge site in the hub's database, its parties, and its bridge's client."""

    id: int
    global_id: str
    shipper_uscc: str
    consignee_uscc: str
    product_code: str
    client_id: str
    client_secret: str

    @property
    def environ(self) -> dict[str, str]:
        return {"BRIDGE_CLIENT_ID": self.client_id, "BRIDGE_CLIENT_SECRET": self.client_secret}


async def seed_site(engine: AsyncEngine) -> Site:
    world = await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    site_id = world.site_ids[0]
    async with create_sessionmaker(engine)() as session, session.begin():
        credentials = await create_client(
            session, f"bridge-site-{site_id}", "device", site_id=site_id
        )
    return Site(
        id=site_id,
        global_id=str(GlobalID("Site", str(site_id))),
        shipper_uscc=uscc("150302", 1),
        consignee_uscc=BUYER_USCC,
        product_code="JM-XJ",
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
    )


async def stored_records(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(m.WeighRecord).order_by(m.WeighRecord.id))
        return [dict(row._mapping) for row in rows]


async def count_records(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        statement = select(func.count()).select_from(m.WeighRecord)
        return int((await connection.execute(statement)).scalar_one())


def site_toml(
    site: Site,
    hub_url: str,
    outbox: Path,
    devices: str,
    *,
    cameras: str = "",
    hub_extra: str = "",
) -> str:
    """A site configuration for tests: fast retries, the site's credentials by env var."""
    return f"""
site_id = "{site.global_id}"
ticket_prefix = "T{site.id}-"

[hub]
url = "{hub_url}"
client_id_env = "BRIDGE_CLIENT_ID"
client_secret_env = "BRIDGE_CLIENT_SECRET"
retry_initial_seconds = 0.05
retry_max_seconds = 0.4
timeout_seconds = 5
heartbeat_seconds = 0.5
{hub_extra}

[outbox]
path = "{outbox}"
{cameras}
{devices}
"""


def weighing_toml(site: Site, **rules: object) -> str:
    lines = [
        f'product_code = "{site.product_code}"',
        f'shipper_uscc = "{site.shipper_uscc}"',
        f'consignee_uscc = "{site.consignee_uscc}"',
        *(f"{key} = {value}" for key, value in rules.items()),
    ]
    return "\n".join(lines)


def a9_frame(weight: int) -> bytes:
    field = b"%+07d0" % weight
    return b"\x02" + field + hex_pair(xor_of(field)) + b"\x03"


class PtyIndicator:
    """The indicator's end of a pseudo-terminal. The bridge opens ``path``, a symlink as
    udev makes under /dev/serial/by-id: unplugging removes it and closes the pty,
    plugging in again points it at a new pty."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._master: int | None = None
        self._slave: int | None = None

    def plug_in(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo or line editing, whenever pyserial gets to it
        os.set_blocking(self._master, False)
        self.path.symlink_to(os.ttyname(self._slave))

    def unplug(self) -> None:
        assert self._master is not None
        assert self._slave is not None
        os.close(self._master)
        os.close(self._slave)
        self._master = self._slave = None
        self.path.unlink()

    def send(self, data: bytes) -> None:
        assert self._master is not None
        # nobody reading (the port closed): the line drops it, as a real one would
        with contextlib.suppress(BlockingIOError):
            os.write(self._master, data)

    def receive(self) -> bytes:
        assert self._master is not None
        try:
            return os.read(self._master, 1024)
        except BlockingIOError:
            return b""

    @property
    def plugged_in(self) -> bool:
        return self._master is not None


class ContinuousA9:
    """An A9 indicator in continuous mode: sends the current :attr:`weight` every frame
    interval (20 frames a second at 9600 baud) while plugged in."""

    def __init__(self, device: PtyIndicator, interval: float = 0.05) -> None:
        self.device = device
        self.interval = interval
        self.weight = 0
        self.frames = 0

    async def run(self) -> None:
        while True:
            if self.device.plugged_in:
                self.device.send(a9_frame(self.weight))
                self.frames += 1
            await asyncio.sleep(self.interval)


def ticket(
    site: Site, plate: str = "蒙C10000", **changes: object
) -> tuple[str, Callable[[str], dict[str, Any]]]:
    """A completed weighing as the bridge's outbox holds it: its key, and its payload
    around the ticket number the outbox gives it."""
    now, key = datetime.now(UTC), str(uuid.uuid4())

    def payload(ticket_no: str) -> dict[str, Any]:
        return {
            "idempotencyKey": key,
            "ticketNo": ticket_no,
            "siteId": site.global_id,
            "deviceCode": "WB1",
            "direction": "SALE",
            "plate": plate,
            "plateColour": "YELLOW",
            "productCode": site.product_code,
            "tareKg": 17020,
            "tareAt": (now - timedelta(minutes=30)).isoformat(),
            "grossKg": 49160,
            "grossAt": (now - timedelta(minutes=5)).isoformat(),
            "shipperUscc": site.shipper_uscc,
            "consigneeUscc": site.consignee_uscc,
            "evidence": {"second": {"frames": ["02"]}},
        } | changes

    return key, payload
