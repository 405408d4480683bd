"""Tracked issues: recurring problems (类案) turned into work with an owner and a deadline

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracked_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("finding_kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("finding", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tracked_issues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracked_issues_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tracked_issues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracked_issues_status"))
    op.drop_table("tracked_issues")
