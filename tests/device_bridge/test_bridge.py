"""The whole bridge in-process against real peers: a pymodbus indicator or a serial one
behind a pseudo-terminal, camera pushes over HTTP, and the hub under uvicorn with OAuth.
Faults (hub stopped, Modbus server restarted, serial port unplugged) lose nothing and
store nothing twice."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from device_bridge.config import load_config
from device_bridge.modbus import ModbusIndicator, SimulatedIndicator
from device_bridge.modbus_profiles import FLINTEC_FT112
from device_bridge.runner import Bridge
from device_bridge.serial_port import SerialIndicator
from device_bridge.session import DeckState
from device_bridge.simulator import drive, vzenith_push
from tests.device_bridge.peers import (
    ContinuousA9,
    PtyIndicator,
    Served,
    Site,
    count_records,
    free_port,
    site_toml,
    stored_records,
    wait_until,
    weighing_toml,
)

TARE, GROSS = 17020, 49160


def gate_camera(port: int) -> str:
    """The [cameras] section: one Vzenith camera at the gate, pushing to `port`."""
    return f"""
[cameras]
listen = "127.0.0.1:{port}"
dedupe_seconds = 0.05  # trucks come back within a second here, not after loading

[[cameras.sources]]
id = "gate"
address = "127.0.0.1"
vendor = "vzenith"
"""


def modbus_site(site: Site, hub_url: str, tmp_path: Path, modbus_port: int) -> Path:
    cameras = gate_camera(free_port())
    devices = f"""
[[devices]]
code = "WB1"
kind = "modbus_tcp"
cameras = ["gate"]

[devices.modbus]
host = "127.0.0.1"
port = {modbus_port}
profile = "flintec_ft112"
poll_seconds = 0.02
timeout_seconds = 0.5
retry_initial_seconds = 0.05
retry_max_seconds = 0.2

