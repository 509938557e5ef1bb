"""Client management: registration and its validation, secrets at rest, revocation, the demo
clients, and the `coalhub client` / `coalhub keys` commands, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from coalhub.cli_client import client as client_command
from coalhub.cli_client import keys as keys_command
from coalhub.clients import (
    DEFAULT_CLEARANCE,
    DEPARTMENTS,
    create_client,
    ensure_demo_clients,
    list_clients,
    revoke_client,
    rotate_secret,
)
from coalhub.db import create_engine, create_sessionmaker
from coalhub.errors import ConflictError, InvalidInputError, NotFoundError
from coalhub.models.client import ApiClient, SigningKey
from coalhub.oauth.secret_hash import hash_secret, verify_secret
from coalhub.settings import Settings
from tests.factories import World, seed_districts, seed_world


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_sessionmaker(engine)() as session:
        yield session


async def stored(session: AsyncSession, name: str) -> ApiClient:
    row = await session.scalar(select(ApiClient).where(ApiClient.name == name))
    assert row is not None
    return row


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(ApiClient.id))) or 0)


# --- secrets at rest -----------------------------------------------------------------------


async def test_secrets_are_stored_only_as_salted_scrypt_hashes(session: AsyncSession) -> None:
    credentials = await create_client(session, "tax-bureau", "tax")
    await session.commit()

    raw = (await session.execute(text("SELECT * FROM api_client"))).mappings().one()
    assert not any(credentials.client_secret in str(value) for value in raw.values())
    assert raw["client_id"] == credentials.client_id
    assert raw["secret_hash"].startswith("scrypt$16384$8$1$")
    assert verify_secret(credentials.client_secret, raw["secret_hash"])
    assert not verify_secret(credentials.client_secret + "x", raw["secret_hash"])
    assert len(credentials.client_secret) >= 43  # 32 random bytes


def test_the_same_secret_hashes_differently_each_time() -> None:
    first, second = hash_secret("s3cret"), hash_secret("s3cret")
    assert first != second
    assert verify_secret("s3cret", first)
    assert verify_secret("s3cret", second)
    assert not verify_secret("s3cret", "md5$abc")


# --- registration --------------------------------------------------------------------------


@pytest.mark.parametrize("department", ["tax", "police", "developer", "auditor"])
async def test_clients_get_their_departments_defaults(
    session: AsyncSession, department: str
) -> None:
    await create_client(session, f"{department}-app", department)

    [info] = await list_clients(session)

    assert info.department == department
    assert info.clearance == DEFAULT_CLEARANCE[department]
    assert info.active


async def test_clearance_and_scopes_can_be_chosen(session: AsyncSession) -> None:
    await create_client(session, "brain", "municipal_brain", clearance="public", scopes=["read"])
    [info] = await list_clients(session)
    assert (info.clearance, info.scopes) == ("public", ("read",))


async def test_scoped_clients_carry_their_district_enterprise_and_site(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    world = await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    await create_client(session, "haibowan", "district", district_code="150302")
    await create_client(session, "mine", "enterprise", enterprise_id=world.enterprise_ids[1])
    await create_client(session, "bridge", "device", site_id=world.site_ids[2])

    infos = {info.name: info for info in await list_clients(session)}

    assert (infos["haibowan"].district_code, infos["haibowan"].enterprise_id) == ("150302", None)
    assert (infos["mine"].district_code, infos["mine"].enterprise_id) == (
        "150303",
        world.enterprise_ids[1],
    )
    bridge = infos["bridge"]
    assert (bridge.district_code, bridge.enterprise_id, bridge.site_id) == (
        "150304",
        world.enterprise_ids[2],
        world.site_ids[2],
    )


def _refusals(world: World) -> list[tuple[dict[str, Any], str, str]]:
    enterprise, site = world.enterprise_ids[0], world.site_ids[0]
    return [
        ({"name": "x", "department": "army"}, "department", "unknown_department"),
        ({"name": "", "department": "tax"}, "name", "invalid_name"),
        ({"name": "has space", "department": "tax"}, "name", "invalid_name"),
        ({"name": "x" * 65, "department": "tax"}, "name", "invalid_name"),
        ({"name": "x", "department": "district"}, "district_code", "required"),
        (
            {"name": "x", "department": "district", "district_code": "150399"},
            "district_code",
            "unknown_district",
        ),
        ({"name": "x", "department": "enterprise"}, "enterprise_id", "required"),
        (
            {"name": "x", "department": "enterprise", "enterprise_id": 999_999},
            "enterprise_id",
            "unknown_enterprise",
        ),
        ({"name": "x", "department": "device"}, "site_id", "required"),
        ({"name": "x", "department": "device", "site_id": 999_999}, "site_id", "unknown_site"),
        (
            {"name": "x", "department": "device", "site_id": site, "enterprise_id": -1},
            "enterprise_id",
            "inconsistent",
        ),
        (
            {"name": "x", "department": "tax", "district_code": "150302"},
            "district_code",
            "not_applicable",
        ),
        (
            {"name": "x", "department": "district", "district_code": "150302", "site_id": site},
            "site_id",
            "not_applicable",
        ),
        (
            {"name": "x", "department": "enterprise", "enterprise_id": enterprise, "site_id": site},
            "site_id",
            "not_applicable",
        ),
        ({"name": "x", "department": "tax", "clearance": "top"}, "clearance", "unknown_clearance"),
        ({"name": "x", "department": "tax", "scopes": ["root"]}, "scopes", "unknown_scope"),
    ]


async def test_bad_input_is_refused_with_field_and_reason(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    world = await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    for arguments, field, reason in _refusals(world):
        with pytest.raises(InvalidInputError) as refusal:
            await create_client(session, **arguments)
        assert refusal.value.extensions == {
            "code": "INVALID_INPUT",
            "field": field,
            "reason": reason,
        }, arguments
    assert await count(session) == 0


async def test_names_are_unique(session: AsyncSession) -> None:
    await create_client(session, "tax-bureau", "tax")
    with pytest.raises(ConflictError) as conflict:
        await create_client(session, "tax-bureau", "finance")
    assert conflict.value.extensions == {
        "code": "CONFLICT",
        "field": "name",
        "reason": "already_exists",
    }


def test_every_department_has_defaults() -> None:
    assert set(DEFAULT_CLEARANCE) == set(DEPARTMENTS)
    assert len(DEPARTMENTS) == 15


# --- revocation and rotation ---------------------------------------------------------------


async def test_revoking_is_recorded_once(session: AsyncSession) -> None:
    await create_client(session, "tax-bureau", "tax")

    first = await revoke_client(session, "tax-bureau")
    again = await revoke_client(session, "tax-bureau")

    assert first.revoked_at is not None
    assert again.revoked_at == first.revoked_at
    assert not again.active


async def test_unknown_clients_cannot_be_revoked_or_rotated(session: AsyncSession) -> None:
    with pytest.raises(NotFoundError):
        await revoke_client(session, "ghost")
    with pytest.raises(NotFoundError):
        await rotate_secret(session, "ghost")


async def test_a_rotated_secret_replaces_the_old_one(session: AsyncSession) -> None:
    old = await create_client(session, "tax-bureau", "tax")

    new = await rotate_secret(session, "tax-bureau")

    row = await stored(session, "tax-bureau")
    assert new.client_id == old.client_id
    assert verify_secret(new.client_secret, row.secret_hash)
    assert not verify_secret(old.client_secret, row.secret_hash)


# --- demo ------------------------------------------------------------------------------------


async def test_demo_clients_cover_every_department_and_district(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)

    issued = await ensure_demo_clients(session)

    by_name = {credentials.name: credentials for credentials in issued}
    assert {credentials.department for credentials in issued} == set(DEPARTMENTS)
    assert {"demo-district-150302", "demo-district-150303", "demo-district-150304"} <= set(by_name)
    assert len(issued) == len(DEPARTMENTS) + 2  # three districts, one client each
    assert len({credentials.client_id for credentials in issued}) == len(issued)


async def test_demo_clients_are_idempotent_and_get_fresh_secrets(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    await seed_districts(engine)
    first = {c.name: c for c in await ensure_demo_clients(session)}
    await revoke_client(session, "demo-police")

    second = {c.name: c for c in await ensure_demo_clients(session)}

    assert await count(session) == len(first)
    assert set(second) == set(first) - {"demo-police"}  # revoked stays revoked
    for name, credentials in second.items():
        assert credentials.client_id == first[name].client_id
        assert credentials.client_secret != first[name].client_secret
    assert "demo-enterprise" not in first  # no enterprises, no enterprise client


# --- commands ------------------------------------------------------------------------------


def invoke(
    database_url: str, *args: str, group: click.Group = client_command, **env: str
) -> Result:
    environment = {"COALHUB_DATABASE_URL": database_url, **env}
    return CliRunner().invoke(group, list(args), env=environment)


def seed(database_url: str) -> None:
    async def run() -> None:
        engine = create_engine(Settings(database_url=database_url))
        try:
            await seed_districts(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_add_prints_the_credentials_once_as_json(database_url: str) -> None:
    seed(database_url)

    result = invoke(database_url, "add", "wuda", "--department", "district", "--district", "150304")

    assert result.exit_code == 0, result.output
    credentials = json.loads(result.stdout)
    assert set(credentials) == {"client_id", "client_secret", "name", "department"}
    listing = invoke(database_url, "list")
    assert listing.exit_code == 0
    assert credentials["client_id"] in listing.stdout
    assert credentials["client_secret"] not in listing.stdout
    assert "150304" in listing.stdout
    assert "read" in listing.stdout
    assert "active" in listing.stdout


def test_add_takes_clearance_and_repeated_scopes(database_url: str) -> None:
    result = invoke(
        database_url,
        *("add", "brain", "--department", "municipal_brain", "--clearance", "confidential"),
        *("--scope", "read", "--scope", "write"),
    )
    assert result.exit_code == 0, result.output

    [info] = json.loads(invoke(database_url, "list", "--json").stdout)

    assert info["clearance"] == "confidential"
    assert info["scopes"] == ["read", "write"]
    assert "client_secret" not in info
    assert "secret_hash" not in info


def test_add_explains_what_is_wrong(database_url: str) -> None:
    result = invoke(database_url, "add", "wuda", "--department", "district")
    assert result.exit_code == 1
    assert "INVALID_INPUT (district_code: required)" in result.stderr

    result = invoke(database_url, "add", "army", "--department", "army")
    assert result.exit_code == 2  # click's usage error lists the departments
    assert "'army' is not one of" in result.stderr


def test_revoke_and_rotate_secret(database_url: str) -> None:
    added = json.loads(invoke(database_url, "add", "tax-bureau", "--department", "tax").stdout)

    rotated = invoke(database_url, "rotate-secret", "tax-bureau")
    revoked = invoke(database_url, "revoke", "tax-bureau")

    assert rotated.exit_code == 0
    assert json.loads(rotated.stdout)["client_id"] == added["client_id"]
    assert revoked.exit_code == 0
    assert revoked.stdout.startswith(f"revoked tax-bureau ({added['client_id']}) at ")
    assert "revoked" in invoke(database_url, "list").stdout
    missing = invoke(database_url, "revoke", "ghost")
    assert missing.exit_code == 1
    assert "NOT_FOUND (name: unknown_client)" in missing.stderr


def test_keys_rotate(database_url: str) -> None:
    first = invoke(database_url, "rotate", group=keys_command)
    second = invoke(database_url, "rotate", group=keys_command)

    assert first.exit_code == second.exit_code == 0
    assert first.stdout.startswith("new signing key ")
    assert first.stdout != second.stdout

    async def keys() -> list[tuple[str, bool]]:
        engine = create_engine(Settings(database_url=database_url))
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(select(SigningKey.kid, SigningKey.retired_at))
                return [(kid, retired is None) for kid, retired in rows]
        finally:
            await engine.dispose()

    assert sorted(current for _, current in asyncio.run(keys())) == [False, True]


def test_keys_seal(database_url: str) -> None:
    invoke(database_url, "rotate", group=keys_command)
    refused = invoke(database_url, "seal", group=keys_command)
    assert refused.exit_code == 1
    assert "set COALHUB_KEY_ENCRYPTION_KEYS" in refused.stderr

    key = invoke(database_url, "new-encryption-key", group=keys_command).stdout.strip()
    sealed = invoke(database_url, "seal", group=keys_command, COALHUB_KEY_ENCRYPTION_KEYS=key)
    assert sealed.exit_code == 0, sealed.stderr
    assert sealed.stdout.strip() == "sealed 1 signing key(s)"

    async def stored() -> list[dict[str, str]]:
        engine = create_engine(Settings(database_url=database_url))
        try:
            async with engine.connect() as connection:
                return list(await connection.scalars(select(SigningKey.private_jwk)))
        finally:
            await engine.dispose()

    assert [set(jwk) for jwk in asyncio.run(stored())] == [{"sealed"}]
    # a rotation with the setting seals the new key too
    rotated = invoke(database_url, "rotate", group=keys_command, COALHUB_KEY_ENCRYPTION_KEYS=key)
    assert rotated.exit_code == 0
    assert [set(jwk) for jwk in asyncio.run(stored())] == [{"sealed"}, {"sealed"}]


def test_commands_ask_for_migrations_first(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    result = invoke(url, "list")
    assert result.exit_code == 1
    assert "run `coalhub db upgrade` first" in result.stderr
