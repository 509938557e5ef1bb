"""The compiled read path at run time: from a parsed, validated request to an answer built
by one SQL statement, or None (the executor answers; the fallback is counted).

A document is first answered inside strawberry's own pipeline (`CompiledReadsExtension`):
parsing, validation, limits, audit, denials and error masking run exactly as for the
executor. Once answered, the document is `Prepared`: the HTTP endpoint answers later requests
of the same text before strawberry (`coalhub.endpoint`), re-doing only what depends on the
request. Either way the request context receives the same row counts and FORBIDDEN entries
the resolvers record."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache
from graphql import DocumentNode, ExecutionResult, OperationDefinitionNode
from graphql.execution.values import get_variable_values
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_first_operation

from coalhub.settings import Settings
from resolvers.compiler.binding import Request, parameters
from resolvers.compiler.cache import PolicyShapes, variable_structure
from resolvers.compiler.dialects import emitter_for
from resolvers.compiler.documents import fragments_of, operation_of, page_variables, root_fields
from resolvers.compiler.emit import Builder, RootLayout
from resolvers.compiler.plan import (
    DeclineError,
    Literal,
    Plan,
    RootCaller,
    RootConnection,
    RootField,
    RootNode,
    RootNodes,
    RootNull,
    Site,
    UnboundError,
    item_index,
)
from resolvers.compiler.response import RawJSON, SplicedData, as_path
from resolvers.compiler.statement import Compiled, Database, compile_statement
from resolvers.compiler.walker import Walker
from resolvers.context import RequestContext

log = logging.getLogger("coalhub.compiler")


@dataclass
class Stats:
    """Counters of the compiled path: answers (of which `prepared`: without strawberry's
    pipeline, see `Prepared`), fallbacks by reason, statements compiled and statements run
    (at most one per answer; none when no root field needs one)."""

    compiled: int = 0
    prepared: int = 0
    compilations: int = 0
    statements: int = 0
    fallbacks: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "compiled": self.compiled,
            "prepared": self.prepared,
            "compilations": self.compilations,
            "statements": self.statements,
            "fallbacks": sum(self.fallbacks.values()),
            "fallback_reasons": dict(self.fallbacks),
        }


@dataclass(frozen=True)
class Entry:
    plan: Plan
    compiled: Compiled | None
    layouts: tuple[RootLayout, ...]


@dataclass(frozen=True)
class Prepared:
    """A query document (text and operation name) that strawberry's pipeline has parsed,
    validated and let through the request limits, and that the compiled path has answered.
    A later request with the same text may skip that pipeline (`CompiledReads.answer_prepared`)
    as long as its page sizes stay within the limits: validation does not depend on values,
    the cost limit depends on the variables in `page_variables`."""

    query: str
    operation_name: str | None
    document: DocumentNode
    operation: OperationDefinitionNode
    root_fields: tuple[str, ...]  # for the audit record
    page_variables: frozenset[str]


class CompiledReads:
    def __init__(self, schema: Schema, engine: AsyncEngine, settings: Settings) -> None:
        self.schema = schema
        self.settings = settings
        self.database = Database(engine, settings.db_pool_size)
        self.dialect = engine.dialect
        self.emitter = emitter_for(engine.dialect.name)
        self.stats = Stats()
        self._entries: LRUCache[Hashable, Entry | str] = LRUCache(1024)
        self._prepared: LRUCache[tuple[str, str | None], Prepared] = LRUCache(1024)
        self._shapes = PolicyShapes()

    async def aclose(self) -> None:
        """Close the path's own database connections (the engine's disposal does it too)."""
        await self.database.close()

    def prepared(self, query: str, operation_name: str | None) -> Prepared | None:
        """The prepared document of this text and operation (as the request names it), if
        the compiled path has answered it through strawberry's pipeline before."""
        return self._prepared.get((query, operation_name))

    async def answer(self, execution: ExecutionContext) -> ExecutionResult | None:
        """Within strawberry's pipeline (the document parsed and validated): the answer,
        or None for the executor. An answered document is remembered as `Prepared`."""
        document, query = execution.graphql_document, execution.query
        if execution.operation_type is not OperationType.QUERY:
            self.stats.fallbacks["not a query"] += 1
            return None
        if document is None or query is None:
            self.stats.fallbacks["no document"] += 1
            return None
        try:
            operation = operation_of(document, execution.operation_name)
        except DeclineError as declined:
            self.stats.fallbacks[str(declined)] += 1
            return None
        name, given = execution.operation_name, execution.variables
        data = await self._counted(
            self._data(document, operation, query, name, given, execution.context)
        )
        if data is None:
            return None
        # `name`: as given, else the first operation's (strawberry's operation_name)
        if (query, name) not in self._prepared:
            found = Prepared(
                query, name, document, operation, root_fields(document), page_variables(document)
            )
            self._prepared[(query, name)] = found
            if get_first_operation(document) is operation:  # what a request without a name runs
                self._prepared[(query, None)] = found
        return ExecutionResult(data=data, errors=None)

    async def answer_prepared(
        self, prepared: Prepared, variables: dict[str, Any] | None, context: RequestContext
    ) -> SplicedData | None:
        """Without strawberry's pipeline: the response's data (row counts and FORBIDDEN
        entries in the context, as in `answer`), or None for the executor."""
        data = await self._counted(
            self._data(
                prepared.document,
                prepared.operation,
                prepared.query,
                prepared.operation_name,
                variables,
                context,
            )
        )
        if data is not None:
            self.stats.prepared += 1
        return data

    async def _counted(self, answering: Awaitable[SplicedData]) -> SplicedData | None:
        """The answer, or None for the executor; either way counted."""
        try:
            data = await answering
        except DeclineError as declined:
            self.stats.fallbacks[str(declined)] += 1
            return None
        except Exception:
            log.exception("compiled read failed; the executor answers")
            self.stats.fallbacks["error"] += 1
            return None
        self.stats.compiled += 1
        return data

    async def _data(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        query: str,
        operation_name: str | None,
        given: dict[str, Any] | None,
        context: RequestContext,
    ) -> SplicedData:
        graphql = self.schema._schema
        variables = get_variable_values(graphql, operation.variable_definitions or (), given or {})
        if isinstance(variables, list):
            raise DeclineError("variables not coercible")
        request = Request(variables, self.settings, context.access, context.caller.client_id)
        key: Hashable = (
            query,
            operation_name,
            self._shapes.key(context.access),
            variable_structure(graphql, operation, given or {}),
        )
        entry = self._entries.get(key)
        if entry is None:
            entry = self._compile(document, operation, request, key)
        if isinstance(entry, str):
            raise DeclineError(entry)
        values = parameters(entry.plan.bindings, request)
        row = None
        if entry.compiled is not None:
            row = await self.database.fetch(entry.compiled, values)
            self.stats.statements += 1
        return self._record(entry, row, context)

    def _compile(self, document: Any, operation: Any, request: Request, key: Hashable) -> Entry:
        walker = Walker(self.schema, request, operation, fragments_of(document))
        try:
            plan = walker.plan()
        except UnboundError:
            raise  # this request's values: the next request may bind
        except DeclineError as declined:
            self._entries[key] = str(declined)
            raise
        compiled: Compiled | None = None
        layouts: tuple[RootLayout, ...] = ()
        if plan.needs_statement():
            statement, layouts = Builder(self.emitter, request.access.scope).statement(plan)
            compiled = compile_statement(statement, self.dialect)
        entry = Entry(plan, compiled, layouts)
        self._entries[key] = entry
        self.stats.compilations += 1
        return entry

    def _record(
        self, entry: Entry, row: Sequence[Any] | None, context: RequestContext
    ) -> SplicedData:
        """The response's data; row counts and FORBIDDEN entries go to the context."""
        recorder = Recorder(entry, row, context)
        data = SplicedData()
        for key, root in entry.plan.roots:
            if isinstance(root, Literal):
                data[key] = root.value
            elif isinstance(root, RootCaller):
                data[key] = caller_values(root, context)
            elif isinstance(root, RootNodes):
                items = [recorder.item(key, n, item) for n, item in enumerate(root.items)]
                data[key] = RawJSON("[" + ",".join(t or "null" for t in items) + "]")
            else:
                text = recorder.item(key, None, root)
                data[key] = None if text is None else RawJSON(text)
        recorder.deny()
        return data