[devices.weighing]
{weighing_toml(site)}
"""
    path = tmp_path / "site.toml"
    text = site_toml(site, hub_url, tmp_path / "outbox.sqlite3", devices, cameras=cameras)
    path.write_text(text, encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def running(config_path: Path, site: Site) -> AsyncIterator[Bridge]:
    config = load_config(config_path, site.environ)
    async with httpx.AsyncClient() as http:
        bridge = Bridge(config, http)
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        try:
            if config.cameras is not None:
                await wait_until(lambda: bridge.camera_port is not None or task.done())
            yield bridge
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)  # a clean stop, or the test fails


async def read_plate(bridge: Bridge, plate: str) -> None:
    url = f"http://127.0.0.1:{bridge.camera_port}/anpr/vzenith"
    async with httpx.AsyncClient() as camera:
        response = await camera.post(url, content=vzenith_push(plate))
    assert response.status_code == 200


async def weigh(bridge: Bridge, indicator: SimulatedIndicator, plate: str, weight: int) -> None:
    """One truck drives on, is weighed (the indicator's stable flag) and drives off."""
    deck = bridge.decks["WB1"]
    await read_plate(bridge, plate)
    await drive(indicator, weight, seconds=0.1, steps=4)
    await wait_until(lambda: deck.session.state is DeckState.WEIGHED)
    await drive(indicator, 0, seconds=0.1, steps=4)
    await wait_until(lambda: deck.session.state is DeckState.EMPTY)


@contextlib.asynccontextmanager
async def modbus_indicator() -> AsyncIterator[SimulatedIndicator]:
    indicator = SimulatedIndicator(FLINTEC_FT112)
    await indicator.start()
    try:
        yield indicator
    finally:
        await indicator.stop()


async def test_a_truck_on_a_modbus_indicator_becomes_one_weigh_record_in_the_hub(
    hub_process: Served, site: Site, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with (
        modbus_indicator() as indicator,
        running(modbus_site(site, hub_process.url, tmp_path, indicator.port), site) as bridge,
    ):
        await weigh(bridge, indicator, "蒙C10000", TARE)
        assert bridge.outbox.counts()["pending"] == 0  # a first weighing is no ticket
        assert [w.weight_kg for w in bridge.outbox.open_weighings()] == [TARE]
        await weigh(bridge, indicator, "蒙C10000", GROSS)
        await wait_until(lambda: bridge.outbox.counts()["delivered"] == 1)
        beats = bridge.heartbeat.counters.sent
        await wait_until(lambda: bridge.heartbeat.counters.sent >= beats + 2)  # one after it
    [record] = await stored_records(engine)
    assert (record["gross_kg"], record["tare_kg"], record["plate_read"]) == (
        GROSS,
        TARE,
        "蒙C10000",
    )
    assert record["site_id"] == site.id
    assert record["source"] is m.RecordSource.BRIDGE
    assert record["tare_at"] < record["gross_at"] == record["weighed_at"]
    # the raw register blocks of the stable window decode to the recorded weight
    frames = record["evidence"]["second"]["frames"]
    assert frames
    assert record["evidence"]["second"]["stability"] == "indicator"
    block = bytes.fromhex(frames[-1])
    registers = [int.from_bytes(block[i : i + 2], "big") for i in range(0, len(block), 2)]
    reading = FLINTEC_FT112.decode(registers)
    assert (reading.weight, reading.stable) == (Decimal(GROSS), True)
    async with engine.connect() as connection:
        devices = {
            row.code: row
            for row in await connection.execute(
                select(m.Device.code, m.Device.status, m.Device.protocol, m.Device.last_state)
            )
        }
        last_seen = (
            await connection.execute(select(m.Site.last_seen_at).where(m.Site.id == site.id))
        ).scalar_one()
    assert record["device_id"] is not None
    assert (devices["WB1"].status, devices["WB1"].protocol) == (m.DeviceStatus.ONLINE, "modbus_tcp")
    assert devices["WB1"].last_state["weighing"]["tickets"] == 1
    assert devices["bridge"].last_state["outbox"]["delivered"] >= 0
    assert devices["gate"].status is m.DeviceStatus.ONLINE
    assert last_seen is not None


async def test_the_hub_stopped_during_a_run_of_weighings(
    hub_process: Served, site: Site, engine: AsyncEngine, tmp_path: Path
) -> None:
    plates = ["蒙C10001", "蒙C10002", "蒙C10003", "蒙C10000"]
    async with (
        modbus_indicator() as indicator,
        running(modbus_site(site, hub_process.url, tmp_path, indicator.port), site) as bridge,
    ):
        for weight in (TARE, GROSS):
            await weigh(bridge, indicator, plates[0], weight)
        await wait_until(lambda: bridge.outbox.counts()["delivered"] == 1)
        hub_process.stop()
        for plate in plates[1:3]:
            for weight in (TARE, GROSS):
                await weigh(bridge, indicator, plate, weight)
        await wait_until(lambda: bridge.uploader.counters.failures >= 2)
        assert bridge.outbox.counts()["pending"] == 2
        hub_process.start()
        for weight in (TARE, GROSS):
            await weigh(bridge, indicator, plates[3], weight)
        await wait_until(lambda: bridge.outbox.counts()["delivered"] == 4, seconds=15)
        keys = {p.key for p in bridge.outbox.pending(10)}
        assert keys == set()
    records = await stored_records(engine)
    assert sorted(r["plate_read"] for r in records) == sorted(plates)
    assert len({r["idempotency_key"] for r in records}) == 4


async def test_a_modbus_server_restart_mid_session_loses_and_repeats_nothing(
    hub_process: Served, site: Site, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with (
        modbus_indicator() as indicator,
        running(modbus_site(site, hub_process.url, tmp_path, indicator.port), site) as bridge,
    ):
        deck = bridge.decks["WB1"]
        reader = deck.reader
        assert isinstance(reader, ModbusIndicator)
        await weigh(bridge, indicator, "蒙C10000", TARE)
        # the loaded truck drives on and the indicator drops off the network in motion
        await read_plate(bridge, "蒙C10000")
        indicator.stable = False
        indicator.weight = type(indicator.weight)(30000)
        await wait_until(lambda: deck.session.state is DeckState.OCCUPIED)
        await indicator.stop()
        await wait_until(lambda: reader.counters.connection_errors >= 2)
        await indicator.start()
        await drive(indicator, GROSS, seconds=0.1, steps=4)
        await wait_until(lambda: deck.session.state is DeckState.WEIGHED)
        # and again while the weighed truck still stands on the deck
        await indicator.stop()
        await wait_until(lambda: reader.counters.connection_errors >= 4)
        await indicator.start()
        readings = deck.session.counters.readings
        await wait_until(lambda: deck.session.counters.readings > readings + 10)
        await drive(indicator, 0, seconds=0.1, steps=4)
        await wait_until(lambda: bridge.outbox.counts()["delivered"] == 1)
        assert deck.session.counters.weighings == 2
        assert reader.counters.reconnects >= 2
    [record] = await stored_records(engine)
    assert (record["gross_kg"], record["tare_kg"]) == (GROSS, TARE)


def serial_site(site: Site, hub_url: str, tmp_path: Path, port: Path) -> Path:
    cameras = gate_camera(free_port())
    devices = f"""
[[devices]]
code = "WB1"
kind = "serial"
protocol = "yaohua_a9"
cameras = ["gate"]

[devices.serial]
port = "{port}"
baudrate = 9600
retry_initial_seconds = 0.05
retry_max_seconds = 0.2

[devices.weighing]
{weighing_toml(site, stable_readings=5, stable_seconds=0.25)}
"""
    path = tmp_path / "site.toml"
    text = site_toml(site, hub_url, tmp_path / "outbox.sqlite3", devices, cameras=cameras)
    path.write_text(text, encoding="utf-8")
    return path


async def ramp(a9: ContinuousA9, target: int, frames: int = 6) -> None:
    start = a9.weight
    for step in range(1, frames + 1):
        a9.weight = start + (target - start) * step // frames
        await asyncio.sleep(a9.interval)


async def test_a_serial_indicator_at_its_frame_rate_unplugged_and_replugged(
    hub_process: Served, site: Site, engine: AsyncEngine, tmp_path: Path
) -> None:
    device = PtyIndicator(tmp_path / "usb-FTDI_FT232R-if00-port0")
    device.plug_in()
    a9 = ContinuousA9(device)
    sending = asyncio.create_task(a9.run())
    try:
        async with running(
            serial_site(site, hub_process.url, tmp_path, device.path), site
        ) as bridge:
            deck = bridge.decks["WB1"]
            reader = deck.reader
            assert isinstance(reader, SerialIndicator)
            await read_plate(bridge, "蒙C10000")
            await ramp(a9, TARE)
            await wait_until(lambda: deck.session.state is DeckState.WEIGHED)
            await ramp(a9, 0)
            await wait_until(lambda: deck.session.state is DeckState.EMPTY)
            device.unplug()  # between the two weighings
            await wait_until(lambda: reader.counters.open_failures >= 1)
            device.plug_in()
            await read_plate(bridge, "蒙C10000")
            await ramp(a9, GROSS)
            await wait_until(lambda: deck.session.state is DeckState.WEIGHED)
            await wait_until(
                lambda: bridge.outbox.counts()["pending"] + bridge.outbox.counts()["delivered"] == 1
            )
            device.unplug()  # while the weighed truck stands on the deck
            await wait_until(lambda: reader.counters.disconnects >= 2)
            device.plug_in()
            readings = deck.session.counters.readings
            await wait_until(lambda: deck.session.counters.readings > readings + 10)
            await ramp(a9, 0)
            await wait_until(lambda: bridge.outbox.counts()["delivered"] == 1)
            assert deck.session.counters.weighings == 2  # nothing weighed twice
            assert reader.framer.counters.bad_checksums == 0
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        if device.plugged_in:
            device.unplug()
    [record] = await stored_records(engine)
    assert (record["gross_kg"], record["tare_kg"]) == (GROSS, TARE)
    evidence = record["evidence"]["second"]
    assert evidence["stability"] == "inferred"
    assert len(evidence["frames"]) >= 5
    assert evidence["windowSeconds"] >= 0.25
    assert await count_records(engine) == 1
