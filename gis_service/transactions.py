"""Write transactions that lose a race cleanly: tried again, then refused as a conflict.

PostgreSQL ends one of two transactions that wait for each other (a deadlock, SQLSTATE
40P01) or that cannot both hold under their isolation level (a serialization failure,
40001). Neither is a bug of the data or of the request: the transaction that was ended can
simply run again, and the second time the other one has committed. :func:`write_transaction`
does that a few times and then raises :class:`~gis_service.errors.ConflictError`, which
the web app answers with 409, so a lost race is never a 500.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from gis_service.errors import ConflictError

T = TypeVar("T")

#: SQLSTATEs of a transaction PostgreSQL ended so that another could go on.
LOST_RACE_SQLSTATES = frozenset({"40P01", "40001"})
#: Tries of one transaction before the race is reported as a conflict.
DEFAULT_ATTEMPTS = 3


def is_lost_race(error: BaseException) -> bool:
    """Tell whether ``error`` is a deadlock or serialization failure (the transaction may rerun)."""
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    return getattr(orig, "sqlstate", None) in LOST_RACE_SQLSTATES


def write_transaction(engine: Engine, work: Callable[[Connection], T], *, what: str,
                      attempts: int = DEFAULT_ATTEMPTS) -> T:
    """Run ``work(conn)`` in one transaction, again when PostgreSQL ends it in a conflict.

    PostgreSQL ends a transaction to break a deadlock or a serialization failure.

    ``work`` must be safe to run again: everything it does is rolled back with the
    transaction, so it should read what it checks inside it. Any other error is raised
    unchanged.

    Parameters
    ----------
    what
        The action, in English, for the message of the conflict (e.g. ``"run of round R"``).
    attempts
        Tries before giving up.

    Raises
    ------
    ConflictError
        When every try lost its race.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except sa_exc.DBAPIError as error:
            if not is_lost_race(error):
                raise
            if attempt == attempts:
                raise ConflictError(
                    f"the {what} met other changes of the same data {attempts} times and was"
                    " not stored; try again",
                    f"thao tác ({what}) gặp các thay đổi khác trên cùng dữ liệu {attempts} lần"
                    " và chưa được lưu; hãy thử lại") from error
            # a short random pause, so the two do not meet again in step
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")