class Recorder:
    """Reads the statement's row: each root position's JSON, its row counts into the
    context, and where each refused subject first occurs."""

    def __init__(self, entry: Entry, row: Sequence[Any] | None, context: RequestContext):
        self.plan = entry.plan
        self.row = row
        self.context = context
        self.layouts = {(layout.key, layout.item): layout for layout in entry.layouts}
        self.found: dict[str, tuple[int, list[str | int]]] = {}

    def item(self, key: str, item: int | None, root: RootField) -> str | None:
        """The JSON text of one root position (None: null)."""
        if isinstance(root, RootNull):
            if root.site is not None:
                self.hit(root.site.subject, item or 0, [key])
            return None
        assert self.row is not None
        assert isinstance(root, RootConnection | RootNode)
        layout = self.layouts[(key, item)]
        record_counts(layout, self.row, self.context)
        if isinstance(root, RootNode):  # resolve_nodes counts even when nothing is found
            self.context.row_counts.setdefault(root.target.entity.name, 0)
        for index, subject in layout.paths:
            encoded = self.row[index]
            if encoded is not None:
                self.hit(subject, item or 0, fill(self.site(subject, key, item), encoded))
        text: str | None = self.row[layout.json]
        return text

    def hit(self, subject: str, rank: int, path: list[str | int]) -> None:
        """Several items of nodes(ids:) complete in order: the lowest item comes first."""
        known = self.found.get(subject)
        if known is None or rank < known[0]:
            self.found[subject] = (rank, path)

    def site(self, subject: str, key: str, item: int | None) -> Site:
        return next(
            site
            for site in self.plan.sites
            if site.subject == subject and site.path[0] == key and item_index(site) == item
        )

    def deny(self) -> None:
        for site in self.plan.sites:
            if site.subject in self.found:
                path = self.found[site.subject][1]
                self.context.deny(site.subject, as_path(path), site.message)


