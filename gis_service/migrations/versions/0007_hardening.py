"""hardening: revocable sessions, login throttling, round input versions, the basemap in use

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('users', sa.Column('disabled', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.create_table('login_failures',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.add_column('admission_rounds', sa.Column('inputs_version', sa.BigInteger(), server_default='0', nullable=False))
    op.create_table('app_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.String(length=64), server_default='system', nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    # an existing install keeps routing on what it used: the most recently imported basemap
    op.execute("INSERT INTO app_settings (key, value) SELECT 'basemap', name FROM basemaps"
               " ORDER BY imported_at DESC, name LIMIT 1")
    # the basemap in use is part of what the map shows: caches follow its version too
    op.execute("INSERT INTO data_changes (table_name, version) VALUES ('app_settings', 1)")
    op.execute("CREATE TRIGGER app_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
               " ON app_settings FOR EACH STATEMENT EXECUTE FUNCTION edugis_data_changed()")


def downgrade() -> None:
    op.execute("DROP TRIGGER app_settings_changed ON app_settings")
    op.execute("DELETE FROM data_changes WHERE table_name = 'app_settings'")
    op.drop_table('app_settings')
    op.drop_column('admission_rounds', 'inputs_version')
    op.drop_table('login_failures')
    op.drop_column('users', 'disabled')
    op.drop_column('users', 'session_version')
