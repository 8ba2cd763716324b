"""data changes: a version per map table, bumped by a trigger on every write

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

#: The tables whose content the public map, its tiles and the finder show.
WATCHED = ('admin_units', 'basemaps', 'capacity_gaps', 'catchments', 'cutoffs', 'population',
           'road_edges', 'road_nodes', 'schools')


def upgrade() -> None:
    op.create_table('data_changes',
    sa.Column('table_name', sa.String(length=63), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('table_name')
    )
    # once per statement, not per row: an import's COPY or upsert bumps its table once
    op.execute("""
        CREATE FUNCTION edugis_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO data_changes (table_name, version, changed_at)
            VALUES (TG_TABLE_NAME, 1, clock_timestamp())
            ON CONFLICT (table_name) DO UPDATE
            SET version = data_changes.version + 1, changed_at = clock_timestamp();
            RETURN NULL;
        END $$""")
    for table in WATCHED:
        op.execute(f"INSERT INTO data_changes (table_name, version) VALUES ('{table}', 1)")
        op.execute(f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
                   f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION edugis_data_changed()")


def downgrade() -> None:
    for table in WATCHED:
        op.execute(f"DROP TRIGGER {table}_changed ON {table}")
    op.execute("DROP FUNCTION edugis_data_changed()")
    op.drop_table('data_changes')
