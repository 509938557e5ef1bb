"""The composition root: `create_app(settings)` wires storage, policies and the GraphQL API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from coalhub.auth import DEVELOPER
from coalhub.db import create_engine, create_sessionmaker
from coalhub.graphiql import graphiql_html, static_mount
from coalhub.settings import Settings
from policies.access import unrestricted
from resolvers.context import RequestContext
from schema.build import build_schema


class CoalhubGraphQL(GraphQL[RequestContext, None]):
    def __init__(self, settings: Settings, sessionmaker: Any) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql",
            allow_queries_via_get=False,  # a query over GET could be forged cross-site
        )
        self.settings = settings
        self.sessionmaker = sessionmaker

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_html(str(request.url.path)))

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        return RequestContext(
            settings=self.settings,
            caller=DEVELOPER,
            access=unrestricted(self.settings.max_page_size),
            sessionmaker=self.sessionmaker,
        )


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings) -> Starlette:
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    graphql = CoalhubGraphQL(settings, sessionmaker)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = Starlette(
        debug=False,
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            static_mount(),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    return app
