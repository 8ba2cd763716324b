"""transport scenarios: named what-if edits of the road network (issue 15)

A scenario belongs to the basemap it was drawn on and never changes it: its edits (a new
road or bridge, a metro line with its stations, a closure) are applied to a copy of the
compiled graph when a what-if is computed (``routing/scenario_graph.py``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 07:30:00
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('transport_scenarios',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('basemap', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False, server_default=''),
    sa.Column('created_by', sa.String(length=64), nullable=False, server_default='system'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False,
              server_default=sa.text('now()')),
    sa.CheckConstraint("name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'", name='scenario_name_plain'),
    sa.ForeignKeyConstraint(['basemap'], ['basemaps.name'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('transport_scenario_edits',
    sa.Column('scenario', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('label', sa.Text(), nullable=False, server_default=''),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
              server_default=sa.text("'{}'::jsonb")),
    sa.Column('geom', geoalchemy2.types.Geometry(srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('stations', geoalchemy2.types.Geometry(geometry_type='MULTIPOINT', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.CheckConstraint("kind IN ('road', 'metro', 'closure')", name='scenario_edit_kind_known'),
    sa.CheckConstraint("kind <> 'metro' OR stations IS NOT NULL", name='metro_has_stations'),
    sa.ForeignKeyConstraint(['scenario'], ['transport_scenarios.name'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scenario', 'seq')
    )


def downgrade() -> None:
    op.drop_table('transport_scenario_edits')
    op.drop_table('transport_scenarios')
