"""Audit events: every request, accountable, chained by hashes so tampering shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import Base, BigId, IdMixin


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(BigId, unique=True)  # gap-free order of the hash chain
    occurred_at: Mapped[datetime]
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    department: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(256))
    operation_name: Mapped[str | None] = mapped_column(String(128))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    variables_sha256: Mapped[str | None] = mapped_column(String(64))
    fields: Mapped[list[Any] | None]
    row_counts: Mapped[dict[str, Any] | None]
    denials: Mapped[list[Any] | None]
    duration_ms: Mapped[float]
    result: Mapped[str] = mapped_column(String(16))  # ok, partial, denied, error
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
