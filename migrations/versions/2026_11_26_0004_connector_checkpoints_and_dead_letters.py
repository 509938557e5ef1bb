"""connector checkpoints and dead letters

Revision ID: 20261126_0004
Revises: 20261126_0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from coalhub.models.base import UTCDateTime

revision: str = "20261126_0004"
down_revision: str | None = "20261126_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


PLATE_COLOUR = _enum(
    "blue", "yellow", "black", "white", "green", "yellow_green", "other", name="platecolour"
)


def upgrade() -> None:
    op.create_table(
        "connector_checkpoint",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_connector_checkpoint")),
    )
    op.create_table(
        "connector_dead_letter",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("locator", sa.String(length=256), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column(
            "payload_encoding", _enum("text", "base64", name="payloadencoding"), nullable=False
        ),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_dead_letter")),
        sa.UniqueConstraint(
            "connector", "fingerprint", name=op.f("uq_connector_dead_letter_connector_fingerprint")
        ),
    )
    with op.batch_alter_table("connector_dead_letter", schema=None) as batch_op:
        batch_op.create_index(
            "ix_connector_dead_letter_connector_received",
            ["connector", "received_at"],
            unique=False,
        )
    op.create_table(
        "connector_terminal",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("terminal_phone", sa.String(length=20), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("plate", sa.String(length=10), nullable=False),
        sa.Column("plate_colour", PLATE_COLOUR, nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_terminal")),
        sa.UniqueConstraint(
            "connector",
            "terminal_phone",
            name=op.f("uq_connector_terminal_connector_terminal_phone"),
        ),
    )
    op.create_table(
        "connector_invoice_flag",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("invoice_id", BIG_ID, nullable=False),
        sa.Column("party", sa.String(length=8), nullable=False),
        sa.Column("tax_id", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("flagged_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
            name=op.f("fk_connector_invoice_flag_invoice_id_invoice"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_invoice_flag")),
        sa.UniqueConstraint(
            "invoice_id", "party", name=op.f("uq_connector_invoice_flag_invoice_id_party")
        ),
    )


def downgrade() -> None:
    op.drop_table("connector_invoice_flag")
    op.drop_table("connector_terminal")
    with op.batch_alter_table("connector_dead_letter", schema=None) as batch_op:
        batch_op.drop_index("ix_connector_dead_letter_connector_received")
    op.drop_table("connector_dead_letter")
    op.drop_table("connector_checkpoint")
