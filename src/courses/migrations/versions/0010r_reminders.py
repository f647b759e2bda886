"""reminders: reminder_sent (once per enrollment and kind) and the campus's access and dormitory check-in

Revision ID: 0010r
Revises: 0009b
"""

from __future__ import annotations

import csv
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from courses.core.settings import SEEDS_DIR

revision: str = "0010r"
down_revision: str | None = "0009b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DORM_CHECKIN_DEFAULT = "初日 8:30〜9:15 に寮の受付へ"


def upgrade() -> None:
    with op.batch_alter_table("campus") as batch:
        batch.add_column(sa.Column("access_ja", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column(
                "dorm_checkin_ja", sa.String(length=200), nullable=False, server_default=DORM_CHECKIN_DEFAULT
            )
        )
    op.create_table(
        "reminder_sent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "enrollment_id", sa.Integer(), sa.ForeignKey("enrollment.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("enrollment_id", "kind", name="uq_reminder_sent_enrollment_kind"),
    )
    # the seed catalog's campuses get how to reach them; campuses staff added get theirs later
    path = SEEDS_DIR / "campuses.csv"
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        access = {row["code"]: row.get("access_ja") or "" for row in csv.DictReader(f)}
    campus = sa.table("campus", sa.column("code", sa.String), sa.column("access_ja", sa.Text))
    bind = op.get_bind()
    for code, text in access.items():
        if text:
            bind.execute(
                campus.update()
                .where(campus.c.code == code, campus.c.access_ja.is_(None))
                .values(access_ja=text)
            )


def downgrade() -> None:
    op.drop_table("reminder_sent")
    with op.batch_alter_table("campus") as batch:
        batch.drop_column("dorm_checkin_ja")
        batch.drop_column("access_ja")
