"""The composition root: `create_app(settings)` wires storage, identity, policies, audit and
the GraphQL API. Nothing here reads the environment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from coalhub.audit import AuditLog
from coalhub.auth import ANONYMOUS, Principal
from coalhub.db import create_engine, create_sessionmaker
from coalhub.graphiql import graphiql_html, static_mount
from coalhub.oauth import (
    CallerHeaderError,
    Unauthenticated,
    build_auth,
    caller_header_error_response,
    unauthenticated_response,
)
from coalhub.settings import Settings
from connectors.base import ConnectorStats
from connectors.scheduler import connector_routes, run_connectors, stats_route
from policies.enforcer import PolicyStore, seed_if_empty
from resolvers.compiler import (
    CompiledReads,
    CompiledReadsExtension,
    SplicedData,
    encode_response,
)
from resolvers.context import RequestContext
from schema.build import build_schema


class Authenticator(Protocol):
    async def principal(
        self, authorization: str | None, user_id: str | None, purpose: str | None
    ) -> Principal:
        """The caller of a request, or raise the authenticator's Unauthenticated error."""


class CoalhubGraphQL(GraphQL[RequestContext, None]):
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        policies: PolicyStore,
        audit: AuditLog,
    ) -> None:
        schema = build_schema()
        # the compiled read path answers queries it can; its counters: compiled_reads.stats
        self.compiled_reads: CompiledReads | None = None
        if settings.compiled_reads:
            reads = CompiledReads(schema, sessionmaker.kw["bind"], settings)
            schema.extensions = (*schema.extensions, lambda: CompiledReadsExtension(reads))
            self.compiled_reads = reads
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=False,  # a query over GET could be forged cross-site
        )
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.policies = policies
        self.audit = audit

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_html(str(request.url.path)))

    def encode_json(self, data: object) -> str | bytes:
        if isinstance(data, dict) and isinstance(data.get("data"), SplicedData):
            return encode_response(data)  # the database's JSON, spliced in unparsed
        return super().encode_json(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        principal: Principal = getattr(request.state, "principal", ANONYMOUS)
        return RequestContext(
            settings=self.settings,
            caller=principal,
            access=await self.policies.decision_for(principal),
            sessionmaker=self.sessionmaker,
            audit=self.audit,
            policies=self.policies,
        )


class AuthenticatedEndpoint:
    """POST /graphql answers only authenticated callers; GET serves the GraphiQL page."""

    def __init__(self, app: CoalhubGraphQL, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "GET":
            headers = Request(scope, receive).headers
            try:
                principal = await self.authenticator.principal(
                    headers.get("authorization"),
                    _header_text(headers.get("x-user-id")),
                    _header_text(headers.get("x-purpose")),
                )
            except Unauthenticated:
                await unauthenticated_response()(scope, receive, send)
                return
            except CallerHeaderError as error:
                await caller_header_error_response(error)(scope, receive, send)
                return
            scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def _header_text(value: str | None) -> str | None:
    # headers are Latin-1: Chinese user names and purposes arrive percent-encoded
    return (unquote(value).strip() or None) if value else None


OPERATORS = frozenset({"developer", "big_data_centre"})  # who runs the platform


class OperatorsOnly:
    """Monitoring endpoints: a valid token of the platform's operators, else 401/403."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Request(scope, receive).headers
        try:
            principal = await self.authenticator.principal(headers.get("authorization"), None, None)
        except Unauthenticated:
            await unauthenticated_response()(scope, receive, send)
            return
        if principal.department not in OPERATORS:
            forbidden = {
                "errors": [{"message": "operators only", "extensions": {"code": "FORBIDDEN"}}]
            }
            await JSONResponse(forbidden, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings) -> Starlette:
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    policies = PolicyStore(sessionmaker, max_page_size=settings.max_page_size)
    audit = AuditLog(engine)
    auth = build_auth(settings, sessionmaker)
    graphql = CoalhubGraphQL(settings, sessionmaker, policies, audit)
    endpoint = AuthenticatedEndpoint(graphql, auth.verifier)

    connector_stats: dict[str, ConnectorStats] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with sessionmaker.begin() as session:
            await seed_if_empty(session)
        audit.start()
        stop = asyncio.Event()
        connectors = asyncio.create_task(
            run_connectors(settings, engine, stop, stats=connector_stats), name="connectors"
        )
        try:
            yield
        finally:
            stop.set()
            await connectors
            await audit.close()
            await engine.dispose()

    routes: list[BaseRoute] = [
        Route("/graphql", endpoint, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        *auth.routes,
        # cameras cannot log in: each push connector checks its senders' addresses
        *connector_routes(engine, settings.connectors_config, stats=connector_stats),
        Route(
            "/connectors/stats",
            OperatorsOnly(stats_route(connector_stats).app, auth.verifier),
            methods=["GET"],
        ),
        static_mount(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.audit = audit
    app.state.policies = policies
    return app