def caller_values(root: RootCaller, context: RequestContext) -> dict[str, Any]:
    """schema/me.py: the calling client as the hub sees it."""
    caller, access = context.caller, context.access
    readable = None if access.readable_types is None else sorted(access.readable_types)
    values = {
        "__typename": root.type_name,
        "client_id": caller.client_id,
        "department": caller.department,
        "clearance": caller.clearance.value,
        "district_code": caller.district_code,
        "user_id": caller.user_id,
        "purpose": caller.purpose,
        "readable_types": readable,
    }
    return {key: values[attribute] for key, attribute in root.fields}


def record_counts(layout: RootLayout, row: Sequence[Any], context: RequestContext) -> None:
    """Rows per type; a type whose resolver ran gets its entry even with no rows."""
    counts: dict[str, int] = {}
    calls: set[str] = set()
    for index, name in layout.counts:
        n = int(row[index] or 0)
        if name.startswith("@"):
            if n:
                calls.add(name[1:])
        else:
            counts[name] = counts.get(name, 0) + n
    for type_name in calls | {t for t, n in counts.items() if n}:
        context.count_rows(type_name, counts.get(type_name, 0))


def fill(site: Site, encoded: str) -> list[str | int]:
    """The site's path with its list indices, decoded from 4-digit groups."""
    indices = iter(int(encoded[n : n + 4]) for n in range(0, len(encoded), 4))
    path: list[str | int] = [next(indices) if key is None else key for key in site.path]
    return path


class CompiledReadsExtension(SchemaExtension):
    """Answers a query with the compiled path before the executor runs (strawberry skips
    execution when an extension has set the result)."""

    def __init__(self, reads: CompiledReads) -> None:
        super().__init__()
        self.reads = reads

    async def on_execute(self) -> AsyncIterator[None]:
        result = await self.reads.answer(self.execution_context)
        if result is not None:
            self.execution_context.result = result
        yield
