"""A compiled statement and its one round trip: SQL text with positional parameters, run on
a driver connection (no ORM, no transaction: a single SELECT reads in autocommit).

On PostgreSQL the path keeps its own few asyncpg connections: a checkout from SQLAlchemy's
pool costs a pre-ping round trip, and asyncpg's own pool resets each connection on release;
a read-only path needs neither. They close when the app's engine is disposed (the app's
lifespan does that at shutdown). On SQLite it borrows the engine's connections."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Select, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from resolvers.compiler.dialects import SQLITE_FUNCTIONS

APPLICATION_NAME = "coalhub-compiled-reads"


@dataclass(frozen=True)
class Compiled:
    sql: str
    names: tuple[str, ...]  # the parameter of each position
    defaults: Mapping[str, Any]  # values fixed when compiled (the policy's scope)
    processors: Mapping[str, Callable[[Any], Any]]  # the column types' bind processing

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        arguments = []
        for name in self.names:
            value = values[name] if name in values else self.defaults[name]
            process = self.processors.get(name)
            arguments.append(value if process is None or value is None else process(value))
        return arguments


def compile_statement(statement: Select[Any], dialect: Dialect) -> Compiled:
    compiled: Any = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    processors = {
        name: process
        for name, process in compiled._bind_processors.items()  # SQLAlchemy's own, per type
        if callable(process)
    }
    return Compiled(
        sql=compiled.string,
        names=tuple(compiled.positiontup or ()),
        defaults=dict(compiled.construct_params()),
        processors=processors,
    )


class Connections:
    """At most `size` asyncpg connections, opened on demand, kept open between requests."""

    def __init__(self, dsn: str, size: int) -> None:
        self.dsn = dsn
        self._slots = asyncio.BoundedSemaphore(size)
        self._idle: list[Any] = []
        self._closed = False

    async def fetchrow(self, sql: str, arguments: Sequence[Any]) -> Any:
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                row = await connection.fetchrow(sql, *arguments)
            except BaseException:
                connection.terminate()  # its state is unknown: never reuse it
                raise
            if self._closed:
                await connection.close()
            else:
                self._idle.append(connection)
            return row

    async def _connect(self) -> Any:
        # compiled statements run again and again: keep them prepared, big ones included
        return await asyncpg.connect(
            self.dsn,
            statement_cache_size=256,
            max_cacheable_statement_size=256 * 1024,
            # application_name: for pg_stat_activity; TimeZone: dialects.Postgres.value
            server_settings={"application_name": APPLICATION_NAME, "TimeZone": "UTC"},
        )

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


class Database:
    """Runs compiled statements: one statement, one round trip, per request."""

    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._prepared: weakref.WeakSet[Any] = weakref.WeakSet()
        self.connections: Connections | None = None
        if not self.sqlite:
            url = engine.url.set(drivername="postgresql")
            self.connections = Connections(url.render_as_string(hide_password=False), size)
            event.listen(engine.sync_engine, "engine_disposed", self._on_dispose)

    async def close(self) -> None:
        if self.connections is not None:
            await self.connections.close()

    def _on_dispose(self, _engine: Engine) -> None:
        # runs inside AsyncEngine.dispose(), in SQLAlchemy's greenlet: it may await
        if self.connections is not None:
            await_only(self.connections.close())

    async def fetch(self, compiled: Compiled, values: Mapping[str, Any]) -> Sequence[Any]:
        arguments = compiled.arguments(values)
        if self.connections is not None:
            row = await self.connections.fetchrow(compiled.sql, arguments)
            assert row is not None  # the statement always yields one row
            return tuple(row.values())
        async with self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            return await self._fetch_sqlite(raw.driver_connection, compiled.sql, arguments)

    async def _fetch_sqlite(self, driver: Any, sql: str, arguments: list[Any]) -> Sequence[Any]:
        if driver not in self._prepared:
            for name, function in SQLITE_FUNCTIONS.items():
                await driver.create_function(name, 1, function, deterministic=True)
            self._prepared.add(driver)
        cursor = await driver.execute(sql, arguments)
        try:
            row = await cursor.fetchone()
        finally:
            await cursor.close()
        assert row is not None
        return tuple(row)
