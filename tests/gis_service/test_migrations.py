"""Migrations build the whole schema from an empty database, and running them again is a no-op."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from gis_service import db
from gis_service.models import Base


def test_migrations_from_empty_create_every_table() -> None:
    url = make_url(db.server_url()).set(database=f"edugis_m_{uuid.uuid4().hex[:8]}")
    rendered = url.render_as_string(hide_password=False)
    try:
        assert db.create_database(rendered) is True
        db.prepare(rendered)
        db.prepare(rendered)  # idempotent
        engine = db.create_engine(rendered)
        with engine.connect() as conn:
            tables = set(conn.execute(sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
            postgis = conn.execute(sa.text("SELECT postgis_lib_version()")).scalar_one()
        engine.dispose()
        assert set(Base.metadata.tables) <= tables
        assert version == "0012"
        assert postgis.startswith("3.")
    finally:
        db.drop_database(rendered)


def test_migrations_match_the_models(engine: sa.engine.Engine) -> None:
    """Autogenerate finds nothing to add: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        differences = [d for d in compare_metadata(context, Base.metadata)
                       if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")]
    assert differences == []
