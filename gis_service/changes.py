"""Versions of the stored map data, so that caches know when to forget.

Migration 0006 gives every map table (schools, wards, roads, catchments, ...) a row in
``data_changes`` that a statement-level trigger bumps after each write, in the writing
transaction: whoever writes, an import, the demo data or ``psql``, the version moves when
the change commits, and not before. Caches (rendered tiles, the finder's road graphs)
keep the versions they were built from and compare.

The bump locks the table's row of ``data_changes`` until the writing transaction ends, so
two transactions writing the same map table take turns (imports of one table do anyway);
readers never wait. ``changed_at`` is the time of the writer's last statement.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

LOG = logging.getLogger(__name__)

#: The tables with a version (migrations 0006 and 0007 add their triggers; a migration that watches
#: another table adds it here too).
WATCHED_TABLES = ("admin_units", "app_settings", "basemaps", "capacity_gaps", "catchments",
                  "cutoffs", "population", "road_edges", "road_nodes", "schools")


def read_versions(conn: Connection) -> dict[str, int]:
    """Read every watched table's version, by table name."""
    rows = conn.execute(sa.text("SELECT table_name, version FROM data_changes"))
    return {str(name): int(version) for name, version in rows}


def database_identity(conn: Connection) -> str:
    """Return what tells this database from any other: its cluster's system id and its oid.

    A standby of the same cluster has the same identity (physical replication), so app nodes
    reading a primary or its standbys share what they cache on disk; a database made again
    under the same name gets a new oid, so nothing it caches is taken for the old one's.
    """
    row = conn.execute(sa.text(
        "SELECT (SELECT system_identifier FROM pg_control_system()),"
        " (SELECT oid FROM pg_database WHERE datname = current_database())")).one()
    return f"{row[0]}-{row[1]}"


def last_changed(conn: Connection) -> datetime | None:
    """Return when the map data last changed (the last write to a watched table)."""
    newest: datetime | None = conn.execute(
        sa.text("SELECT max(changed_at) FROM data_changes")).scalar_one()
    return newest


class DataVersions:
    """Keep the versions of one database's map tables, read again when stale.

    The versions are those last read, read again in the background when older than
    ``max_age_s`` seconds.

    :meth:`stamp` does not wait for the database, so it is safe on an event loop: it
    returns the versions last read and, when they are old, starts one background read
    (a query of a few rows); a change is therefore seen about ``max_age_s`` after its commit.
    Only the very first call, and a call with ``fresh=True``, read in the calling thread.
    When the database cannot be reached, the last versions read are kept (and the error
    logged) until it can.
    """

    def __init__(self, max_age_s: float = 2.0) -> None:
        self.max_age_s = max_age_s
        self._versions: Mapping[str, int] = {}
        #: The database's :func:`database_identity`, read with the first versions.
        self.identity: str | None = None
        self._identity_failed = False
        self._read_at = -float("inf")
        self._lock = threading.Lock()  # guards _refreshing and _thread
        self._refreshing = False
        self._thread: threading.Thread | None = None

    def current(self, engine: Engine, *, fresh: bool = False) -> Mapping[str, int]:
        """Return the versions by table; ``fresh`` reads them now, in this thread."""
        if fresh or self._read_at == -float("inf"):
            self._read(engine)
        elif time.monotonic() - self._read_at >= self.max_age_s:
            with self._lock:
                if not self._refreshing:
                    self._refreshing = True
                    self._thread = threading.Thread(target=self._read_in_background,
                                                    args=(engine,), name="data-versions",
                                                    daemon=True)
                    self._thread.start()
        return self._versions

    def join(self, timeout_s: float = 10.0) -> None:
        """Wait for a background read under way (before the engine is disposed)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)

    def stamp(self, engine: Engine, tables: Iterable[str], *, fresh: bool = False
              ) -> tuple[int, ...]:
        """Return the versions of ``tables``, in their order (0 for a table never seen)."""
        versions = self.current(engine, fresh=fresh)
        return tuple(versions.get(table, 0) for table in tables)

    def _read(self, engine: Engine) -> None:
        try:
            with engine.connect() as conn:
                self._versions = read_versions(conn)
        except sa.exc.SQLAlchemyError:
            LOG.exception("could not read the data versions; keeping the last ones")
        finally:
            self._read_at = time.monotonic()
        if self.identity is None:
            self._read_identity(engine)

    def _read_identity(self, engine: Engine) -> None:
        """Read the database's identity; until it is read, nothing is shared on disk.

        Apart from the versions, so that a failure here never stops them from being read.
        """
        try:
            with engine.connect() as conn:
                self.identity = database_identity(conn)
        except sa.exc.SQLAlchemyError:
            level = logging.DEBUG if self._identity_failed else logging.WARNING
            LOG.log(level, "could not read the database identity; tiles are not shared on disk",
                    exc_info=True)
            self._identity_failed = True

    def _read_in_background(self, engine: Engine) -> None:
        try:
            self._read(engine)
        finally:
            with self._lock:
                self._refreshing = False
