"""two-tier administration (province -> ward/commune), old -> new unit mapping, multi-level schools

Since 1 July 2025 Vietnam has no districts: the province (``province``, which replaces the
former ``city`` level) holds the wards and communes directly. Old districts and wards stay as
history (``valid_to`` set). ``admin_mapping`` carries data keyed by old units over to the new
ones; ``share`` is the part of the old unit that went to the new one (1 when it went whole).

A multi-level school (trường liên cấp) is one school with several ``levels``; ``level`` stays
its first (youngest) level. Population rows say how they were made (``method``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint('admin_level_known', 'admin_units', type_='check')
    op.execute("UPDATE admin_units SET level = 'province' WHERE level = 'city'")
    op.create_check_constraint('admin_level_known', 'admin_units',
                               "level IN ('province', 'district', 'ward')")
    op.create_check_constraint('admin_validity_ordered', 'admin_units',
                               'valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from')
    op.create_table('admin_mapping',
    sa.Column('old_code', sa.String(length=16), nullable=False),
    sa.Column('new_code', sa.String(length=16), nullable=False),
    sa.Column('share', sa.Double(), server_default='1', nullable=False),
    sa.Column('source', sa.Text(), server_default='', nullable=False),
    sa.CheckConstraint('share > 0 AND share <= 1', name='admin_mapping_share_fraction'),
    sa.CheckConstraint('old_code <> new_code', name='admin_mapping_not_itself'),
    sa.ForeignKeyConstraint(['old_code'], ['admin_units.code'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['new_code'], ['admin_units.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('old_code', 'new_code')
    )
    op.create_index('ix_admin_mapping_new', 'admin_mapping', ['new_code'], unique=False)
    op.add_column('schools', sa.Column('levels', postgresql.ARRAY(sa.Text()), server_default='{}',
                                       nullable=False))
    op.execute('UPDATE schools SET levels = ARRAY[level]')
    op.create_check_constraint('school_levels_hold_level', 'schools',
                               "cardinality(levels) = 0 OR level = ANY(levels)")
    op.add_column('population', sa.Column('method', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    op.drop_column('population', 'method')
    op.drop_constraint('school_levels_hold_level', 'schools', type_='check')
    op.drop_column('schools', 'levels')
    op.drop_index('ix_admin_mapping_new', table_name='admin_mapping')
    op.drop_table('admin_mapping')
    op.drop_constraint('admin_validity_ordered', 'admin_units', type_='check')
    op.drop_constraint('admin_level_known', 'admin_units', type_='check')
    op.execute("UPDATE admin_units SET level = 'city' WHERE level = 'province'")
    op.create_check_constraint('admin_level_known', 'admin_units',
                               "level IN ('city', 'district', 'ward')")
