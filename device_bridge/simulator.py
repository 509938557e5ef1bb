"""A weighbridge without hardware: a Modbus indicator and a gate camera, for trying a bridge.

    python -m device_bridge.simulator --modbus-port 5020 --camera-url http://127.0.0.1:8081/anpr \\
        --plate 蒙C10000 --tare 17020 --gross 49160

serves an indicator (Flintec FT-112 registers unless ``--profile`` says otherwise) on
127.0.0.1, then plays one truck through a sale: the camera reads its plate, it drives on
empty, stands still, drives off; a while later it comes back loaded and does the same.
It keeps serving (an empty deck) until interrupted, or exits with ``--exit``.
"""

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime
from decimal import Decimal

import click
import httpx

from device_bridge.modbus import SimulatedIndicator
from device_bridge.modbus_profiles import PROFILES

VZENITH_COLOURS = {"blue": 1, "yellow": 2, "white": 3, "black": 4, "green": 5}


def vzenith_push(plate: str, colour: str = "yellow", at: datetime | None = None) -> bytes:
    """A Vzenith-style plate push as the camera posts it."""
    seconds = int((at or datetime.now(UTC)).timestamp())
    body = {
        "AlarmInfoPlate": {
            "serialno": "simulated-camera",
            "result": {
                "PlateResult": {
                    "license": plate,
                    "colorType": VZENITH_COLOURS.get(colour, 0),
                    "timeStamp": {"Timeval": {"sec": seconds, "usec": 0}},
                }
            },
        }
    }
    return json.dumps(body, ensure_ascii=False).encode()


async def drive(indicator: SimulatedIndicator, target: int, seconds: float, steps: int = 8) -> None:
    """Move the weight to ``target`` in steps, in motion, then hold it still."""
    start = indicator.weight
    indicator.stable = False
    for step in range(1, steps + 1):
        indicator.weight = start + (Decimal(target) - start) * step / steps
        await asyncio.sleep(seconds / steps)
    indicator.weight = Decimal(target)
    indicator.stable = True


async def weigh(
    indicator: SimulatedIndicator,
    weight: int,
    *,
    stand_seconds: float = 3.0,
    drive_seconds: float = 2.0,
) -> None:
    """A truck drives on, stands for its weighing, and drives off."""
    await drive(indicator, weight, drive_seconds)
    await asyncio.sleep(stand_seconds)
    await drive(indicator, 0, drive_seconds)


async def _play(
    indicator: SimulatedIndicator, camera_url: str | None, plate: str, weights: list[int]
) -> None:
    async with httpx.AsyncClient() as http:
        for weight in weights:
            if camera_url:
                response = await http.post(
                    camera_url,
                    content=vzenith_push(plate),
                    headers={"Content-Type": "application/json"},
                )
                click.echo(f"camera read {plate}: bridge answered {response.status_code}")
            click.echo(f"{plate} drives on: {weight} kg")
            await weigh(indicator, weight)
            click.echo(f"{plate} drove off")
            await asyncio.sleep(2.0)


async def _simulate(
    profile: str, port: int, camera_url: str | None, plate: str, weights: list[int], leave: bool
) -> None:
    indicator = SimulatedIndicator(PROFILES[profile], port=port)
    await indicator.start()
    click.echo(f"indicator ({profile}) on modbus tcp 127.0.0.1:{indicator.port}")
    try:
        await asyncio.sleep(3.0)  # let the bridge connect
        await _play(indicator, camera_url, plate, weights)
        if not leave:
            click.echo("done; the empty deck stays online (Ctrl-C to stop)")
            await asyncio.Event().wait()  # until interrupted
    finally:
        await indicator.stop()


@click.command()
@click.option("--modbus-port", default=5020, show_default=True, type=int)
@click.option("--profile", default="flintec_ft112", type=click.Choice(sorted(PROFILES)))
@click.option("--camera-url", default=None, help="The bridge's camera listener, e.g. .../anpr")
@click.option("--plate", default="蒙C10000", show_default=True)
@click.option("--tare", default=17020, show_default=True, type=int)
@click.option("--gross", default=49160, show_default=True, type=int)
@click.option("--exit", "leave", is_flag=True, help="Exit after the truck has left")
def main(
    modbus_port: int,
    profile: str,
    camera_url: str | None,
    plate: str,
    tare: int,
    gross: int,
    leave: bool,
) -> None:
    """Simulate a weighbridge indicator and one truck's two weighings."""
    started = time.monotonic()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_simulate(profile, modbus_port, camera_url, plate, [tare, gross], leave))
    click.echo(f"simulator stopped after {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
