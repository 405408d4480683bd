"""Projects' street (街道) and community (社区), by which a district filters its cases

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("street", sa.String(length=100), nullable=False, server_default=""))
        batch.add_column(sa.Column("community", sa.String(length=100), nullable=False, server_default=""))
    op.create_index("ix_projects_street", "projects", ["street"])


def downgrade() -> None:
    op.drop_index("ix_projects_street", table_name="projects")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("community")
        batch.drop_column("street")
