"""Casbin policy rules, kept in the database and edited through audited mutations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import Base, IdMixin, utcnow


class PolicyRule(IdMixin, Base):
    """One Casbin line (`p` or `g`), in the column layout Casbin adapters use."""

    __tablename__ = "casbin_rule"
    __table_args__ = (UniqueConstraint("ptype", "v0", "v1", "v2", "v3", "v4", "v5"),)

    ptype: Mapped[str] = mapped_column(String(8))
    v0: Mapped[str] = mapped_column(String(128), default="")
    v1: Mapped[str] = mapped_column(String(128), default="")
    v2: Mapped[str] = mapped_column(String(128), default="")
    v3: Mapped[str] = mapped_column(String(128), default="")
    v4: Mapped[str] = mapped_column(String(128), default="")
    v5: Mapped[str] = mapped_column(String(128), default="")


class PolicyRevision(Base):
    """A single row counting policy changes, so every worker notices an edit and reloads."""

    __tablename__ = "policy_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
