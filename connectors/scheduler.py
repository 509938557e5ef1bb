"""In-process scheduling while the hub runs, and the push routes it mounts.

The app's lifespan starts `run_connectors` as a task and sets `stop` on shutdown: services
(TCP gateways) run until then, batch sources with `every` are polled every that many
seconds (each resuming from its checkpoint). Batch sources without `every` (one-off
legacy imports) run only from the CLI.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from coalhub.settings import Settings
from connectors.base import BatchConnector, ConnectorContext, ConnectorStats, PushConnector
from connectors.config import ConnectorSpec, load_config
from connectors.runner import RetryPolicy, run_connector

log = logging.getLogger("coalhub.connectors")


def configured_path(settings: Settings) -> Path | None:
    return settings.connectors_config


def scheduled(specs: dict[str, ConnectorSpec]) -> list[ConnectorSpec]:
    """The connectors the scheduler runs: enabled services, and batch sources with `every`."""
    chosen = []
    for spec in specs.values():
        if not spec.enabled or isinstance(spec.connector, PushConnector):
            continue
        if isinstance(spec.connector, BatchConnector) and spec.every is None:
            continue
        chosen.append(spec)
    return chosen


async def run_connectors(
    settings: Settings,
    engine: AsyncEngine,
    stop: asyncio.Event,
    config_path: Path | None = None,
    *,
    stats: dict[str, ConnectorStats] | None = None,
    policy: RetryPolicy | None = None,
) -> None:
    """Run every scheduled connector of the configuration until `stop` is set.

    The configuration is `config_path`, else `settings.connectors_config` (once Settings
    has it). `stats` (if given) is filled with each connector's live counters, for
    monitoring. Without a configuration there is nothing to run: this returns at once."""
    config_path = config_path or configured_path(settings)
    if config_path is None:
        return
    specs = scheduled(load_config(config_path))
    tasks = []
    for spec in specs:
        ctx = ConnectorContext(spec.name, spec.kind, engine, ConnectorStats(), stop)
        if stats is not None:
            stats[spec.name] = ctx.stats
        connector = spec.connector
        assert not isinstance(connector, PushConnector)
        run = run_connector(
            connector,
            ctx,
            policy=policy or RetryPolicy(),
            follow=True,
            poll_interval=spec.every or 60.0,
            pause=spec.pause,
        )
        tasks.append(asyncio.create_task(run, name=f"connector {spec.name}"))
    log.info("connectors scheduled: %s", ", ".join(spec.name for spec in specs) or "none")
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def connector_routes(
    engine: AsyncEngine,
    config_path: Path | None,
    *,
    stats: dict[str, ConnectorStats] | None = None,
    kind: str | None = None,
) -> list[BaseRoute]:
    """The HTTP routes of every enabled push connector (of `kind`, if given), to mount."""
    if config_path is None:
        return []
    routes: list[BaseRoute] = []
    for spec in load_config(config_path).values():
        connector = spec.connector
        if not spec.enabled or not isinstance(connector, PushConnector):
            continue
        if kind is not None and connector.kind != kind:
            continue
        counters = ConnectorStats()
        if stats is not None:
            stats[spec.name] = counters
        routes.extend(connector.routes(engine, counters))
    return routes


def police_routes(
    engine: AsyncEngine,
    config_path: Path | None,
    *,
    stats: dict[str, ConnectorStats] | None = None,
) -> list[BaseRoute]:
    """The checkpoint cameras' push endpoints (every enabled `police_push` connector).

    Cameras cannot log in: mount these outside the OAuth guard; each connector checks
    the sender against its `allow_from` list."""
    return connector_routes(engine, config_path, stats=stats, kind="police")


def stats_route(stats: dict[str, ConnectorStats], path: str = "/connectors/stats") -> Route:
    """GET: every connector's counters as JSON, for monitoring (mount behind operator auth)."""

    async def counters(request: Request) -> JSONResponse:
        return JSONResponse({name: value.as_dict() for name, value in sorted(stats.items())})

    return Route(path, counters, methods=["GET"], name="connector_stats")
