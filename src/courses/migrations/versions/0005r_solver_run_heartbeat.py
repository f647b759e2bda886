"""solver runs: heartbeat and attempts, so that runs of a dead service instance are reclaimed

Revision ID: 0005r
Revises: 0004t
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005r"
down_revision: str | None = "0004t"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("solver_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    # a run already running when this ships counts as claimed once; its heartbeat starts at its start
    op.execute("UPDATE solver_run SET attempts = 1, heartbeat_at = started_at WHERE status = 'running'")


def downgrade() -> None:
    with op.batch_alter_table("solver_run", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("heartbeat_at")
