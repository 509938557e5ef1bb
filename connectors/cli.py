"""`coalhub connector …`: list the configured connectors, run one in the foreground, and
read what they dead-lettered. The configuration is `--config` or
$COALHUB_CONNECTORS_CONFIG."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub.db import create_engine
from coalhub.models.connector import ConnectorCheckpoint, DeadLetter
from coalhub.settings import Settings
from connectors.base import (
    BatchConnector,
    ConnectorConfigError,
    ConnectorContext,
    ConnectorStats,
    PushConnector,
)
from connectors.config import ConnectorSpec, load_config
from connectors.runner import RetryPolicy, run_connector
from connectors.store import dead_letter_counts, reset_checkpoint

console = Console(stderr=True)

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="COALHUB_CONNECTORS_CONFIG",
    required=True,
    help="The connectors' TOML file (default: $COALHUB_CONNECTORS_CONFIG)",
)


@click.group("connector")
def connector() -> None:
    """Connectors: transport (JT/T 808/809, HTTP), police checkpoints, tax invoices, legacy."""


def _specs(config_path: Path) -> dict[str, ConnectorSpec]:
    try:
        return load_config(config_path)
    except ConnectorConfigError as error:
        raise click.ClickException(str(error)) from error


@connector.command("list")
@config_option
def list_connectors(config_path: Path) -> None:
    """Every configured connector with its schedule, checkpoint and dead letters."""
    specs = _specs(config_path)
    checkpoints, letters = asyncio.run(_bookkeeping(Settings.from_environ()))
    table = Table("name", "kind", "type", "schedule", "checkpoint", "updated", "dead letters")
    for spec in specs.values():
        state, updated = checkpoints.get(spec.name, (None, None))
        table.add_row(
            spec.name,
            spec.kind,
            _type(spec),
            _schedule(spec),
            "" if state is None else _checkpoint_summary(state),
            "" if updated is None else updated.isoformat(timespec="seconds"),
            str(letters.get(spec.name, 0)),
        )
    _out().print(table)


async def _bookkeeping(settings: Settings) -> tuple[dict[str, Any], dict[str, int]]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(
                    ConnectorCheckpoint.name,
                    ConnectorCheckpoint.state,
                    ConnectorCheckpoint.updated_at,
                )
            )
            checkpoints = {name: (state, updated) for name, state, updated in rows}
            counts = await connection.execute(
                select(DeadLetter.connector, func.count()).group_by(DeadLetter.connector)
            )
            return checkpoints, {name: int(n) for name, n in counts}
    finally:
        await engine.dispose()


def _type(spec: ConnectorSpec) -> str:
    if isinstance(spec.connector, PushConnector):
        return "push"
    return "batch" if isinstance(spec.connector, BatchConnector) else "service"


def _schedule(spec: ConnectorSpec) -> str:
    if not spec.enabled:
        return "disabled"
    if isinstance(spec.connector, PushConnector):
        return "mounted in the hub"
    if isinstance(spec.connector, BatchConnector):
        return "on demand" if spec.every is None else f"every {spec.every:g} s"
    return "always"


def _checkpoint_summary(state: dict[str, Any]) -> str:
    files = state.get("files")
    if isinstance(files, dict):
        complete = sum(1 for entry in files.values() if entry.get("complete"))
        return f"{complete}/{len(files)} files read"
    if "cursor" in state:
        return f"cursor {_short(state['cursor'], 30)}"
    return _short(state, 30)


def _out() -> Console:
    # tables for people; piped output keeps a readable width instead of 80 columns
    return Console() if sys.stdout.isatty() else Console(width=140)


def _short(state: object, width: int = 60) -> str:
    text = str(state)
    return text if len(text) <= width else text[: width - 1] + "…"


@connector.command("run")
@click.argument("name")
@config_option
@click.option("--reset", is_flag=True, help="Forget the checkpoint first (replays are harmless)")
@click.option("--follow", is_flag=True, help="Batch sources: keep polling (every `every` s)")
@click.option("--max-failures", default=5, show_default=True, help="Give up after N in a row")
def run(name: str, config_path: Path, reset: bool, follow: bool, max_failures: int) -> None:
    """Run connector NAME in the foreground until done (batch) or Ctrl-C (service)."""
    specs = _specs(config_path)
    spec = specs.get(name)
    if spec is None:
        raise click.ClickException(f"no connector {name!r} in {config_path} ({', '.join(specs)})")
    if isinstance(spec.connector, PushConnector):
        raise click.ClickException(f"{name} receives pushes: it runs inside `coalhub serve`")
    settings = Settings.from_environ()
    stats, failed = asyncio.run(_run(settings, spec, reset, follow, max_failures))
    _summary(spec.name, stats)
    if stats.dead_lettered:
        counts, letters = asyncio.run(_rejected(settings, spec.name))
        table = Table("reason", "records", title=f"rejected records of {spec.name} (all runs)")
        for reason, n in counts.items():
            table.add_row(reason, str(n))
        _out().print(table)
        _print_dead_letters(letters, title="the latest of them")
    if failed:
        sys.exit(1)


async def _rejected(settings: Settings, name: str) -> tuple[dict[str, int], list[Any]]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            counts = await dead_letter_counts(connection, name)
        return counts, await _recent_dead_letters(settings, name, 10, engine)
    finally:
        await engine.dispose()


async def _run(
    settings: Settings, spec: ConnectorSpec, reset: bool, follow: bool, max_failures: int
) -> tuple[ConnectorStats, bool]:
    engine = create_engine(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
    ctx = ConnectorContext(spec.name, spec.kind, engine, ConnectorStats(), stop)
    connector = spec.connector
    assert not isinstance(connector, PushConnector)
    try:
        if reset:
            async with engine.begin() as connection:
                await reset_checkpoint(connection, spec.name)
        with _progress() as progress:
            task = progress.add_task(spec.name, total=None)

            def report(done: int, total: int | None) -> None:
                progress.update(task, completed=done, total=total)

            ctx.progress = report
            announcer = asyncio.create_task(_announce(ctx))
            policy = RetryPolicy(max_failures=max_failures)
            try:
                await run_connector(
                    connector,
                    ctx,
                    policy=policy,
                    follow=follow,
                    poll_interval=spec.every or 60.0,
                    pause=spec.pause,
                )
            except Exception as error:  # already logged by the runner; the summary says more
                console.print(f"[red]{spec.name} gave up: {type(error).__name__}: {error}")
                return ctx.stats, True
            finally:
                announcer.cancel()
        return ctx.stats, False
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        await engine.dispose()


async def _announce(ctx: ConnectorContext) -> None:
    await ctx.ready.wait()
    host, port = ctx.bound["address"]
    console.print(f"{ctx.name} listening on {host}:{port} (Ctrl-C stops)")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _summary(name: str, stats: ConnectorStats) -> None:
    table = Table("counter", "value", title=f"{name}")
    for key, value in stats.as_dict().items():
        if value is not None:
            table.add_row(key, str(value))
    _out().print(table)


async def _recent_dead_letters(
    settings: Settings, name: str | None, limit: int, engine: AsyncEngine | None = None
) -> list[Any]:
    own = engine is None
    engine = engine or create_engine(settings)
    try:
        async with engine.connect() as connection:
            statement = select(DeadLetter.__table__).order_by(DeadLetter.id.desc()).limit(limit)
            if name is not None:
                statement = statement.where(DeadLetter.connector == name)
            return list(await connection.execute(statement))
    finally:
        if own:
            await engine.dispose()


def _print_dead_letters(rows: list[Any], title: str) -> None:
    table = Table("id", "connector", "received", "reason", "where", "detail", title=title)
    for row in rows:
        table.add_row(
            str(row.id),
            row.connector,
            row.received_at.isoformat(timespec="seconds"),
            row.reason,
            row.locator or "",
            _short(row.detail, 80),
        )
    _out().print(table)


@connector.command("dead-letters")
@click.argument("name", required=False)
@click.option("--limit", default=20, show_default=True)
def dead_letters(name: str | None, limit: int) -> None:
    """The latest records connectors could not store, with their reasons."""
    rows = asyncio.run(_recent_dead_letters(Settings.from_environ(), name, limit))
    _print_dead_letters(rows, title="dead letters" if name is None else f"dead letters of {name}")


if __name__ == "__main__":
    connector()
