"""Issue 12.4 and its review: sign-in is throttled strictly per (account, address) pair, per
address by the number of distinct accounts tried, and only gently per account, so guessing is
slow but nobody can lock a colleague out; shared by every worker through the database.
Timings are shortened by settings (3 failures per pair, 5 usernames per address, 6 failures
per account, 1 s doubling up to 2 s, account slowdown 1 s)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from gis_service.login_throttle import (
    KeyState,
    ThrottlePolicy,
    after_attempt,
    claim_attempt,
    record_success,
    unlock,
)
from gis_service.settings import Settings
from tests.support.signin import PASSWORD, login, staff_app
from tests.support.web import settle
from web import sessions
from web.app import create_app
from web.cli import app as cli

FAST = {"login_failures_per_pair": "3", "login_usernames_per_address": "5",
        "login_failures_per_account": "6", "login_account_backoff_s": "1",
        "login_backoff_s": "1", "login_backoff_max_s": "2"}
WRONG = "not the password at all"
#: Large limits: a test of one rule sets its own and leaves the others out of the way.
NO_LIMIT = {"login_failures_per_pair": 1000, "login_usernames_per_address": 1000,
            "login_failures_per_account": 1000}


@pytest.fixture
def client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with staff_app(engine, monkeypatch, **FAST) as test_client:
        yield test_client


def _from(client: TestClient, address: str) -> TestClient:
    """A client of the same app at another address."""
    return TestClient(client.app, client=(address, 50000))


def _failures(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT key, failures FROM login_failures")).all())


# ---- per (account, address) pair -------------------------------------------------------------


def test_after_3_wrong_passwords_the_pair_answers_429_even_to_the_right_one(
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


def test_guesses_from_one_address_do_not_lock_the_user_out_at_another(client: TestClient) -> None:
    attacker = _from(client, "198.51.100.66")
    statuses = [login(attacker, "officer1", WRONG).status_code for _ in range(5)]
    assert statuses == [401] * 3 + [429] * 2
    assert login(client, "officer1", PASSWORD).status_code == 303  # the officer at the office


def test_a_success_resets_the_pair_count(client: TestClient, engine: Engine) -> None:
    assert [login(client, "officer1", WRONG).status_code for _ in range(2)] == [401, 401]
    assert login(client, "officer1").status_code == 303
    assert "pair:testclient|officer1" not in _failures(engine)
    assert "user:officer1" not in _failures(engine)
    client.cookies.clear()
    # without the reset the count would be at 3 now and the next attempt refused
    assert [login(client, "officer1", WRONG).status_code for _ in range(2)] == [401, 401]
    assert login(client, "officer1").status_code == 303


# ---- per address: distinct usernames -----------------------------------------------------------


def test_guesses_at_many_accounts_from_one_address_lock_the_address(client: TestClient) -> None:
    statuses = [login(client, name, WRONG).status_code
                for name in ("officer1", "planner1", "nobody", "ghost", "admin")]
    assert statuses == [401] * 5  # the 5th username locks the address after its attempt
    refused = login(client, "admin1", PASSWORD)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert login(_from(client, "192.0.2.7"), "admin1", PASSWORD).status_code == 303


def test_colleagues_mistyping_behind_one_address_do_not_lock_it(client: TestClient) -> None:
    """Three officers behind one office address mistype twice each: 6 failures, more than the
    5 usernames an address may try, but only 3 usernames."""
    for name in ("officer1", "planner1", "admin1"):
        assert [login(client, name, WRONG).status_code for _ in range(2)] == [401, 401]
    for name in ("officer1", "planner1", "admin1"):
        client.cookies.clear()
        assert login(client, name, PASSWORD).status_code == 303, name


def test_a_success_takes_its_username_off_the_address_count(client: TestClient,
                                                             engine: Engine) -> None:
    for name in ("officer1", "planner1", "nobody"):
        login(client, name, WRONG)
    assert login(client, "admin1").status_code == 303
    pairs = {key for key in _failures(engine) if key.startswith("pair:")}
    assert pairs == {"pair:testclient|officer1", "pair:testclient|planner1", "pair:testclient|nobody"}


def test_addresses_of_one_ipv6_64_count_as_one(client: TestClient) -> None:
    names = ("officer1", "planner1", "nobody", "ghost", "admin")
    statuses = [login(_from(client, f"2001:db8:7:7::{i + 1}"), name, WRONG).status_code
                for i, name in enumerate(names)]
    assert statuses == [401] * 5
    assert login(_from(client, "2001:db8:7:7:ffff::1"), "admin1").status_code == 429
    assert login(_from(client, "2001:db8:7:8::1"), "admin1").status_code == 303  # another /64


# ---- per account, from all addresses: a gentle slowdown ----------------------------------------


def test_a_guesser_spread_over_many_addresses_is_slowed_down(client: TestClient) -> None:
    statuses = [login(_from(client, f"203.0.113.{i}"), "officer1", WRONG).status_code
                for i in range(6)]
    assert statuses == [401] * 6  # one failure per address: no pair or address lock
    refused = login(client, "officer1", PASSWORD)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    time.sleep(1.1)  # short and not doubled
    assert login(client, "officer1", PASSWORD).status_code == 303


# ---- unlock ------------------------------------------------------------------------------------


def test_edugis_users_unlock_clears_the_account_at_once(client: TestClient, engine: Engine) -> None:
    for _ in range(3):
        login(client, "officer1", WRONG)
    login(_from(client, "192.0.2.9"), "officer1", WRONG)
    login(client, "planner1", WRONG)
    assert login(client, "officer1").status_code == 429
    result = CliRunner().invoke(cli, ["users", "unlock", "officer1"])
    assert result.exit_code == 0, result.output
    assert "3 rows" in result.output  # two pairs and the account
    assert set(_failures(engine)) == {"addr:testclient", "addr:192.0.2.9",
                                      "pair:testclient|planner1", "user:planner1"}
    assert login(client, "officer1").status_code == 303
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT actor, target, details FROM audit_log"
                                   " WHERE action = 'user.unlock'")).one()
    assert tuple(row) == ("cli", "officer1", {"rows": 3})


def test_unlock_matches_the_username_exactly(engine: Engine) -> None:
    settings = Settings(**NO_LIMIT)  # type: ignore[arg-type]
    for name in ("ana", "x|ana", "ana_", "%"):
        assert claim_attempt(engine, name, "10.4.4.4", settings) is None
    assert unlock(engine, "ana") == 2
    assert unlock(engine, "%") == 2
    assert {key for key in _failures(engine) if not key.startswith("addr:")} == {
        "pair:10.4.4.4|x|ana", "user:x|ana", "pair:10.4.4.4|ana_", "user:ana_"}


# ---- shared state, races ------------------------------------------------------------------------


def test_the_throttle_is_shared_by_workers(client: TestClient) -> None:
    for _ in range(3):
        login(client, "officer1", WRONG)
    with TestClient(create_app()) as other_worker:  # another app, same database
        assert login(other_worker, "officer1", PASSWORD).status_code == 429
        settle(other_worker.app)


def test_parallel_guesses_cannot_slip_past_the_pair_limit(engine: Engine) -> None:
    settings = Settings(**{**NO_LIMIT, "login_failures_per_pair": 3},  # type: ignore[arg-type]
                        login_backoff_s=60)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: claim_attempt(engine, "target", "10.0.0.1", settings),
                                range(24)))
    assert answers.count(None) == 3  # three attempts reach the password check, 21 are refused
    assert all(wait_s is None or 55 <= wait_s <= 60 for wait_s in answers)


def test_parallel_guesses_from_many_addresses_cannot_slip_past_the_account_limit(
        engine: Engine) -> None:
    settings = Settings(**{**NO_LIMIT, "login_failures_per_account": 3},  # type: ignore[arg-type]
                        login_account_backoff_s=60)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: claim_attempt(engine, "target", f"10.0.0.{i}", settings),
                                range(24)))
    assert answers.count(None) == 3
    assert all(wait_s is None or 55 <= wait_s <= 60 for wait_s in answers)


def test_refused_attempts_are_not_counted(engine: Engine) -> None:
    settings = Settings(**{**NO_LIMIT, "login_failures_per_pair": 2},  # type: ignore[arg-type]
                        login_backoff_s=60)
    for _ in range(2):
        assert claim_attempt(engine, "someone", "10.1.1.1", settings) is None
    assert claim_attempt(engine, "someone", "10.1.1.1", settings) is not None
    assert _failures(engine) == {"addr:10.1.1.1": 1, "pair:10.1.1.1|someone": 2,
                                 "user:someone": 2}


def test_success_drops_rows_nobody_tried_for_an_hour(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO login_failures (key, failures, updated_at) VALUES"
                             " ('user:old', 2, now() - interval '2 hours'),"
                             " ('user:recent', 2, now() - interval '10 minutes')"))
    settings = Settings()
    assert claim_attempt(engine, "ana", "10.2.2.2", settings) is None
    record_success(engine, "ana", "10.2.2.2", settings)
    assert _failures(engine) == {"user:recent": 2, "addr:10.2.2.2": 1}


def test_sign_ins_and_successes_of_one_account_in_parallel_never_deadlock(engine: Engine) -> None:
    settings = Settings(**NO_LIMIT)  # type: ignore[arg-type]

    def sign_in(worker: int) -> None:
        for _ in range(15):
            address = f"10.3.3.{worker % 2}"  # two addresses: pairs and the account overlap
            if claim_attempt(engine, "busy", address, settings) is None:
                record_success(engine, "busy", address, settings)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(sign_in, range(6)))  # a deadlock would raise here
    assert "user:busy" not in _failures(engine)


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
