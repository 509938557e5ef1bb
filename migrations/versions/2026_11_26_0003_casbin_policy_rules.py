"""casbin policy rules

Revision ID: 20261126_0003
Revises: 20261126_0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from coalhub.models.base import UTCDateTime

revision: str = "20261126_0003"
down_revision: str | None = "20261126_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "casbin_rule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ptype", sa.String(length=8), nullable=False),
        *(sa.Column(f"v{i}", sa.String(length=128), nullable=False) for i in range(6)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casbin_rule")),
        sa.UniqueConstraint(
            "ptype",
            "v0",
            "v1",
            "v2",
            "v3",
            "v4",
            "v5",
            name=op.f("uq_casbin_rule_ptype_v0_v1_v2_v3_v4_v5"),
        ),
    )
    op.create_table(
        "policy_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_revision")),
    )


def downgrade() -> None:
    op.drop_table("policy_revision")
    op.drop_table("casbin_rule")
