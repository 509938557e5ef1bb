"""Building the strawberry schema with the extensions every request runs through."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from coalhub.audit import AuditRecord, sha256_json, sha256_text
from coalhub.errors import PublicError
from resolvers.compiler.documents import root_fields
from resolvers.context import RequestContext
from schema.guard import install_field_guards
from schema.limits import (
    IntrospectionGate,
    RequestLimits,
    connection_field_names,
    label_token_limit,
)
from schema.root import EXTRA_TYPES, Mutation, Query

log = logging.getLogger("coalhub.errors")


class RequestSession(SchemaExtension):
    """The request boundary: a mutation commits only if nothing failed; reads never commit."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context: RequestContext = self.execution_context.context
        execution = self.execution_context
        result = execution.result
        # a field refused to the caller (FORBIDDEN, reported as a denial) is not a failure
        denied = {id(e) for e in context.denials.values()}
        errors = getattr(result, "errors", None) or []
        succeeded = (
            execution.graphql_document is not None
            and result is not None
            and all(id(e) in denied for e in errors)
        )
        commit = succeeded and execution.operation_type == OperationType.MUTATION
        await context.finish(commit=commit)


def is_public(error: GraphQLError) -> bool:
    original = error.original_error
    # no original: a parse or validation error about the client's own document; no path:
    # raised before execution, i.e. the client's variables failed to coerce
    return original is None or isinstance(original, PublicError) or error.path is None


class AuditRequests(SchemaExtension):
    """Hands every operation to the audit log: who, why, what, how much, how it ended."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        occurred_at = datetime.now(UTC)
        yield
        execution = self.execution_context
        document = execution.graphql_document
        audit_operation(
            execution.context,
            occurred_at=occurred_at,
            started=started,
            operation_name=execution.operation_name,
            query=execution.query,
            variables=execution.variables,
            fields=() if document is None else root_fields(document),
            result=execution.result,
        )


def audit_operation(
    context: RequestContext,
    *,
    occurred_at: datetime,
    started: float,
    operation_name: str | None,
    query: str | None,
    variables: Mapping[str, Any] | None,
    fields: Sequence[str],
    result: object,
) -> None:
    """The audit record of one operation (whichever path answered it); `started` is a
    `time.perf_counter()` reading, `result` the ExecutionResult (None: none was made)."""
    if context.audit is None:
        return
    caller = context.caller
    context.audit.record(
        AuditRecord(
            occurred_at=occurred_at,
            client_id=caller.client_id,
            department=caller.department,
            user_id=caller.user_id,
            purpose=caller.purpose,
            operation_name=operation_name,
            document_sha256=sha256_text(query or ""),
            variables_sha256=sha256_json(variables or {}),
            fields=list(fields),
            row_counts=dict(context.row_counts),
            denials=sorted(context.denials),
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            result=_outcome(result, context),
        )
    )


def _outcome(result: object, context: RequestContext) -> str:
    if result is None:
        return "error"
    errors, data = getattr(result, "errors", None), getattr(result, "data", None)
    if not errors:
        return "ok"
    if context.denials and len(errors) == len(context.denials):
        answered = data is not None and any(value is not None for value in data.values())
        return "partial" if answered else "denied"
    return "error" if data is None else "partial"


class ReportDenials(SchemaExtension):
    """Adds the request's FORBIDDEN entries (one per denied type or field) to the errors."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        context: RequestContext = self.execution_context.context
        if result is not None and context.denials:
            result.errors = [*(result.errors or []), *context.denials.values()]


class MaskUnexpectedErrors(SchemaExtension):
    """Unexpected exceptions reach clients as INTERNAL_ERROR with a reference id; operators
    find the full traceback in the log under the same id."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [error if is_public(error) else _masked(error) for error in result.errors]


def _masked(error: GraphQLError) -> GraphQLError:
    reference = uuid.uuid4().hex[:16]
    log.error("unexpected error %s at %s", reference, error.path, exc_info=error.original_error)
    return GraphQLError(
        "内部错误 / internal error",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_ERROR", "reference": reference},
    )


class CoalhubSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # typed errors are answers, not faults; unexpected ones are logged by the masker
        label_token_limit(errors)


def build_schema() -> strawberry.Schema:
    connection_fields: set[str] = set()  # filled once the schema exists
    schema = CoalhubSchema(
        query=Query,
        mutation=Mutation,
        types=EXTRA_TYPES,
        extensions=[
            IntrospectionGate,
            RequestSession,
            AuditRequests,
            ReportDenials,
            MaskUnexpectedErrors,
            lambda: MaxTokensLimiter(max_token_count=RequestLimits.limits.max_tokens),
            ParserCache,
            ValidationCache,
            lambda: RequestLimits(connection_fields),
        ],
    )
    install_field_guards(schema)
    connection_fields.update(connection_field_names(schema._schema))
    return schema
