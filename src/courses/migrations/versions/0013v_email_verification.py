"""app_user.email_verified_at and app_user.language: a registration proves its address by an emailed
link before its first application, and mail is written in the person's language

Accounts that existed before, with a password, are taken as verified: they were created by staff, by
the seeds, or registered when no link was asked for. An account created by an organisation and never
claimed is verified when its person sets a password from the emailed link.

Revision ID: 0013v
Revises: 0012w
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013v"
down_revision: str | None = "0012w"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("language", sa.String(2), nullable=False, server_default="ja"))
    op.execute("UPDATE app_user SET email_verified_at = created_at WHERE password_hash IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("language")
        batch.drop_column("email_verified_at")
