"""oauth clients and signing keys

Revision ID: 20261126_0002
Revises: 081cb5badf74
Create Date: 2026-11-26
"""

from collections.abc import Sequence

revision: str = "20261126_0002"
down_revision: str | None = "081cb5badf74"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
