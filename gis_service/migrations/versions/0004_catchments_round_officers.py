"""catchments and round officers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catchments',
    sa.Column('school_code', sa.String(length=32), nullable=False),
    sa.Column('ward_code', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.CheckConstraint("source IN ('derived', 'imported')", name='catchment_source_known'),
    sa.ForeignKeyConstraint(['school_code'], ['schools.code'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ward_code'], ['admin_units.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_code', 'ward_code')
    )
    op.create_index('ix_catchments_ward', 'catchments', ['ward_code'], unique=False)
    op.create_table('round_officers',
    sa.Column('round_id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['admission_rounds.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['username'], ['users.username'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'username')
    )
    # rounds created before this migration keep their creator (from the audit log) as officer
    op.execute(
        "INSERT INTO round_officers (round_id, username) SELECT DISTINCT a.target, a.actor"
        " FROM audit_log a JOIN admission_rounds r ON r.id = a.target"
        " JOIN users u ON u.username = a.actor AND u.role = 'officer'"
        " WHERE a.action = 'round.create'"
    )


def downgrade() -> None:
    op.drop_table('round_officers')
    op.drop_index('ix_catchments_ward', table_name='catchments')
    op.drop_table('catchments')
