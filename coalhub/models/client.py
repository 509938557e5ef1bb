"""OAuth2 clients (agency, district, enterprise and device clients) and signing keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import Base, BigId, IdMixin, StrEnumColumn, utcnow
from coalhub.secrecy import Secrecy


class ApiClient(IdMixin, Base):
    """A caller of the hub: one per department app, district, enterprise or site bridge.

    The department list lives in code (`coalhub.clients.DEPARTMENTS`), not in a CHECK, so a
    new department needs no migration; the columns a department is scoped by are checked
    here as well, so no row can claim "district" without naming its district."""

    __tablename__ = "api_client"
    __table_args__ = (
        CheckConstraint(
            "department != 'district' OR district_code IS NOT NULL", name="district_scoped"
        ),
        CheckConstraint(
            "department != 'enterprise' OR enterprise_id IS NOT NULL", name="enterprise_scoped"
        ),
        CheckConstraint(
            "department != 'device' OR (site_id IS NOT NULL AND enterprise_id IS NOT NULL)",
            name="device_scoped",
        ),
    )

    client_id: Mapped[str] = mapped_column(String(64), unique=True)  # public, random
    name: Mapped[str] = mapped_column(String(64), unique=True)
    department: Mapped[str] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(6), ForeignKey("district.code"))
    enterprise_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("enterprise.id"))
    site_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("site.id"))
    clearance: Mapped[Secrecy] = mapped_column(StrEnumColumn(Secrecy))
    scopes: Mapped[list[Any]]
    # "scrypt$n$r$p$salt$hash": the parameters travel with the hash so they can be raised later
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class SigningKey(IdMixin, Base):
    """A key that signs access tokens. The newest unretired key signs; a retired key stays
    published until every token it signed has expired."""

    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(64), unique=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_jwk: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
