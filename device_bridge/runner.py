"""One bridge process per site: readers -> weighing sessions -> outbox -> uploader -> hub.

Everything runs in one asyncio loop. A reading goes from its reader to its deck's
session; the events that come out are committed to the outbox before anything else
happens (a commit that fails stops the bridge: better a restart than a lost ticket).
Camera pushes arrive on a small HTTP listener. SIGTERM or SIGINT stops the bridge
cleanly: the listener closes, readers and loops are cancelled, the outbox is closed;
whatever was not acknowledged is still pending and is sent after the restart.
"""

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn

from coalhub.anpr import PlateColour
from device_bridge.camera_http import CameraListener, CameraRead
from device_bridge.config import BRIDGE_DEVICE_CODE, BridgeConfig, Device
from device_bridge.devices import build_reader, protocol_name, reader_counters
from device_bridge.heartbeat import Heartbeat
from device_bridge.hub_client import HubClient
from device_bridge.outbox import Outbox
from device_bridge.protocols.base import Reading
from device_bridge.session import (
    CompletedWeighing,
    DeckSession,
    FirstWeighing,
    Notice,
    OpenWeighings,
    PlateEvent,
    SessionEvent,
)
from device_bridge.uploader import Uploader

logger = logging.getLogger(__name__)

OFFLINE_AFTER_SECONDS = 5.0  # no reading for this long: the indicator is reported offline
CAMERA_QUIET_SECONDS = 3600.0  # cameras push only when a vehicle passes
KEEP_DELIVERED = timedelta(days=30)


class Deck:
    """One indicator: its reader, its weighing session and its last reading."""

    def __init__(
        self,
        device: Device,
        session: DeckSession,
        on_events: Callable[["Deck", list[SessionEvent]], None],
        clock: Callable[[], float],
    ) -> None:
        self.device = device
        self.session = session
        self.reader = build_reader(device, self.sink)
        self.last_reading_at: float | None = None
        self._on_events = on_events
        self._clock = clock

    def sink(self, reading: Reading, at: float) -> None:
        self.last_reading_at = at
        events = self.session.reading(reading, at)
        if events:
            self._on_events(self, events)

    def report(self, site_id: str, now: datetime) -> dict[str, Any]:
        last = self.last_reading_at
        online = last is not None and self._clock() - last <= OFFLINE_AFTER_SECONDS
        weight = self.session.last_weight_kg
        return {
            "siteId": site_id,
            "deviceCode": self.device.code,
            "kind": "INDICATOR",
            "protocol": protocol_name(self.device),
            "status": "ONLINE" if online else "OFFLINE",
            "reportedAt": now.isoformat(),
            "state": {
                "deck": self.session.state.value,
                "lastWeightKg": None if weight is None else str(weight),
                "lastStable": self.session.last_stable,
                "secondsSinceReading": None if last is None else round(self._clock() - last, 1),
                "link": reader_counters(self.reader),
                "weighing": asdict(self.session.counters),
            },
        }


