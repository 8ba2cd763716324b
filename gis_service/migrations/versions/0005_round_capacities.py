"""round capacities

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('round_capacities',
    sa.Column('round_id', sa.String(length=64), nullable=False),
    sa.Column('school_code', sa.String(length=32), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity >= 0', name='round_capacity_not_negative'),
    sa.ForeignKeyConstraint(['round_id'], ['admission_rounds.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_code'], ['schools.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'school_code')
    )


def downgrade() -> None:
    op.drop_table('round_capacities')
