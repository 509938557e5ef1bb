"""Typed errors clients may see, each with a stable `extensions.code`.

Everything else is masked for clients (with a reference id) and logged in full."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class PublicError(GraphQLError):
    """Base of every error whose message and code are meant for the client."""

    code = "BAD_REQUEST"

    def __init__(self, code: str | None, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code or self.code, **extensions})


class BadRequestError(PublicError):
    code = "BAD_REQUEST"


class InvalidInputError(PublicError):
    """A mutation argument failed validation; `field` names the offending input field."""

    code = "INVALID_INPUT"

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(self.code, message, field=field, reason=reason)


class ConflictError(PublicError):
    code = "CONFLICT"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(self.code, message, field=field, reason="already_exists")


class NotFoundError(PublicError):
    code = "NOT_FOUND"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(self.code, message, **extensions)


class ForbiddenError(PublicError):
    code = "FORBIDDEN"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(self.code, message, **extensions)
