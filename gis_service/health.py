"""Database health, as a load balancer asks it: can it be written, is its schema current.

Both checks raise the database's own error (SQLAlchemy's ``OperationalError`` when it cannot
be reached, ``InternalError`` with SQLSTATE 25006 when it is read-only) rather than guessing
from settings: the web layer maps those to 503 in one place (``web.errors``).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from functools import lru_cache

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from gis_service.db import alembic_config

#: A health check that waits for a lock or a slow server longer than this answers "unhealthy"
#: instead of holding the load balancer's probe (and a worker thread).
CHECK_TIMEOUT_MS = 2000


def check_writable(engine: Engine) -> None:
    """Write one row of a one-row table and roll the write back; raise when it fails.

    A real write, not ``transaction_read_only`` or ``pg_is_in_recovery()``: it also fails
    on a database whose sessions default to read-only, on a standby, and when the table is
    locked (a migration running), which the flags do not all show. ``alembic_version`` is
    the table: it always holds one row and no trigger bumps a data version on it.
    """
    with engine.connect() as conn, conn.begin() as transaction:
        conn.execute(sa.text(f"SET LOCAL lock_timeout = {CHECK_TIMEOUT_MS}"))
        conn.execute(sa.text(f"SET LOCAL statement_timeout = {CHECK_TIMEOUT_MS}"))
        conn.execute(sa.text("UPDATE alembic_version SET version_num = version_num"))
        transaction.rollback()


class SharedCheck:
    """Run ``check(engine)`` at most once per ``max_age_s`` per engine.

    Callers meanwhile get its last outcome (returned, or the same error raised again).

    ``/healthz`` is public: without this, a flood of probes would queue a write each on the
    one ``alembic_version`` row, run into the lock timeout and report a healthy instance as
    down to the load balancer.
    """

    def __init__(self, check: Callable[[Engine], None], max_age_s: float = 1.0) -> None:
        self.check = check
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._last: weakref.WeakKeyDictionary[Engine, tuple[float, BaseException | None]] = \
            weakref.WeakKeyDictionary()

    def __call__(self, engine: Engine) -> None:
        """Check ``engine`` unless its last check is recent, then raise that check's error if any."""
        with self._lock:  # concurrent probes wait for the one check under way, then share it
            at, error = self._last.get(engine, (float("-inf"), None))
            if time.monotonic() - at >= self.max_age_s:
                try:
                    self.check(engine)
                    error = None
                except Exception as exc:
                    error = exc
                self._last[engine] = (time.monotonic(), error)
        if error is not None:
            raise error.with_traceback(None)


@lru_cache(maxsize=1)
def code_revisions() -> frozenset[str]:
    """Return the head revisions of the migrations shipped with this code."""
    # the URL is not read: only the scripts' folder is
    return frozenset(ScriptDirectory.from_config(alembic_config("postgresql://")).get_heads())


def schema_revisions(engine: Engine) -> frozenset[str]:
    """Return the revisions the database's schema is at (empty when it was never migrated)."""
    with engine.connect() as conn:
        exists = conn.scalar(sa.text("SELECT to_regclass('alembic_version') IS NOT NULL"))
        if not exists:
            return frozenset()
        return frozenset(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
