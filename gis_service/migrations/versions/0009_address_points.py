"""address points: OSM house numbers (addr:housenumber + addr:street) of an imported basemap

Filled by the OSM road import of the same basemap (nodes, and ways at their centroid),
replaced on every import of it; the geocoder finds "12 Nguyễn Huệ" with them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:15:00
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('address_points',
    sa.Column('basemap', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('housenumber', sa.Text(), nullable=False),
    sa.Column('street', sa.Text(), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.ForeignKeyConstraint(['basemap'], ['basemaps.name'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('basemap', 'id')
    )


def downgrade() -> None:
    op.drop_table('address_points')