class Bridge:
    def __init__(
        self,
        config: BridgeConfig,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._clock = clock
        self._wall_clock = wall_clock
        self.outbox = Outbox(config.outbox_path, config.ticket_prefix, clock=wall_clock)
        self.open_weighings = OpenWeighings(self.outbox.open_weighings())
        self.client = HubClient(config.hub, http)
        self.uploader = Uploader(
            self.outbox,
            self.client,
            batch_size=config.hub.batch_size,
            backoff=config.hub.backoff,
            concurrency=config.hub.concurrent_batches,
        )
        self.heartbeat = Heartbeat(self.client, config.hub.heartbeat_seconds, self.status_reports)
        self.decks = {device.code: self._deck(device) for device in config.devices}
        cameras = config.cameras
        self.cameras = None if cameras is None else CameraListener(cameras, self._camera_read)
        self._camera_server: uvicorn.Server | None = None
        self._camera_task: asyncio.Task[None] | None = None

    def _deck(self, device: Device) -> Deck:
        session = DeckSession(
            device.code,
            protocol_name(device),
            device.weighing,
            self.open_weighings,
            wall_clock=self._wall_clock,
        )
        return Deck(device, session, self._persist, self._clock)

    @property
    def camera_port(self) -> int | None:
        """The port the camera listener is bound to, once it listens."""
        server = self._camera_server
        if server is None or not server.started:
            return None
        port: int = server.servers[0].sockets[0].getsockname()[1]
        return port

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; a failing task (a bug, a broken disk) ends the run
        with its exception after the others are stopped."""
        self.outbox.prune_delivered(KEEP_DELIVERED)
        loops: dict[str, Coroutine[Any, Any, None]] = {
            f"reader {code}": deck.reader.run() for code, deck in self.decks.items()
        }
        loops |= {"uploader": self.uploader.run(), "heartbeat": self.heartbeat.run()}
        tasks = [asyncio.create_task(coro, name=name) for name, coro in loops.items()]
        if self.cameras is not None:
            self._camera_task = asyncio.create_task(self._serve_cameras(), name="cameras")
            tasks.append(self._camera_task)
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([*tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            await self._stop_cameras()
            for task in [*tasks, stopping]:
                task.cancel()
            await asyncio.gather(*tasks, stopping, return_exceptions=True)
            self.outbox.close()
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise RuntimeError(f"{task.get_name()} failed") from task.exception()
        logger.info("bridge stopped")

    async def _serve_cameras(self) -> None:
        assert self.cameras is not None
        settings = self.cameras.settings
        config = uvicorn.Config(
            self.cameras.app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        try:
            # bound here, not by uvicorn, which would end the process on failure
            listener = socket.create_server((settings.host, settings.port))
        except OSError as error:
            where = f"{settings.host}:{settings.port}"
            raise RuntimeError(f"cannot listen for cameras on {where}: {error}") from error
        self._camera_server = _Server(config)
        await self._camera_server.serve(sockets=[listener])
        if not self._camera_server.should_exit:
            raise RuntimeError(f"the camera listener on {settings.host}:{settings.port} stopped")

    async def _stop_cameras(self) -> None:
        if self._camera_server is None or self._camera_task is None:
            return
        self._camera_server.should_exit = True  # stop accepting, finish pushes in flight
        await asyncio.wait([self._camera_task], timeout=5)

    def outbox_summary(self) -> str:
        with contextlib.suppress(Exception):
            counts = self.outbox.counts()
            return ", ".join(f"{state} {n}" for state, n in counts.items())
        return "outbox closed"

    def _persist(self, deck: Deck, events: list[SessionEvent]) -> None:
        for event in events:
            if isinstance(event, FirstWeighing):
                self.outbox.save_first(event)
                weighing = event.weighing
                logger.info(
                    "%s: %s weighed %d kg", deck.device.code, weighing.plate, weighing.weight_kg
                )
            elif isinstance(event, CompletedWeighing):
                ticket_no = self.outbox.add_ticket(event, self.config.site_id)
                gross, tare = event.gross.weight_kg, event.tare.weight_kg
                logger.info(
                    "ticket %s: %s gross %d tare %d net %d kg committed",
                    ticket_no,
                    event.second.plate,
                    gross,
                    tare,
                    gross - tare,
                )
                self.uploader.wake()
            elif isinstance(event, Notice):
                logger.warning("%s: %s", event.kind, event.detail)

    def _camera_read(self, read: CameraRead) -> None:
        code = self.config.camera_deck(read.camera.id)
        if code is None:
            logger.info("camera %s read %s but watches no deck", read.camera.id, read.capture.plate)
            return
        capture = read.capture
        self.decks[code].session.plate(
            PlateEvent(
                plate=capture.plate,
                colour=capture.colour or _truck_colour(capture.plate),
                received_at=read.received_at,
                captured_at=capture.captured_at,
                camera_id=read.camera.id,
                pictures=read.pictures,
            )
        )

    def status_reports(self) -> list[dict[str, Any]]:
        now, site = self._wall_clock(), self.config.site_id
        reports = [deck.report(site, now) for deck in self.decks.values()]
        if self.cameras is not None:
            reports += self._camera_reports(now)
        reports.append(
            {
                "siteId": site,
                "deviceCode": BRIDGE_DEVICE_CODE,
                "kind": "BRIDGE",
                "protocol": "coalhub-bridge",
                "status": "ONLINE",
                "reportedAt": now.isoformat(),
                "state": {
                    "outbox": self.outbox.counts(),
                    "openWeighings": len(self.open_weighings),
                    "uploader": asdict(self.uploader.counters),
                    "heartbeat": asdict(self.heartbeat.counters),
                },
            }
        )
        return reports

    def _camera_reports(self, now: datetime) -> list[dict[str, Any]]:
        assert self.cameras is not None
        listener = self.cameras.counters
        reports = []
        for source in self.cameras.settings.sources:
            counters = listener.cameras[source.id]
            pushed = counters.last_push_at
            recent = pushed is not None and self._clock() - pushed <= CAMERA_QUIET_SECONDS
            state = asdict(counters) | {"refusedSources": listener.refused_sources}
            reports.append(
                {
                    "siteId": self.config.site_id,
                    "deviceCode": source.id,
                    "kind": "CAMERA",
                    "protocol": source.vendor.value,
                    "status": "ONLINE" if recent else "UNKNOWN",
                    "reportedAt": now.isoformat(),
                    "state": state,
                }
            )
        return reports


def _truck_colour(plate: str) -> PlateColour:
    # ASSUMPTION: a read without a colour is a truck's (weighbridges weigh trucks): yellow,
    # or yellow-green for an 8-character new-energy plate
    return PlateColour.YELLOW_GREEN if len(plate) == 8 else PlateColour.YELLOW


class _Server(uvicorn.Server):
    """The camera listener leaves signals to the bridge, which stops it itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_bridge(config: BridgeConfig) -> None:
    """Run a site's bridge until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=2)
    async with httpx.AsyncClient(limits=limits) as http:
        bridge = Bridge(config, http)
        logger.info(
            "bridge for site %s: %d devices, outbox %s (%s)",
            config.site_id,
            len(bridge.decks),
            config.outbox_path,
            bridge.outbox_summary(),
        )
        await bridge.run(stop)
