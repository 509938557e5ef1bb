"""Shared fixtures: a fresh migrated database per test, on SQLite and on PostgreSQL.

A template database is migrated once per session (by running the Alembic migrations);
each test gets its own copy (a file copy for SQLite, CREATE DATABASE ... TEMPLATE for
PostgreSQL) that is dropped afterwards, so tests never see each other's rows.

PostgreSQL runs when COALHUB_TEST_POSTGRES_URL names a server whose user may create
databases; with COALHUB_TEST_REQUIRE_POSTGRES=1 (as in CI) its absence fails the run
instead of skipping."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from coalhub import migrate
from coalhub.app import create_app
from coalhub.db import create_engine, create_sessionmaker
from coalhub.settings import Settings, normalise_database_url

BACKENDS = ["sqlite", "postgres"]


def _postgres_admin_url() -> str | None:
    url = os.environ.get("COALHUB_TEST_POSTGRES_URL")
    if not url and os.environ.get("COALHUB_TEST_REQUIRE_POSTGRES") == "1":
        raise RuntimeError("COALHUB_TEST_REQUIRE_POSTGRES=1 but COALHUB_TEST_POSTGRES_URL unset")
    return url


def _plain_pg(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(False)


async def _pg_admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(_plain_pg(url, make_url(url).database or "postgres"))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    migrate.upgrade(Settings(database_url=f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    admin = _postgres_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL tests need COALHUB_TEST_POSTGRES_URL")
    name = f"coalhub_test_template_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(admin, f'CREATE DATABASE "{name}"'))
    migrate.upgrade(Settings(database_url=normalise_database_url(_plain_pg(admin, name))))
    yield name
    asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "coalhub.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    admin = _postgres_admin_url()
    assert admin is not None
    name = f"coalhub_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield normalise_database_url(_plain_pg(admin, name))
    asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(database_url: str) -> Settings:
    # revocation reaches verifiers within auth_cache_seconds: short, so tests need not wait
    return Settings(database_url=database_url, max_page_size=100, auth_cache_seconds=0.5)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


class StatementCounter:
    """Counts the statements that answer queries: identity, policy and audit bookkeeping
    (cached and batched, not per request) is left out."""

    BOOKKEEPING = ("audit_event", "casbin_rule", "policy_revision", "api_client", "signing_key")

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not any(table in statement for table in self.BOOKKEEPING):
            self.count += 1


class Hub:
    """The real app over ASGI, logged in through the real token endpoint, plus a count of
    the SQL statements it sends."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        counter: StatementCounter,
        app: Starlette,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.counter = counter
        self.app = app
        self.engine: AsyncEngine = app.state.engine
        self.headers = headers or {}

    async def flush_audit(self) -> None:
        await self.app.state.audit.flush()

    async def as_client(
        self,
        department: str,
        *,
        user_id: str | None = "测试员",
        purpose: str | None = "自动化测试",
        **client: Any,
    ) -> Hub:
        """A view of the hub as a new client of `department` (an end user and purpose on
        every request unless set to None)."""
        from coalhub.clients import create_client

        name = f"{department}-{uuid.uuid4().hex[:8]}"
        async with create_sessionmaker(self.engine).begin() as session:
            credentials = await create_client(session, name, department, **client)
        response = await self.client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
            },
        )
        assert response.status_code == 200, response.text
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        for header, value in (("X-User-Id", user_id), ("X-Purpose", purpose)):
            if value is not None:
                headers[header] = quote(value)
        return Hub(self.client, self.counter, self.app, headers)

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = await self.graphql(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture
async def hub(settings: Settings) -> AsyncIterator[Hub]:
    """The hub as a developer client (every type, every field); `as_client` for others."""
    app = create_app(settings)
    counter = StatementCounter()
    event.listen(app.state.engine.sync_engine, "before_cursor_execute", counter)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        anonymous = Hub(client, counter, app)
        yield await anonymous.as_client("developer", clearance="secret")


def pytest_configure(config: pytest.Config) -> None:
    # hypothesis keeps example databases under the working tree unless told otherwise
    cache_dir = config.rootpath / ".pytest_cache" / "hypothesis"
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(cache_dir))
