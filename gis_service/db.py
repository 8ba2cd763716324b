"""Database access: the URL (server or embedded cluster), engines, sessions, migrations."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine, make_url

from gis_service.crs import vn2000_spatial_ref_rows
from gis_service.embedded import Cluster
from gis_service.errors import DatabaseError
from gis_service.settings import Settings, get_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver whatever scheme the URL was given with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def server_url(settings: Settings | None = None) -> str:
    """Return the URL of the configured database, bringing up the embedded cluster if it is that."""
    settings = settings or get_settings()
    if settings.database_url:
        return normalise_url(settings.database_url)
    cluster = Cluster.of(settings)
    cluster.up()
    return cluster.url(settings.db_name)


def create_database(url: str) -> bool:
    """Create the database of ``url`` if it does not exist; return True if created."""
    target = make_url(url)
    maintenance = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            )
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
            return not exists
    finally:
        maintenance.dispose()


def drop_database(url: str) -> None:
    """Drop the database of ``url`` (used by tests for throw-away databases)."""
    target = make_url(url)
    maintenance = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        maintenance.dispose()


#: Seconds to wait for a connection: a database host that drops packets would otherwise hold
#: every request (and the worker thread serving it) for the system's TCP timeout, minutes.
CONNECT_TIMEOUT_S = 10


def create_engine(url: str | sa.URL, **kwargs: object) -> Engine:
    """Create an engine that checks pooled connections and times out connecting.

    A pooled connection is checked before use; connecting gives up after
    :data:`CONNECT_TIMEOUT_S` (unless the URL sets ``connect_timeout`` itself).
    """
    connect_args: dict[str, object] = {}
    if "connect_timeout" not in make_url(url).query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def alembic_config(url: str) -> Config:
    """Return the Alembic configuration of edugis's migrations for the database at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema of ``url`` to the newest migration (PostGIS included)."""
    command.upgrade(alembic_config(url), "head")


def register_crs(engine: Engine) -> int:
    """Upsert the custom VN-2000 SRIDs (pinned to EPSG:6960) into ``spatial_ref_sys``.

    Return how many rows were missing or different (0 when all are there already).
    """
    rows = vn2000_spatial_ref_rows()
    with engine.begin() as conn:
        present: dict[object, object] = dict(conn.execute(sa.text(
            "SELECT srid, proj4text FROM spatial_ref_sys WHERE srid = ANY(:srids)"
            " AND auth_name IS NULL AND auth_srid IS NULL AND srtext = ''"),
            {"srids": [row["srid"] for row in rows]}).all())
        # write only what differs: a database made read-only (maintenance, a standby) that
        # already holds the rows still opens, to serve reads
        rows = [row for row in rows if present.get(row["srid"]) != row["proj4text"]]
        if not rows:
            return 0
        conn.execute(
            sa.text(
                "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
                "VALUES (:srid, NULL, NULL, '', :proj4text) "
                "ON CONFLICT (srid) DO UPDATE SET proj4text = EXCLUDED.proj4text, "
                "auth_name = NULL, auth_srid = NULL, srtext = ''"
            ),
            rows,
        )
    return len(rows)


def prepare(url: str) -> None:
    """Create the database if needed, migrate it and register the VN-2000 SRIDs."""
    try:
        create_database(url)
    except sa.exc.OperationalError as exc:
        raise DatabaseError(f"cannot reach the database server: {exc.orig}") from exc
    migrate(url)
    engine = create_engine(url)
    try:
        register_crs(engine)
    finally:
        engine.dispose()


_ENGINES: dict[str, Engine] = {}
#: Held while :func:`get_engine` brings a database up and migrates it: Alembic's migration
#: context is process-global, so two threads (two first web requests) must not migrate at
#: once, and the second must find the engine the first made.
_MIGRATION_LOCK = threading.Lock()


def reset_engines() -> None:
    """Dispose every cached engine (after the settings changed, and in tests)."""
    with _MIGRATION_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def get_engine(settings: Settings | None = None) -> Engine:
    """Return the engine of the configured database, created, migrated and ready.

    Done once per process and database; safe to call from several threads at once.
    """
    with _MIGRATION_LOCK:
        url = server_url(settings)
        if url not in _ENGINES:
            prepare(url)
            _ENGINES[url] = create_engine(url)
        return _ENGINES[url]


class Database:
    """The database of a long-running process (the web app), reached on first use.

    Making one connects to nothing, so a process starts whether or not the database is
    up. :meth:`engine` brings it up (the embedded cluster), migrates it and returns its
    engine (:func:`get_engine`); when that fails the error is raised (the web maps it to a
    503) and the next call tries again.

    Parameters
    ----------
    settings
        Where the database is (``database_url``, or the embedded cluster).
    engine
        An engine to use as it is, already migrated (tests, an embedding process); it is
        not disposed by :meth:`dispose`.
    """

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self._owned = engine is None

    def engine(self) -> Engine:
        """Return the engine, the database brought up and migrated on the first call."""
        engine = self._engine
        if engine is None:
            engine = self._engine = get_engine(self.settings)
        return engine

    @property
    def current(self) -> Engine | None:
        """The engine if :meth:`engine` made it already, else ``None`` (never connects)."""
        return self._engine

    def dispose(self) -> None:
        """Close the pooled connections of the engine this object made (it stays usable)."""
        if self._owned and self._engine is not None:
            self._engine.dispose()

