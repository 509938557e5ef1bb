"""A real HTTP server on loopback (uvicorn) serving cursor-paged JSON, with outages on cue."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Feed:
    items: list[Any]
    requests: int = 0
    fail_next: int = 0  # answer 503 to this many requests
    cut_next: int = 0  # answer this many requests with a body cut in half
    seen_headers: list[dict[str, str]] = field(default_factory=list)

    async def page(self, request: Request) -> Response:
        self.requests += 1
        self.seen_headers.append(dict(request.headers))
        if self.fail_next:
            self.fail_next -= 1
            return JSONResponse({"error": "maintenance"}, status_code=503)
        start = int(request.query_params.get("cursor", "0"))
        limit = int(request.query_params.get("limit", "100"))
        end = min(start + limit, len(self.items))
        body = {
            "items": self.items[start:end],
            "next_cursor": str(end),
            "has_more": end < len(self.items),
        }
        text = json.dumps(body, ensure_ascii=False)
        if self.cut_next:
            self.cut_next -= 1
            text = text[: len(text) // 2]
        return Response(text, media_type="application/json")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ApiServer:
    """Serves feeds at /<name>; `stop()` and `start()` again on the same port model an outage."""

    def __init__(self, feeds: dict[str, Feed]) -> None:
        self.feeds = feeds
        self.port = free_port()
        routes = [Route(f"/{name}", feed.page) for name, feed in feeds.items()]
        self.app = Starlette(routes=routes)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    async def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None

    async def __aenter__(self) -> ApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
