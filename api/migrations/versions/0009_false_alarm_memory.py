"""False-alarm memory per camera, and false-alarm suppressions in camera health

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "false_alarms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("box", sa.JSON(), nullable=False),
        sa.Column("signature", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("false_alarms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_false_alarms_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            "ix_false_alarms_site_camera", ["site_id", "camera_id", "expires_at"], unique=False
        )
    with op.batch_alter_table("camera_health", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suppression_counts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("camera_health", schema=None) as batch_op:
        batch_op.drop_column("suppression_counts")
    with op.batch_alter_table("false_alarms", schema=None) as batch_op:
        batch_op.drop_index("ix_false_alarms_site_camera")
        batch_op.drop_index(batch_op.f("ix_false_alarms_event_id"))
    op.drop_table("false_alarms")
