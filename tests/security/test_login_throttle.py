"""Issue 12.4: sign-in is throttled per account and per client address, with a lock that
doubles at each further failure, shared by every worker through the database. Timings are
shortened by settings (3 failures per account, 5 per address, 1 s doubling up to 2 s)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from gis_service.login_throttle import KeyState, ThrottlePolicy, after_attempt, claim_attempt, record_success
from gis_service.settings import Settings
from tests.security.signin import PASSWORD, login, staff_app
from tests.web.conftest import settle
from web import sessions
from web.app import create_app

FAST = {"login_failures_per_account": "3", "login_failures_per_address": "5",
        "login_backoff_s": "1", "login_backoff_max_s": "2"}
WRONG = "not the password at all"


@pytest.fixture
def client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with staff_app(engine, monkeypatch, **FAST) as test_client:
        yield test_client


def _failures(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT key, failures FROM login_failures")).all())


def test_after_3_wrong_passwords_the_account_answers_429_even_to_the_right_one(
        client: TestClient) -> None:
    assert [login(client, "officer1", WRONG).status_code for _ in range(3)] == [401, 401, 401]
    refused = login(client, "officer1", PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert "thử lại sau 1 giây" in refused.text  # Vietnamese first
    assert sessions.SESSION_COOKIE not in client.cookies
    time.sleep(1.1)
    assert login(client, "officer1", PASSWORD).status_code == 303


def test_each_further_failure_doubles_the_lock_up_to_the_cap(client: TestClient) -> None:
    for _ in range(3):
        login(client, "officer1", WRONG)
    assert login(client, "officer1", WRONG).headers["retry-after"] == "1"
    time.sleep(1.1)
    assert login(client, "officer1", WRONG).status_code == 401  # 4th failure: locked 2 s
    assert login(client, "officer1", PASSWORD).headers["retry-after"] == "2"
    time.sleep(2.1)
    assert login(client, "officer1", WRONG).status_code == 401  # 5th: 4 s, capped at 2 s
    assert login(client, "officer1", PASSWORD).headers["retry-after"] == "2"


def test_a_success_resets_the_account_count(client: TestClient, engine: Engine) -> None:
    assert [login(client, "officer1", WRONG).status_code for _ in range(2)] == [401, 401]
    assert login(client, "officer1").status_code == 303
    assert "user:officer1" not in _failures(engine)
    client.cookies.clear()
    # without the reset the count would be at 3 now and the next attempt refused
    assert [login(client, "officer1", WRONG).status_code for _ in range(2)] == [401, 401]
    assert login(client, "officer1").status_code == 303
    # and the account still locks after 3 failures (from another address: this one is at 4 of 5)
    elsewhere = TestClient(client.app, client=("192.0.2.8", 50000))
    assert [login(elsewhere, "officer1", WRONG).status_code for _ in range(4)] == [401] * 3 + [429]


def test_guesses_at_many_accounts_from_one_address_lock_the_address(client: TestClient) -> None:
    statuses = [login(client, name, WRONG).status_code
                for name in ("officer1", "officer1", "planner1", "planner1", "nobody")]
    assert statuses == [401] * 5  # no account reached its own limit of 3
    refused = login(client, "admin1", PASSWORD)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    elsewhere = TestClient(client.app, client=("192.0.2.7", 50000))
    assert login(elsewhere, "admin1", PASSWORD).status_code == 303  # another address is not locked


def test_a_success_gives_back_its_own_attempt_only_at_the_address(client: TestClient,
                                                                  engine: Engine) -> None:
    for name in ("officer1", "planner1", "nobody"):
        login(client, name, WRONG)
    assert login(client, "admin1").status_code == 303
    assert _failures(engine)["addr:testclient"] == 3  # the guesses stay counted


def test_the_throttle_is_shared_by_workers(client: TestClient) -> None:
    for _ in range(3):
        login(client, "officer1", WRONG)
    with TestClient(create_app()) as other_worker:  # another app, same database
        assert login(other_worker, "officer1", PASSWORD).status_code == 429
        settle(other_worker.app)


def test_parallel_guesses_cannot_slip_past_the_limit(engine: Engine) -> None:
    settings = Settings(login_failures_per_account=3, login_failures_per_address=1000,
                        login_backoff_s=60)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: claim_attempt(engine, "target", f"10.0.0.{i}", settings),
                                range(24)))
    assert answers.count(None) == 3  # three attempts reach the password check, 21 are refused
    assert all(wait_s is None or 55 <= wait_s <= 60 for wait_s in answers)


def test_refused_attempts_are_not_counted(engine: Engine) -> None:
    settings = Settings(login_failures_per_account=100, login_failures_per_address=2,
                        login_backoff_s=60)
    for _ in range(2):
        assert claim_attempt(engine, "someone", "10.1.1.1", settings) is None
    assert claim_attempt(engine, "someone", "10.1.1.1", settings) is not None
    assert _failures(engine) == {"addr:10.1.1.1": 2, "user:someone": 2}


def test_success_drops_rows_nobody_tried_for_an_hour(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO login_failures (key, failures, updated_at) VALUES"
                             " ('user:old', 2, now() - interval '2 hours'),"
                             " ('user:recent', 2, now() - interval '10 minutes')"))
    settings = Settings()
    assert claim_attempt(engine, "ana", "10.2.2.2", settings) is None
    record_success(engine, "ana", "10.2.2.2", settings)
    assert _failures(engine) == {"user:recent": 2, "addr:10.2.2.2": 0}


# ---- the policy kernel ---------------------------------------------------------------------

POLICY = ThrottlePolicy(max_failures=5, backoff_s=30, backoff_max_s=900, forget_s=3600)
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def test_the_lock_starts_at_the_limit_and_doubles_up_to_the_cap() -> None:
    assert [POLICY.lock_s(n) for n in (5, 6, 7, 8, 9, 10, 500)] == [30, 60, 120, 240, 480, 900, 900]
    state = KeyState(4, None, NOW - timedelta(seconds=10))
    locked = after_attempt(state, NOW, POLICY)
    assert locked == KeyState(5, NOW + timedelta(seconds=30), NOW)
    assert locked.locked(NOW + timedelta(seconds=29)) and not locked.locked(NOW + timedelta(seconds=30))


def test_counts_are_forgotten_after_an_hour_without_attempts() -> None:
    quiet = KeyState(4, None, NOW - timedelta(hours=1, seconds=1))
    assert after_attempt(quiet, NOW, POLICY) == KeyState(1, None, NOW)


def test_sign_ins_and_successes_of_one_account_in_parallel_never_deadlock(engine: Engine) -> None:
    settings = Settings(login_failures_per_account=1000, login_failures_per_address=1000)

    def sign_in(_: int) -> None:
        for _ in range(15):
            if claim_attempt(engine, "busy", "10.3.3.3", settings) is None:
                record_success(engine, "busy", "10.3.3.3", settings)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(sign_in, range(6)))  # a deadlock would raise here
    assert "user:busy" not in _failures(engine)
