"""The `coalhub` command: serve, migrate, load the demo, export the schema."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import click
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from coalhub import migrate
from coalhub.cli_client import client, keys
from coalhub.clients import Credentials
from coalhub.settings import Settings
from connectors.cli import connector
from device_bridge.cli import bridge

console = Console(stderr=True)
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


@click.group()
def main() -> None:
    """coalhub: the GraphQL data-sharing hub of Wuhai's coal supply-and-sales platform."""


def app_from_environ() -> Starlette:
    """The app for `uvicorn --factory coalhub.cli:app_from_environ` (each worker process
    builds its own from the environment)."""
    from coalhub.app import create_app

    return create_app(Settings.from_environ())


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    console.print(f"GraphiQL: http://{host}:{port}/graphql")
    if workers == 1:
        from coalhub.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    # worker processes read their settings from the environment: hand over the overrides
    os.environ["COALHUB_DEV"] = "1" if settings.dev else "0"
    uvicorn.run(
        "coalhub.cli:app_from_environ",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; each opens up to 3 × COALHUB_DB_POOL_SIZE database connections",
)
@click.option("--dev", is_flag=True, help="Relax production hardening (introspection etc.)")
def serve(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the GraphQL API (POST /graphql) and GraphiQL (GET /graphql)."""
    settings = Settings.from_environ()
    _serve(settings.with_overrides(dev=dev or settings.dev), host, port, workers)


@main.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    settings = Settings.from_environ()
    migrate.upgrade(settings, revision)
    console.print(f"database at {revision}: {_display_url(settings)}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--dev", is_flag=True, help="Relax production hardening (introspection etc.)")
@click.option("--fresh", is_flag=True, help="Regenerate the demo data even if it exists")
@click.option("--no-serve", is_flag=True, help="Load the data, do not serve")
def demo(host: str, port: int, dev: bool, fresh: bool, no_serve: bool) -> None:
    """Migrate, load a synthetic Wuhai dataset (weeks of city traffic), then serve."""
    settings = Settings.from_environ()
    migrate.upgrade(settings)
    counts = asyncio.run(_load_demo(settings, fresh=fresh))
    if counts:
        summary = ", ".join(f"{table} {n:,}" for table, n in counts.items())
        console.print(f"demo data loaded: {summary}")
    else:
        console.print("demo data already present (use --fresh to regenerate)")
    credentials = asyncio.run(_demo_clients(settings))
    _print_credentials(credentials, host, port)
    if not no_serve:
        _serve(settings.with_overrides(dev=dev or settings.dev), host, port)


async def _demo_clients(settings: Settings) -> list[Credentials]:
    from coalhub.clients import ensure_demo_clients
    from coalhub.db import create_engine, create_sessionmaker

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine).begin() as session:
            return await ensure_demo_clients(session)
    finally:
        await engine.dispose()


def _print_credentials(credentials: list[Credentials], host: str, port: int) -> None:
    # JSON on stdout, whole: a table would truncate secrets on a narrow terminal
    console.print("演示客户端 / demo clients (secrets are shown once; re-running rotates them):")
    click.echo(json.dumps([asdict(c) for c in credentials], ensure_ascii=False, indent=1))
    if credentials:
        first = credentials[0]
        console.print(
            "Get a token, then paste it in GraphiQL's Headers as "
            '{"Authorization": "Bearer TOKEN", "X-User-Id": "demo", "X-Purpose": "demo"}:'
        )
        console.print(
            f"  curl -s -u {first.client_id}:{first.client_secret} "
            f"-d grant_type=client_credentials http://{host}:{port}/oauth/token",
            soft_wrap=True,
        )


async def _load_demo(settings: Settings, *, fresh: bool) -> dict[str, int]:
    from sqlalchemy import func, select

    from coalhub import models as m
    from coalhub.db import create_engine
    from coalhub.synthetic import Scale, generate

    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            existing = (await connection.execute(select(func.count(m.District.id)))).scalar_one()
        if existing and not fresh:
            return {}
        if existing:
            await _clear(engine)
        with _progress() as progress:
            tasks: dict[str, object] = {}

            def report(step: str, done: int, total: int) -> None:
                task = tasks.get(step)
                if task is None:
                    task = tasks[step] = progress.add_task(step, total=total)
                progress.update(task, completed=done, total=total)  # type: ignore[arg-type]

            counts: dict[str, int] = await generate(engine, Scale.demo(), progress=report)
            return counts
    finally:
        await engine.dispose()


async def _clear(engine: AsyncEngine) -> None:
    from coalhub.models import Base

    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


main.add_command(client)
main.add_command(keys)
main.add_command(connector)
main.add_command(bridge)


@main.group()
def audit() -> None:
    """The hash-chained audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the chain; name the first altered, missing or relinked event."""
    from coalhub.audit import Broken, verify
    from coalhub.db import create_engine

    async def run() -> tuple[int, Broken | None]:
        engine = create_engine(Settings.from_environ())
        try:
            return await verify(engine)
        finally:
            await engine.dispose()

    checked, broken = asyncio.run(run())
    if broken is not None:
        console.print(
            f"[red]audit chain broken at event {broken.seq}: {broken.reason}[/red] "
            f"({checked} events before it verified)"
        )
        sys.exit(1)
    console.print(f"audit chain intact: {checked} events")


@main.group("schema")
def schema_group() -> None:
    """The GraphQL schema (SDL)."""


@schema_group.command("export")
@click.option("--output", type=click.Path(path_type=Path), default=None, help="Default: stdout")
@click.option("--check", is_flag=True, help="Fail if schema/schema.graphql is out of date")
def schema_export(output: Path | None, check: bool) -> None:
    """Print the SDL, write it to a file, or check the committed copy for drift."""
    from schema.build import build_schema

    sdl = build_schema().as_str() + "\n"
    if check:
        if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text(encoding="utf-8") != sdl:
            console.print(
                "schema/schema.graphql is out of date: run `coalhub schema export "
                "--output schema/schema.graphql`"
            )
            sys.exit(1)
        console.print("schema/schema.graphql is up to date")
        return
    if output is None:
        click.echo(sdl, nl=False)
    else:
        output.write_text(sdl, encoding="utf-8")


def _display_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)
