"""Building the strawberry schema with the extensions every request runs through."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from coalhub.errors import PublicError
from resolvers.context import RequestContext
from schema.guard import install_field_guards
from schema.root import EXTRA_TYPES, Mutation, Query

log = logging.getLogger("coalhub.errors")


class RequestSession(SchemaExtension):
    """The request boundary: a mutation commits only if nothing failed; reads never commit."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context: RequestContext = self.execution_context.context
        execution = self.execution_context
        result = execution.result
        succeeded = (
            execution.graphql_document is not None and result is not None and not result.errors
        )
        commit = succeeded and execution.operation_type == OperationType.MUTATION
        await context.finish(commit=commit)


def is_public(error: GraphQLError) -> bool:
    original = error.original_error
    # no original: a parse or validation error about the client's own document
    return original is None or isinstance(original, PublicError)


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
        return None


def build_schema() -> strawberry.Schema:
    schema = CoalhubSchema(
        query=Query,
        mutation=Mutation,
        types=EXTRA_TYPES,
        extensions=[
            RequestSession,
            ReportDenials,
            MaskUnexpectedErrors,
            ParserCache,
            ValidationCache,
        ],
    )
    install_field_guards(schema)
    return schema
