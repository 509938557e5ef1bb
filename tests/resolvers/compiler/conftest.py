"""Two real apps over one seeded database: the executor alone, and the compiled read path in
front of it. A client registered once holds a token for each; every query runs on both."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from coalhub.app import create_app
from coalhub.audit import AuditRecord
from coalhub.clients import create_client
from coalhub.db import create_sessionmaker
from coalhub.endpoint import CoalhubGraphQL
from coalhub.settings import Settings
from coalhub.synthetic import Scale, generate
from resolvers.compiler import CompiledReads


def graphql_view(app: Starlette) -> CoalhubGraphQL:
    for route in app.routes:
        if getattr(route, "path", None) == "/graphql":
            view = route.endpoint.view  # type: ignore[attr-defined]
            assert isinstance(view, CoalhubGraphQL)
            return view
    raise AssertionError("no /graphql route")


@dataclass
class Side:
    """One app: its HTTP client and the audit records its requests handed over."""

    app: Starlette
    client: httpx.AsyncClient
    audited: list[AuditRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        # keep the records instead of writing them: the test compares what each path audits
        setattr(self.app.state.audit, "record", self.audited.append)  # noqa: B010

    @property
    def reads(self) -> CompiledReads | None:
        return graphql_view(self.app).compiled_reads

    async def token(self, client_id: str, secret: str) -> str:
        form = {"grant_type": "client_credentials", "client_id": client_id}
        response = await self.client.post("/oauth/token", data=form | {"client_secret": secret})
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def ask(self, headers: dict[str, str], query: str, variables: Any) -> Answer:
        """The response and the one audit record the request made."""
        count = len(self.audited)
        body = await self.post(headers, query, variables)
        assert len(self.audited) == count + 1
        return Answer(body, self.audited[-1])

    async def post(self, headers: dict[str, str], query: str, variables: Any) -> dict[str, Any]:
        body = {"query": query, "variables": variables or {}}
        response = await self.client.post("/graphql", json=body, headers=headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


@dataclass(frozen=True)
class Answer:
    body: dict[str, Any]
    audit: AuditRecord


@dataclass
class TwinClient:
    twin: Twin
    headers: tuple[dict[str, str], dict[str, str]]

    async def run(self, query: str, variables: Any = None) -> tuple[Answer, Answer, str]:
        """Both answers, and how the compiled app answered: "compiled", the reason it fell
        back, or "not executed" (refused before execution: validation, limits).

        The compiled app gets the request twice: a document it has answered once is
        prepared, and the repeat must be answered without strawberry's pipeline, exactly as
        the first time (data, errors and audit record)."""
        executor, compiled = self.twin.executor, self.twin.compiled
        reads = compiled.reads
        assert reads is not None
        before, answered = dict(reads.stats.fallbacks), reads.stats.compiled
        first = await executor.ask(self.headers[0], query, variables)
        second = await compiled.ask(self.headers[1], query, variables)
        changed = [r for r, n in reads.stats.fallbacks.items() if n != before.get(r, 0)]
        if reads.stats.compiled == answered:
            return first, second, changed[0] if changed else "not executed"
        prepared = reads.stats.prepared
        again = await compiled.ask(self.headers[1], query, variables)
        assert reads.stats.prepared == prepared + 1, "the repeat was not answered as prepared"
        same(second.body, again.body)
        same_audit(second.audit, again.audit)
        return first, second, "compiled"


@dataclass
class Twin:
    executor: Side
    compiled: Side
    engine: AsyncEngine
    known: dict[tuple[Any, ...], TwinClient] = field(default_factory=dict)

    async def as_client(
        self, department: str, *, attributed: bool = True, **client: Any
    ) -> TwinClient:
        """A client of `department` (end user and purpose sent unless `attributed` is
        False); one per distinct set of arguments, reused."""
        key = (department, attributed, *sorted(client.items()))
        if key not in self.known:
            self.known[key] = await self._register(department, attributed, client)
        return self.known[key]

    async def _register(
        self, department: str, attributed: bool, client: dict[str, Any]
    ) -> TwinClient:
        name = f"{department}-{uuid.uuid4().hex[:8]}"
        async with create_sessionmaker(self.engine).begin() as session:
            credentials = await create_client(session, name, department, **client)
        headers = []
        for side in (self.executor, self.compiled):
            token = await side.token(credentials.client_id, credentials.client_secret)
            found = {"Authorization": f"Bearer {token}"}
            if attributed:
                found |= {"X-User-Id": quote("测试员"), "X-Purpose": quote("差分测试")}
            headers.append(found)
        return TwinClient(self, (headers[0], headers[1]))


@pytest.fixture
async def twin(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Twin]:
    """The executor and the compiled path over one database filled by Scale.tiny()."""
    await generate(engine, Scale.tiny())
    async with AsyncExitStack() as stack:
        sides = []
        for compiled in (False, True):
            app = create_app(settings.with_overrides(compiled_reads=compiled))
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")
            await stack.enter_async_context(client)
            sides.append(Side(app, client))
        yield Twin(sides[0], sides[1], engine)


def same(left: dict[str, Any], right: dict[str, Any]) -> None:
    """Equal responses; FORBIDDEN entries may come in another order."""
    assert left.get("data") == right.get("data")
    assert sort_errors(left.get("errors")) == sort_errors(right.get("errors"))
    assert list(left) == list(right)


def sort_errors(errors: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if errors is None:
        return None
    return sorted(errors, key=lambda e: (e["message"], str(e.get("path"))))


def same_audit(left: AuditRecord, right: AuditRecord) -> None:
    assert left.operation_name == right.operation_name
    assert left.document_sha256 == right.document_sha256
    assert left.variables_sha256 == right.variables_sha256
    assert left.row_counts == right.row_counts
    assert left.denials == right.denials
    assert left.result == right.result
    assert left.fields == right.fields
