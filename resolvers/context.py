"""The typed per-request context: caller, access decision, one database session, loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from graphql.pyutils import Path
from sqlalchemy import ColumnElement, Executable, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coalhub.audit import AuditLog
from coalhub.auth import Principal
from coalhub.catalog import Entity
from coalhub.settings import Settings
from policies.access import AccessDecision
from policies.enforcer import PolicyStore
from resolvers.scope import scope_predicates


@dataclass
class RequestContext:
    settings: Settings
    caller: Principal
    access: AccessDecision
    sessionmaker: async_sessionmaker[AsyncSession]
    audit: AuditLog | None = None
    policies: PolicyStore | None = None
    policy_changed: bool = False  # set by mutations that edit the policy rules
    statements: int = 0  # counted for audit and for the N+1 tests
    _session: AsyncSession | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    loaders: dict[Any, Any] = field(default_factory=dict)
    # FORBIDDEN entries, one per denied type or field, added to the response's errors
    denials: dict[str, GraphQLError] = field(default_factory=dict)
    # rows returned per type, for the audit trail
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self.sessionmaker()
        return self._session

    async def execute(self, statement: Executable) -> Result[Any]:
        # DataLoaders dispatch concurrently; one session runs one statement at a time
        async with self._lock:
            self.statements += 1
            return await self.session.execute(statement)

    def deny(self, subject: str, path: Path | None, message: str) -> None:
        """Record (once per type or field) that the caller was refused `subject`."""
        if subject not in self.denials:
            self.denials[subject] = GraphQLError(
                message,
                path=None if path is None else path.as_list(),
                extensions={"code": "FORBIDDEN", "field": subject},
            )

    def count_rows(self, type_name: str, n: int) -> None:
        self.row_counts[type_name] = self.row_counts.get(type_name, 0) + n

    def readable(self, entity: Entity) -> Sequence[ColumnElement[bool]]:
        """WHERE clauses that confine `entity` to the caller's policy domains."""
        return scope_predicates(entity, self.access.scope)

    async def finish(self, *, commit: bool) -> None:
        if self._session is None:
            return
        try:
            if commit:
                await self._session.commit()
                if self.policy_changed and self.policies is not None:
                    self.policies.mark_stale()  # this process sees its own change at once
            else:
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None
