"""Versions of the stored map data, so that caches know when to forget.

Migration 0006 gives every map table (schools, wards, roads, catchments, ...) a row in
``data_changes`` that a statement-level trigger bumps after each write, in the writing
transaction: whoever writes, an import, the demo data or ``psql``, the version moves when
the change commits, and not before. Caches (rendered tiles, the finder's road graphs)
keep the versions they were built from and compare.
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

#: The tables with a version (migration 0006 adds their triggers; a migration that watches
#: another table adds it here too).
WATCHED_TABLES = ("admin_units", "basemaps", "capacity_gaps", "catchments", "cutoffs",
                  "population", "road_edges", "road_nodes", "schools")


def read_versions(conn: Connection) -> dict[str, int]:
    """Every watched table's version, by table name."""
    rows = conn.execute(sa.text("SELECT table_name, version FROM data_changes"))
    return {str(name): int(version) for name, version in rows}


def last_changed(conn: Connection) -> datetime | None:
    """When the map data last changed (the newest commit to a watched table)."""
    newest: datetime | None = conn.execute(
        sa.text("SELECT max(changed_at) FROM data_changes")).scalar_one()
    return newest


class DataVersions:
    """The versions of one database, read again at most every ``max_age_s`` seconds.

    :meth:`stamp` is cheap enough for every request: a dictionary lookup, and once per
    ``max_age_s`` one query of a few rows (about 0.3 ms; callers on an event loop accept that
    pause). A change is therefore seen within ``max_age_s``. When the database cannot be
    reached, the last versions read are kept (and the error logged) until it can.
    """

    def __init__(self, max_age_s: float = 2.0) -> None:
        self.max_age_s = max_age_s
        self._versions: Mapping[str, int] = {}
        self._read_at = -float("inf")
        self._lock = threading.Lock()

    def current(self, engine: Engine) -> Mapping[str, int]:
        """The versions by table, refreshed when older than ``max_age_s``."""
        if time.monotonic() - self._read_at >= self.max_age_s and self._lock.acquire(blocking=False):
            try:
                with engine.connect() as conn:
                    self._versions = read_versions(conn)
            except sa.exc.SQLAlchemyError:
                LOG.exception("could not read the data versions; keeping the last ones")
            finally:
                self._read_at = time.monotonic()
                self._lock.release()
        return self._versions

    def stamp(self, engine: Engine, tables: Iterable[str]) -> tuple[int, ...]:
        """The versions of ``tables``, in their order (0 for a table never seen)."""
        versions = self.current(engine)
        return tuple(versions.get(table, 0) for table in tables)

    def expire(self) -> None:
        """Read the versions again on the next call (after a write by this process)."""
        self._read_at = -float("inf")
