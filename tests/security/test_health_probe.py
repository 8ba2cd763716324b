"""A flood of public /healthz probes costs one database write a second, not one each."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.health import SharedCheck, check_writable


def test_concurrent_probes_share_one_write(engine: Engine) -> None:
    calls: list[float] = []
    entered = threading.Event()

    def slow_write(target: Engine) -> None:
        calls.append(time.monotonic())
        entered.set()
        time.sleep(0.2)  # a write waiting for its row lock
        check_writable(target)

    shared = SharedCheck(slow_write, max_age_s=60)
    with ThreadPoolExecutor(16) as pool:
        for future in [pool.submit(shared, engine) for _ in range(200)]:
            future.result()
    assert len(calls) == 1


def test_a_failure_is_shared_then_checked_again(engine: Engine) -> None:
    outcomes = iter([RuntimeError("read-only"), None])

    def flaky(target: Engine) -> None:
        error = next(outcomes)
        if error is not None:
            raise error

    shared = SharedCheck(flaky, max_age_s=0.3)
    for _ in range(3):
        with pytest.raises(RuntimeError, match="read-only"):
            shared(engine)
    time.sleep(0.35)
    shared(engine)  # checked again once the outcome is old


def test_each_engine_has_its_own_outcome(engine: Engine) -> None:
    seen: list[str] = []
    shared = SharedCheck(lambda target: seen.append(str(target.url.database)), max_age_s=60)
    other = sa.create_engine(engine.url.set(database="postgres"))
    shared(engine)
    shared(other)
    shared(engine)
    other.dispose()
    assert seen == [engine.url.database, "postgres"]
