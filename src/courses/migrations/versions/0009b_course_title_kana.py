"""course.title_kana: the reading of a course title, so that a search in kana finds it

Revision ID: 0009b
Revises: 0009a
"""

from __future__ import annotations

import csv
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from courses.core.settings import SEEDS_DIR

revision: str = "0009b"
down_revision: str | None = "0009a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("course") as batch:
        batch.add_column(sa.Column("title_kana", sa.String(length=200), nullable=False, server_default=""))
    # the seed catalog's courses get their readings; courses staff added get theirs in the console
    path = SEEDS_DIR / "courses.csv"
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        readings = {row["code"]: row.get("title_kana") or "" for row in csv.DictReader(f)}
    course = sa.table("course", sa.column("code", sa.String), sa.column("title_kana", sa.String))
    bind = op.get_bind()
    for code, reading in readings.items():
        if reading:
            bind.execute(
                course.update()
                .where(course.c.code == code, course.c.title_kana == "")
                .values(title_kana=reading)
            )


def downgrade() -> None:
    with op.batch_alter_table("course") as batch:
        batch.drop_column("title_kana")
