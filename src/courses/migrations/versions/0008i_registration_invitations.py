"""registration invitations: organisations invite people they have not registered before

Revision ID: 0008i
Revises: 0007t
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008i"
down_revision: str | None = "0007t"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organization_member",
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "user_id"),
    )
    op.create_index("ix_organization_member_user_id", "organization_member", ["user_id"])
    op.create_table(
        "registration_invitation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("bulk_batch.id"), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_kana", sa.String(length=100), nullable=False),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("course_session.id"), nullable=False),
        sa.Column("lodging", sa.Boolean(), nullable=False),
        sa.Column("profile_json", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), sa.ForeignKey("enrollment.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    )
    for column in ("organization_id", "batch_id", "email", "session_id", "token_hash"):
        op.create_index(f"ix_registration_invitation_{column}", "registration_invitation", [column])
    with op.batch_alter_table("enrollment") as batch:
        batch.add_column(sa.Column("registered_name", sa.String(length=100), nullable=True))
    with op.batch_alter_table("bulk_batch") as batch:
        batch.add_column(sa.Column("invited", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_column("accounts_created")
    # What organisations registered before invitations existed stays theirs: the people become
    # members, and each registration keeps the name the account had then.
    op.execute(
        "UPDATE enrollment SET registered_name = "
        "(SELECT name FROM app_user WHERE app_user.id = enrollment.user_id) "
        "WHERE organization_id IS NOT NULL"
    )
    op.execute(
        "INSERT INTO organization_member (organization_id, user_id, created_at) "
        "SELECT organization_id, user_id, MIN(created_at) FROM enrollment "
        "WHERE organization_id IS NOT NULL GROUP BY organization_id, user_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("bulk_batch") as batch:
        batch.add_column(sa.Column("accounts_created", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_column("invited")
    with op.batch_alter_table("enrollment") as batch:
        batch.drop_column("registered_name")
    op.drop_table("registration_invitation")
    op.drop_table("organization_member")
