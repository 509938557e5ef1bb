"""POST /graphql from the socket to the answer: the caller is authenticated first; a query
whose document the compiled read path has prepared is answered at once; strawberry
(`CoalhubGraphQL`) answers everything else, and GET serves the GraphiQL page.

The prepared way skips only work whose outcome is already known for that document text:
parsing, validation and the limits that do not depend on values (`resolvers.compiler.
Prepared`). The cost limit is measured again when variables size pages; variables are
coerced, the access decision is the caller's, and the audit record and FORBIDDEN entries are
made exactly as strawberry's extensions make them. Whatever the prepared way cannot answer
(another content type, a streaming transport, a document not prepared yet, variables that
do not coerce, a limit exceeded, a decline) goes to strawberry with the body it was sent."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import unquote

from graphql import ExecutionResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from coalhub.audit import AuditLog
from coalhub.auth import ANONYMOUS, Principal
from coalhub.graphiql import graphiql_html
from coalhub.oauth import (
    CallerHeaderError,
    Unauthenticated,
    caller_header_error_response,
    unauthenticated_response,
)
from coalhub.settings import Settings
from policies.enforcer import PolicyStore
from resolvers.compiler import CompiledReads, CompiledReadsExtension, SplicedData, encode_response
from resolvers.context import RequestContext
from schema.build import audit_operation, build_schema
from schema.limits import connection_field_names, within_limits

REQUEST_MEMBERS = frozenset({"query", "variables", "operationName", "extensions"})


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
        self.connection_fields = connection_field_names(schema._schema)  # for the limits
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
        return await self.context_for(getattr(request.state, "principal", ANONYMOUS))

    async def context_for(self, principal: Principal) -> RequestContext:
        return RequestContext(
            settings=self.settings,
            caller=principal,
            access=await self.policies.decision_for(principal),
            sessionmaker=self.sessionmaker,
            audit=self.audit,
            policies=self.policies,
        )


class GraphQLEndpoint:
    """POST /graphql answers only authenticated callers: prepared compiled reads here, the
    rest through strawberry; GET serves the GraphiQL page."""

    def __init__(self, view: CoalhubGraphQL, authenticator: Authenticator) -> None:
        self.view = view
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "GET":
            await self.view(scope, receive, send)
            return
        request = Request(scope, receive)
        headers = request.headers
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
        reads = self.view.compiled_reads
        if reads is not None and _plain_json(headers):
            body = await request.body()
            response = await self._prepared_answer(reads, body, principal)
            if response is not None:
                await response(scope, receive, send)
                return
            receive = _replaying(body, receive)
        await self.view(scope, receive, send)

    async def _prepared_answer(
        self, reads: CompiledReads, body: bytes, principal: Principal
    ) -> Response | None:
        occurred_at, started = datetime.now(UTC), time.perf_counter()
        found = _graphql_request(body)
        if found is None:
            return None
        query, variables, operation_name = found
        prepared = reads.prepared(query, operation_name)
        if prepared is None:
            return None
        context = await self.view.context_for(principal)
        if prepared.page_variables and not within_limits(
            prepared.document,
            variables or {},
            default_page=self.settings.default_page_size,
            connection_fields=self.view.connection_fields,
        ):
            return None  # strawberry reports which limit
        data = await reads.answer_prepared(prepared, variables, context)
        if data is None:
            return None
        denials = list(context.denials.values())  # as schema.build.ReportDenials adds them
        audit_operation(
            context,
            occurred_at=occurred_at,
            started=started,
            operation_name=prepared.operation_name,
            query=query,
            variables=variables,
            fields=prepared.root_fields,
            result=ExecutionResult(data, denials or None),
        )
        response: dict[str, Any] = {"data": data}
        if denials:
            response["errors"] = [error.formatted for error in denials]
        return Response(encode_response(response), media_type="application/json")

    @property
    def settings(self) -> Settings:
        return self.view.settings


def _plain_json(headers: Headers) -> bool:
    """A JSON body and a plain JSON answer (no multipart or event-stream transport)."""
    content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    accept = headers.get("accept", "")
    return (
        content_type == "application/json"
        and "multipart" not in accept
        and ("event-stream" not in accept)
    )


def _graphql_request(body: bytes) -> tuple[str, dict[str, Any] | None, str | None] | None:
    """(query, variables, operation name) of a single plain request; None for anything
    strawberry should judge (batches, extensions, malformed members)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.keys() <= REQUEST_MEMBERS or data.get("extensions"):
        return None
    query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
    if not isinstance(query, str) or not isinstance(variables, dict | None):
        return None
    if not isinstance(name, str | None):
        return None
    return query, variables, name


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` with the body that was already read delivered again, once."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _header_text(value: str | None) -> str | None:
    # headers are Latin-1: Chinese user names and purposes arrive percent-encoded
    return (unquote(value).strip() or None) if value else None
