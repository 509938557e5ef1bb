"""``coalhub bridge --config site.toml``: run a site's device bridge.

Also ``--check`` (validate the configuration and exit) and ``--outbox`` (print the
outbox's counts and dead letters as JSON, e.g. to see why the hub rejected a ticket),
``--retry-dead`` (send the dead letters again once the hub's data is fixed).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

# `coalhub` mounts this command: the bridge's modules (pymodbus, pyserial, uvicorn) load
# when the command runs, not for every `coalhub` invocation
if TYPE_CHECKING:
    from device_bridge.config import BridgeConfig


@click.command("bridge")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The site's TOML file (see device_bridge/examples/)",
)
@click.option("--check", is_flag=True, help="Validate the configuration and exit")
@click.option("--outbox", "show_outbox", is_flag=True, help="Print outbox counts and dead letters")
@click.option("--retry-dead", is_flag=True, help="Queue every dead letter for sending again")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def bridge(
    config_path: Path, check: bool, show_outbox: bool, retry_dead: bool, log_level: str
) -> None:
    """Run the device bridge of one site: indicators and cameras in, weigh records out."""
    from device_bridge.config import ConfigError, load_config
    from device_bridge.runner import run_bridge

    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # a line per request would drown the weighings; failures are logged by the bridge
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        config = load_config(config_path, os.environ)
    except ConfigError as error:
        raise click.ClickException(f"{config_path}: {error}") from error
    if check:
        click.echo(_summary(config))
        return
    if show_outbox or retry_dead:
        _outbox_command(config, retry_dead)
        return
    asyncio.run(run_bridge(config))


def _summary(config: BridgeConfig) -> str:
    devices = ", ".join(f"{d.code} ({d.protocol})" for d in config.devices)
    cameras = len(config.cameras.sources) if config.cameras else 0
    auth = "client credentials" if config.hub.client_id else "no credentials (development hub)"
    return (
        f"configuration OK: site {config.site_id}, hub {config.hub.url} with {auth}, "
        f"devices {devices}, {cameras} camera(s), outbox {config.outbox_path}"
    )


def _outbox_command(config: BridgeConfig, retry_dead: bool) -> None:
    from device_bridge.outbox import Outbox

    outbox = Outbox(config.outbox_path, config.ticket_prefix)
    try:
        requeued = outbox.retry_dead() if retry_dead else 0
        report = {
            "outbox": str(config.outbox_path),
            "counts": outbox.counts(),
            "requeued": requeued,
            "deadLetters": [
                {
                    "key": letter.key,
                    "ticketNo": letter.ticket_no,
                    "reason": letter.rejection.reason,
                    "field": letter.rejection.field,
                    "message": letter.rejection.message,
                    "at": letter.settled_at,
                }
                for letter in outbox.dead_letters()
            ],
        }
    finally:
        outbox.close()
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    bridge()
