"""email change: an auth_token of kind "email" carries the address it confirms

Revision ID: 0009a
Revises: 0008i
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009a"
down_revision: str | None = "0008i"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_token") as batch:
        batch.add_column(sa.Column("new_email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM auth_token WHERE kind = 'email'")  # meaningless without their address
    with op.batch_alter_table("auth_token") as batch:
        batch.drop_column("new_email")
