"""Database health, as a load balancer asks it: can it be written, is its schema current.

Both checks raise the database's own error (SQLAlchemy's ``OperationalError`` when it cannot
be reached, ``InternalError`` with SQLSTATE 25006 when it is read-only) rather than guessing
from settings: the web layer maps those to 503 in one place (``web.deps``).
"""

from __future__ import annotations

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


@lru_cache(maxsize=1)
def code_revisions() -> frozenset[str]:
    """The head revisions of the migrations shipped with this code."""
    # the URL is not read: only the scripts' folder is
    return frozenset(ScriptDirectory.from_config(alembic_config("postgresql://")).get_heads())


def schema_revisions(engine: Engine) -> frozenset[str]:
    """The revisions the database's schema is at (empty when it was never migrated)."""
    with engine.connect() as conn:
        exists = conn.scalar(sa.text("SELECT to_regclass('alembic_version') IS NOT NULL"))
        if not exists:
            return frozenset()
        return frozenset(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
