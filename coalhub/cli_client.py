"""`coalhub client ...` and `coalhub keys rotate`: operators manage clients and signing keys.

Credentials are printed once, as JSON on stdout (nothing else goes to stdout, so the
output can be piped into a secret store). The database must already be migrated
(`coalhub db upgrade`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any, TypeVar

import click
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from coalhub.clients import (
    DEPARTMENTS,
    SCOPES,
    ClientInfo,
    create_client,
    list_clients,
    revoke_client,
    rotate_secret,
)
from coalhub.db import create_engine, create_sessionmaker
from coalhub.errors import PublicError
from coalhub.oauth import (
    SealedKeyError,
    generate_key_encryption_key,
    rotate_signing_key,
    seal_signing_keys,
)
from coalhub.secrecy import Secrecy
from coalhub.settings import Settings

T = TypeVar("T")
REQUIRED_TABLES = ("api_client", "signing_key")


class CommandError(click.ClickException):
    """A refusal with its stable code (and the offending field, if any) in the message."""

    def __init__(self, error: PublicError) -> None:
        extensions = error.extensions or {}
        where = (
            f" ({extensions['field']}: {extensions.get('reason')})" if "field" in extensions else ""
        )
        super().__init__(f"{extensions.get('code')}{where}: {error.message}")


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            present = await connection.run_sync(
                lambda sync: {name for name in REQUIRED_TABLES if inspect(sync).has_table(name)}
            )
        if len(present) < len(REQUIRED_TABLES):
            raise click.ClickException(
                "the database has no client tables yet: run `coalhub db upgrade` first"
            )
        async with create_sessionmaker(engine)() as session, session.begin():
            yield session  # committed when the command's work succeeds
    finally:
        await engine.dispose()


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def main() -> T:
        async with _session(Settings.from_environ()) as session:
            return await work(session)

    try:
        return asyncio.run(main())
    except PublicError as error:
        raise CommandError(error) from None


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@click.group("client")
def client() -> None:
    """Manage the hub's OAuth2 clients (agencies, districts, enterprises, devices)."""


@client.command("add")
@click.argument("name")
@click.option("--department", required=True, type=click.Choice(DEPARTMENTS))
@click.option("--district", "district_code", help="District code (district clients)")
@click.option("--enterprise", "enterprise_id", type=int, help="Enterprise id (enterprise)")
@click.option("--site", "site_id", type=int, help="Site id (device clients)")
@click.option(
    "--clearance",
    type=click.Choice([level.value for level in Secrecy]),
    help="Default: the department's",
)
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), help="Repeatable")
def add(
    name: str,
    department: str,
    district_code: str | None,
    enterprise_id: int | None,
    site_id: int | None,
    clearance: str | None,
    scopes: tuple[str, ...],
) -> None:
    """Register client NAME and print its credentials once, as JSON."""
    credentials = _run(
        lambda session: create_client(
            session,
            name,
            department,
            district_code=district_code,
            enterprise_id=enterprise_id,
            site_id=site_id,
            clearance=clearance,
            scopes=scopes or None,
        )
    )
    _echo_json(asdict(credentials))


@client.command("rotate-secret")
@click.argument("name")
def rotate(name: str) -> None:
    """Give client NAME a new secret (the old one stops working) and print it once."""
    _echo_json(asdict(_run(lambda session: rotate_secret(session, name))))


_COLUMNS = ("name", "client_id", "department", "district", "enterprise", "site", "clearance")


def _row(info: ClientInfo) -> tuple[str, ...]:
    return (
        info.name,
        info.client_id,
        info.department,
        info.district_code or "-",
        "-" if info.enterprise_id is None else str(info.enterprise_id),
        "-" if info.site_id is None else str(info.site_id),
        info.clearance.value,
        " ".join(info.scopes) or "-",
        "active" if info.active else f"revoked {info.revoked_at:%Y-%m-%d %H:%M}Z",
    )


@client.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table")
def list_(as_json: bool) -> None:
    """List clients (never their secrets)."""
    infos = _run(list_clients)
    if as_json:
        _echo_json([{**asdict(info), "active": info.active} for info in infos])
        return
    rows = [(*_COLUMNS, "scopes", "status"), *(_row(info) for info in infos)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@client.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke client NAME: no new tokens at once; live tokens die within seconds."""
    info = _run(lambda session: revoke_client(session, name))
    click.echo(f"revoked {info.name} ({info.client_id}) at {info.revoked_at:%Y-%m-%d %H:%M:%S}Z")


@click.group("keys")
def keys() -> None:
    """Token signing keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Start signing with a new key; the old one stays published until its tokens expire."""
    settings = Settings.from_environ()
    kid = _run(lambda session: rotate_signing_key(session, settings))
    click.echo(f"new signing key {kid}")


@keys.command("new-encryption-key")
def keys_new_encryption_key() -> None:
    """Print a new key for COALHUB_KEY_ENCRYPTION_KEYS (keep it out of the database's
    backups: whoever holds both can sign tokens)."""
    click.echo(generate_key_encryption_key())


@keys.command("seal")
def keys_seal() -> None:
    """Seal every stored signing key with the first of COALHUB_KEY_ENCRYPTION_KEYS (after
    turning encryption on, or after putting a new encryption key first)."""
    settings = Settings.from_environ()
    try:
        count = _run(lambda session: seal_signing_keys(session, settings))
    except SealedKeyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"sealed {count} signing key(s)")
