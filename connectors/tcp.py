"""A TCP listener for service connectors: one task per connection, all ended on stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from connectors.base import ConnectorContext

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve_tcp(ctx: ConnectorContext, host: str, port: int, handle: Handler) -> None:
    """Accept connections until `ctx.stop`; then close the listener and every session.

    Sets `ctx.bound["address"]` and `ctx.ready` once listening (port 0 picks a free port)."""
    sessions: set[asyncio.Task[Any]] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        sessions.add(task)
        try:
            await handle(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass  # the peer went away, or the service is stopping
        finally:
            sessions.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    server = await asyncio.start_server(on_connect, host, port)
    try:
        ctx.bound["address"] = server.sockets[0].getsockname()[:2]
        ctx.ready.set()
        await ctx.stop.wait()
    finally:
        server.close()
        for task in list(sessions):
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        await server.wait_closed()


def peer_host(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return str(peer[0]) if peer else "?"


async def read_some(reader: asyncio.StreamReader, idle_timeout: float) -> bytes:
    """The next bytes, or b"" once the peer closed, reset or stayed silent too long."""
    try:
        return await asyncio.wait_for(reader.read(65536), idle_timeout)
    except (TimeoutError, ConnectionError):
        return b""


async def send(writer: asyncio.StreamWriter, data: bytes) -> None:
    # a peer that has gone ends the session at its next read
    with contextlib.suppress(ConnectionError):
        writer.write(data)
        await writer.drain()
