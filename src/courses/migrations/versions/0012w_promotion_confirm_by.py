"""enrollment.confirm_by: a place given from the waiting list in the charge period awaits acceptance

Revision ID: 0012w
Revises: 0011s
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012w"
down_revision: str | None = "0011s"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollment") as batch:
        batch.add_column(sa.Column("confirm_by", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrollment") as batch:
        batch.drop_column("confirm_by")
