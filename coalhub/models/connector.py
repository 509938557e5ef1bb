"""Connector checkpoints and the dead-letter table of rejected records.

Also the connectors' own bookkeeping: JT/T 808 terminals registered with the gateway, and
invoices whose parties did not match a registered enterprise.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.identifiers import PlateColour
from coalhub.models.base import Base, BigId, IdMixin, StrEnumColumn, utcnow


class ConnectorCheckpoint(Base):
    """Where a connector stopped (cursor, sequence, file offset): a restart resumes here.

    Saved in the same transaction as the records it covers, so the two never disagree."""

    __tablename__ = "connector_checkpoint"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PayloadEncoding(enum.StrEnum):
    TEXT = "text"
    BASE64 = "base64"  # binary frames


class DeadLetter(IdMixin, Base):
    """A record a connector received but could not store, kept with its reason and payload."""

    __tablename__ = "connector_dead_letter"
    __table_args__ = (
        # a replayed batch dead-letters nothing twice
        UniqueConstraint("connector", "fingerprint"),
        Index("ix_connector_dead_letter_connector_received", "connector", "received_at"),
    )

    connector: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(32))  # stable code, e.g. bad_checksum
    detail: Mapped[str] = mapped_column(Text)
    # where it came from: "file.csv line 17", "terminal 013912345678", "page cursor=…"
    locator: Mapped[str | None] = mapped_column(String(256))
    payload: Mapped[str] = mapped_column(Text)
    payload_encoding: Mapped[PayloadEncoding] = mapped_column(StrEnumColumn(PayloadEncoding))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of reason, locator, payload


class ConnectorTerminal(IdMixin, Base):
    """A JT/T 808 terminal that registered with a gateway (0x0100) and the plate it carries."""

    __tablename__ = "connector_terminal"
    __table_args__ = (UniqueConstraint("connector", "terminal_phone"),)

    connector: Mapped[str] = mapped_column(String(64))
    terminal_phone: Mapped[str] = mapped_column(String(20))  # BCD phone of the header
    terminal_id: Mapped[str] = mapped_column(String(32))  # maker's terminal id
    plate: Mapped[str] = mapped_column(String(10))
    plate_colour: Mapped[PlateColour] = mapped_column(StrEnumColumn(PlateColour))
    token_sha256: Mapped[str] = mapped_column(String(64))  # the 0x8100 authentication code
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvoicePartyFlag(IdMixin, Base):
    """An imported invoice party (seller or buyer) that is not a registered enterprise.

    The invoice keeps the party as printed with a null enterprise id; this row says why, so
    the tax bureau can list them and a later registration can clear them."""

    __tablename__ = "connector_invoice_flag"
    __table_args__ = (UniqueConstraint("invoice_id", "party"),)

    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("invoice.id", ondelete="CASCADE"))
    party: Mapped[str] = mapped_column(String(8))  # seller | buyer
    tax_id: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(32))  # unregistered_party | invalid_tax_id
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow)
