"""invoice original number: red invoices name their original, linked once it is stored

Revision ID: 20261126_0005
Revises: 20261126_0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261126_0005"
down_revision: str | None = "20261126_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoice") as batch:
        batch.add_column(sa.Column("original_number", sa.String(length=20), nullable=True))
        batch.create_index("ix_invoice_original_number", ["original_number"])
    # the reds stored so far are all linked: their original's number is known
    op.execute(
        "UPDATE invoice SET original_number = "
        "(SELECT o.number FROM invoice AS o WHERE o.id = invoice.original_invoice_id) "
        "WHERE original_invoice_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("invoice") as batch:
        batch.drop_index("ix_invoice_original_number")
        batch.drop_column("original_number")
