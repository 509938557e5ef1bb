"""`coalhub bridge` as its own process, killed with SIGKILL at the worst moments: after a
ticket is committed but before it is sent, and after the hub stored it but before the
bridge heard so. Every ticket reaches the hub exactly once; SIGTERM stops it cleanly."""

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from device_bridge.modbus import SimulatedIndicator
from device_bridge.modbus_profiles import FLINTEC_FT112
from device_bridge.simulator import drive, vzenith_push
from tests.device_bridge.peers import (
    HubProxy,
    Served,
    Site,
    count_records,
    free_port,
    site_toml,
    stored_records,
    wait_for_records,
    wait_until,
    weighing_toml,
)

REPO = Path(__file__).resolve().parents[2]
TARE, GROSS = 17020, 49160


class BridgeProcess:
    def __init__(self, config: Path, site: Site, camera_port: int, log: Path) -> None:
        self.config, self.site, self.camera_port, self.log = config, site, camera_port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = os.environ | self.site.environ | {"PYTHONPATH": str(REPO)}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "device_bridge.cli", "--config", str(self.config)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self, signum: signal.Signals) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        code = self.process.wait(15)
        self.process = None
        return code

    async def push_plate(self, plate: str) -> None:
        """The gate camera reads the plate (once the bridge listens)."""
        url = f"http://127.0.0.1:{self.camera_port}/anpr/vzenith"
        async with httpx.AsyncClient() as camera, asyncio.timeout(15):
            while True:
                try:
                    response = await camera.post(url, content=vzenith_push(plate))
                    break
                except httpx.ConnectError:
                    assert self.process is not None
                    assert self.process.poll() is None, self.tail()
                    await asyncio.sleep(0.05)
        assert response.status_code == 200

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def outbox_counts(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        counts = dict(db.execute("SELECT state, count(*) FROM record GROUP BY state").fetchall())
        counts["open"] = db.execute("SELECT count(*) FROM open_weighing").fetchone()[0]
    db.close()
    return counts


CAMERAS = """
[cameras]
listen = "127.0.0.1:%d"
dedupe_seconds = 0.05

[[cameras.sources]]
id = "gate"
address = "127.0.0.1"
vendor = "vzenith"
"""


def modbus_device(site: Site, port: int) -> str:
    return f"""
[[devices]]
code = "WB1"
kind = "modbus_tcp"
cameras = ["gate"]

[devices.modbus]
host = "127.0.0.1"
port = {port}
profile = "flintec_ft112"
poll_seconds = 0.02

[devices.weighing]
{weighing_toml(site)}
"""


async def weigh_truck(bridge: BridgeProcess, indicator: SimulatedIndicator, outbox: Path) -> None:
    """Tare, drive off, gross: returns once the ticket is committed (before it is sent)."""
    await bridge.push_plate("蒙C10000")
    await drive(indicator, TARE, seconds=0.1, steps=4)
    await wait_until(lambda: outbox_counts(outbox).get("open") == 1, seconds=15)
    await drive(indicator, 0, seconds=0.1, steps=4)
    reads = indicator.reads
    await wait_until(lambda: indicator.reads > reads + 5)  # it has seen the empty deck
    tickets = sum(v for k, v in outbox_counts(outbox).items() if k != "open")
    await bridge.push_plate("蒙C10000")
    await drive(indicator, GROSS, seconds=0.1, steps=4)
    await wait_until(
        lambda: sum(v for k, v in outbox_counts(outbox).items() if k != "open") > tickets
    )
    await drive(indicator, 0, seconds=0.1, steps=4)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_sigkill_before_upload_and_before_acknowledgement(
    hub_process: Served, site: Site, engine: AsyncEngine, tmp_path: Path
) -> None:
    indicator = SimulatedIndicator(FLINTEC_FT112)
    await indicator.start()
    proxy = HubProxy(hub_process.url, mode="down")
    link = Served(lambda: proxy.app)
    link.start()
    camera_port, outbox = free_port(), tmp_path / "outbox.sqlite3"
    config = tmp_path / "site.toml"
    config.write_text(
        site_toml(
            site,
            link.url,
            outbox,
            modbus_device(site, indicator.port),
            cameras=CAMERAS % camera_port,
        ),
        encoding="utf-8",
    )
    bridge = BridgeProcess(config, site, camera_port, tmp_path / "bridge.log")
    try:
        # 1. the hub is unreachable: the ticket is committed, then the bridge dies
        bridge.start()
        await weigh_truck(bridge, indicator, outbox)
        assert bridge.kill(signal.SIGKILL) == -signal.SIGKILL
        assert outbox_counts(outbox) == {"pending": 1, "open": 0}
        assert await count_records(engine) == 0

        # 2. acknowledgements are lost: the hub stores, the bridge never hears so
        proxy.mode = "lose"
        bridge.start()
        await weigh_truck(bridge, indicator, outbox)
        await wait_for_records(engine, 2)  # stored, yet every acknowledgement is lost
        assert proxy.lost >= 2
        assert bridge.kill(signal.SIGKILL) == -signal.SIGKILL
        assert outbox_counts(outbox) == {"pending": 2, "open": 0}

        # 3. the link is back: both are redelivered, answered DUPLICATE, settled
        proxy.mode = "pass"
        bridge.start()
        await wait_until(lambda: outbox_counts(outbox).get("delivered") == 2, seconds=15)
        assert bridge.kill(signal.SIGTERM) == 0, bridge.tail()
    finally:
        if bridge.process is not None:
            bridge.kill(signal.SIGKILL)
        link.stop()
        await indicator.stop()
    records = await stored_records(engine)
    assert len(records) == 2
    assert len({r["idempotency_key"] for r in records}) == 2
    assert "bridge stopped" in bridge.tail()
