"""The composition root: `create_app(settings)` wires storage, identity, policies, audit and
the GraphQL API. Nothing here reads the environment."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from coalhub.audit import AuditLog
from coalhub.db import create_engine, create_sessionmaker
from coalhub.endpoint import Authenticator, CoalhubGraphQL, GraphQLEndpoint
from coalhub.graphiql import static_mount
from coalhub.oauth import Unauthenticated, build_auth, unauthenticated_response
from coalhub.settings import Settings
from connectors.base import ConnectorStats
from connectors.scheduler import connector_routes, run_connectors, stats_route
from policies.enforcer import PolicyStore, seed_if_empty

log = logging.getLogger("coalhub.app")
READINESS_TIMEOUT_SECONDS = 3.0

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
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


def readyz(engine: AsyncEngine) -> Callable[[Request], Awaitable[Response]]:
    """Readiness: the database answers too (503 with the failure's class if not)."""

    async def ready(request: Request) -> Response:
        try:
            async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:  # any failure means: send no traffic here
            log.warning("not ready: %r", error)
            body = {"status": "unavailable", "database": type(error).__name__}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return ready


def compiled_reads_stats(graphql: CoalhubGraphQL) -> ASGIApp:
    """GET: the compiled read path's counters in this worker process (null: turned off)."""

    async def counters(scope: Scope, receive: Receive, send: Send) -> None:
        reads = graphql.compiled_reads
        await JSONResponse(None if reads is None else reads.stats.as_dict())(scope, receive, send)

    return counters


def create_app(settings: Settings) -> Starlette:
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    policies = PolicyStore(sessionmaker, max_page_size=settings.max_page_size)
    audit = AuditLog(engine)
    auth = build_auth(settings, sessionmaker)
    graphql = CoalhubGraphQL(settings, sessionmaker, policies, audit)
    endpoint = GraphQLEndpoint(graphql, auth.verifier)

    connector_stats: dict[str, ConnectorStats] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with sessionmaker.begin() as session:
            await seed_if_empty(session)
        await auth.keys.signing_key()  # fails now, not per request, if keys cannot be unsealed
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
        Route("/readyz", readyz(engine), methods=["GET"]),
        *auth.routes,
        # cameras cannot log in: each push connector checks its senders' addresses
        *connector_routes(engine, settings.connectors_config, stats=connector_stats),
        Route(
            "/connectors/stats",
            OperatorsOnly(stats_route(connector_stats).app, auth.verifier),
            methods=["GET"],
        ),
        # this process's compiled read path: answers, fallbacks by reason, statements
        Route(
            "/compiled-reads/stats",
            OperatorsOnly(compiled_reads_stats(graphql), auth.verifier),
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
