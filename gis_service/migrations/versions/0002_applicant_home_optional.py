"""Applicants' home point is optional (grade 10 files may omit lon/lat).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("applicants", "geom", nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM applicants WHERE geom IS NULL")
    op.alter_column("applicants", "geom", nullable=False)
