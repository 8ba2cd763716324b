"""Alembic environment: runs migrations on the URL set by ``gis_service.db.alembic_config``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from gis_service.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Compare only our tables: PostGIS and its tiger/topology tables are not ours."""
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations_online() -> None:
    """Migrate the database of the configured URL in one transaction."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
