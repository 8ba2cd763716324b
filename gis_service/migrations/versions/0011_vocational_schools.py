"""vocational schools: GDNN-GDTX centres are a school level (issue 15, streaming after grade 9)

After grade 9 a leaver goes to a public upper-secondary school, a private one (ownership
``private``), or a vocational / continuing-education centre (GDNN-GDTX), whose grade-10
places are in ``capacity_grade10``. The level joins the check of ``schools.level``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 07:45:00
"""

from __future__ import annotations

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OLD = "level IN ('preschool', 'primary', 'lower_secondary', 'upper_secondary')"
NEW = "level IN ('preschool', 'primary', 'lower_secondary', 'upper_secondary', 'vocational')"


def upgrade() -> None:
    op.drop_constraint('school_level_known', 'schools', type_='check')
    op.create_check_constraint('school_level_known', 'schools', NEW)


def downgrade() -> None:
    op.execute("DELETE FROM schools WHERE level = 'vocational'")
    op.execute("UPDATE schools SET levels = array_remove(levels, 'vocational')")
    op.drop_constraint('school_level_known', 'schools', type_='check')
    op.create_check_constraint('school_level_known', 'schools', OLD)
