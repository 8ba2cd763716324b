"""Waiting on what other PostgreSQL sessions of a test's database are doing (``pg_stat_activity``).

Tests of concurrent transactions read which session waits or holds a transaction open from
the server itself, never from timings.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

#: A session of this database waits for a lock (another thread is blocked).
WAITS_FOR_LOCK = "wait_event_type = 'Lock'"
#: A session of this database holds a transaction open, between statements.
IDLE_IN_TRANSACTION = "state = 'idle in transaction'"


def wait_for_session(engine: Engine, condition: str, what: str, timeout_s: float = 60.0) -> None:
    """Return once a session of ``engine``'s database meets ``condition`` (SQL on pg_stat_activity)."""
    deadline = time.monotonic() + timeout_s
    with engine.connect() as conn:
        while not conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                f" AND {condition}")).scalar_one():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.02)
            conn.rollback()  # a fresh snapshot of pg_stat_activity each time
