"""Sign-in throttling shared by every worker and node.

The counts live in ``login_failures`` (the web asks :func:`claim_attempt` before checking a
password).

The policy is built so that guessing is slow but nobody can lock a colleague out:

- **per (account, address) pair** (``pair:<address>|<username>``), strict: after
  ``login_failures_per_pair`` (5) failures of one account from one address, that pair is
  locked for ``login_backoff_s`` (30 s), doubled at each further failure up to
  ``login_backoff_max_s`` (15 min). The same account from another address is not affected.
- **per address** (``addr:<address>``), counting *distinct usernames* with failures, not
  failures: when an attempt at a new username makes ``login_usernames_per_address`` (20)
  accounts with failures from one address, the address is locked with the same doubling
  backoff. Officers behind one school or office address who mistype their own passwords do
  not add up; a script trying many accounts from one address is stopped.
- **per account** (``user:<username>``), from all addresses together, a gentle slowdown only:
  after ``login_failures_per_account`` (50) failures the account is locked for
  ``login_account_backoff_s`` (30 s, not doubled) at each further failure. A guesser spread
  over many addresses is held to about two guesses a minute; one address cannot get there at
  all (its pair lock allows ~13 failures an hour), so one attacker cannot lock out the real
  user signing in from elsewhere.

A locked key refuses the attempt (429), even with the right password, until the lock ends; a
refused attempt counts against nothing. Counts are forgotten ``login_forget_s`` (1 h) after a
key's last attempt. ``edugis users unlock NAME`` (:func:`unlock`) clears an account's rows at
once.

An attempt is counted *before* its password is checked, in one transaction that takes the
keys' row locks (address, pair, account: sorted by key), so a burst of parallel guesses cannot
all slip in before the first failure is written. A success removes the pair's and the
account's counts (and so its username from the address's distinct count); the address's other
usernames stay counted.

The address is the caller's key of the client (``web.rate_limit.client_network``: IPv4
address, IPv6 /64); uvicorn replaces the ASGI client with ``X-Forwarded-For`` when the request
comes from a proxy of ``EDUGIS_FORWARDED_ALLOW_IPS``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gis_service.settings import Settings

__all__ = ["KeyState", "Policies", "ThrottlePolicy", "after_attempt", "claim_attempt", "policies",
           "record_success", "unlock"]


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures a key may have and how long it is locked after them."""

    max_failures: int
    backoff_s: float
    backoff_max_s: float
    forget_s: float

    def lock_s(self, failures: int) -> float:
        """Return the seconds a key with ``failures`` (at least ``max_failures``) stays locked."""
        doublings = min(failures - self.max_failures, 40)  # 2**40 s is past any cap
        return float(min(self.backoff_s * 2**doublings, self.backoff_max_s))


@dataclass(frozen=True)
class Policies:
    """The three policies: per (account, address) pair, per address and per account.

    The per-address policy's ``max_failures`` counts distinct usernames; the per-account
    one counts failures from all addresses.
    """

    pair: ThrottlePolicy
    address: ThrottlePolicy
    account: ThrottlePolicy


@dataclass(frozen=True)
class KeyState:
    """One row of ``login_failures``."""

    failures: int
    locked_until: datetime | None
    updated_at: datetime

    def locked(self, now: datetime) -> bool:
        """Tell whether the key refuses attempts (its lock has not ended)."""
        return self.locked_until is not None and self.locked_until > now

    def recent(self, now: datetime, policy: ThrottlePolicy) -> bool:
        """Tell whether the key's failures still count (tried within ``forget_s``)."""
        return self.failures > 0 and now - self.updated_at < timedelta(seconds=policy.forget_s)


def after_attempt(state: KeyState, now: datetime, policy: ThrottlePolicy) -> KeyState:
    """Return the state of an unlocked key once one more attempt is counted.

    The key is locked when it reaches ``policy.max_failures``.
    """
    failures = state.failures + 1 if state.recent(now, policy) else 1
    locked_until = (now + timedelta(seconds=policy.lock_s(failures))
                    if failures >= policy.max_failures else None)
    return KeyState(failures, locked_until, now)


def policies(settings: Settings) -> Policies:
    """Return the policies of ``settings``."""
    def doubling(max_failures: int) -> ThrottlePolicy:
        return ThrottlePolicy(max_failures, settings.login_backoff_s, settings.login_backoff_max_s,
                              settings.login_forget_s)

    gentle = ThrottlePolicy(settings.login_failures_per_account, settings.login_account_backoff_s,
                            settings.login_account_backoff_s, settings.login_forget_s)
    return Policies(doubling(settings.login_failures_per_pair),
                    doubling(settings.login_usernames_per_address), gentle)


def _address_key(address: str) -> str:
    return f"addr:{address}"


def _pair_prefix(address: str) -> str:
    # an address (IP, network or "unknown") holds no "|": the first one ends it
    return f"pair:{address}|"


def _account_key(username: str) -> str:
    return f"user:{username}"


def _locked_state(conn: Connection, key: str) -> KeyState:
    """Return the key's row, created at zero when absent, locked until the transaction ends.

    One statement: a row deleted by a success in between is created again, not missed.
    """
    row = conn.execute(sa.text("INSERT INTO login_failures (key, failures) VALUES (:k, 0)"
                               " ON CONFLICT (key) DO UPDATE SET key = excluded.key"
                               " RETURNING failures, locked_until, updated_at"), {"k": key}).one()
    return KeyState(row.failures, row.locked_until, row.updated_at)


def _write(conn: Connection, key: str, state: KeyState) -> None:
    conn.execute(sa.text("UPDATE login_failures SET failures = :f, locked_until = :l,"
                         " updated_at = :u WHERE key = :k"),
                 {"k": key, "f": state.failures, "l": state.locked_until, "u": state.updated_at})


def _usernames_tried(conn: Connection, address: str, now: datetime, forget_s: float) -> int:
    """Count the distinct usernames whose failures from ``address`` still count (its pair rows)."""
    prefix = _pair_prefix(address)
    count: int = conn.execute(sa.text(
        "SELECT count(*) FROM login_failures WHERE left(key, :n) = :p AND failures > 0"
        " AND updated_at > :now - make_interval(secs => :forget)"),
        {"n": len(prefix), "p": prefix, "now": now, "forget": forget_s}).scalar_one()
    return count


def claim_attempt(engine: Engine, username: str, address: str, settings: Settings) -> int | None:
    """Count a sign-in attempt, or refuse it.

    Parameters
    ----------
    engine
        The database.
    username
        The account named by the attempt (known or not).
    address
        The client's key (``web.rate_limit.client_network`` of its address).
    settings
        The throttle's settings (see the module notes).

    Returns
    -------
    int or None
        ``None`` when the attempt may go on to the password check; else the whole seconds
        (at least 1) until the locked pair, address or account accepts attempts again.
    """
    rules = policies(settings)
    address_key, account_key = _address_key(address), _account_key(username)
    pair_key = _pair_prefix(address) + username
    with engine.connect() as conn:
        # in key order ("addr:" < "pair:" < "user:"), as record_success: no deadlock
        by_address = _locked_state(conn, address_key)
        pair = _locked_state(conn, pair_key)
        account = _locked_state(conn, account_key)
        now: datetime = conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
        locked_until = [state.locked_until for state in (by_address, pair, account)
                        if state.locked(now) and state.locked_until is not None]
        if locked_until:
            conn.rollback()  # a refused attempt counts against no key
            return max(1, math.ceil((max(locked_until) - now).total_seconds()))
        new_username = not pair.recent(now, rules.pair)
        _write(conn, pair_key, after_attempt(pair, now, rules.pair))
        _write(conn, account_key, after_attempt(account, now, rules.account))
        tried = _usernames_tried(conn, address, now, rules.address.forget_s)
        address_locked_until = by_address.locked_until
        if new_username and tried >= rules.address.max_failures:
            address_locked_until = now + timedelta(seconds=rules.address.lock_s(tried))
        _write(conn, address_key, KeyState(tried, address_locked_until, now))
        conn.commit()
    return None


def record_success(engine: Engine, username: str, address: str, settings: Settings) -> None:
    """Clear the pair's and the account's counts after a success, and drop stale rows.

    The username leaves the address's distinct count. Rows nobody has tried for
    ``login_forget_s`` are dropped (so guessed usernames do not pile up).
    """
    with engine.begin() as conn:
        # the pair row before the account row, as claim_attempt locks them: no deadlock
        conn.execute(sa.text("DELETE FROM login_failures WHERE key = :k"),
                     {"k": _pair_prefix(address) + username})
        conn.execute(sa.text("DELETE FROM login_failures WHERE key = :k"),
                     {"k": _account_key(username)})
    with engine.begin() as conn:
        # rows an attempt holds right now are skipped, not waited for
        conn.execute(sa.text(
            "DELETE FROM login_failures WHERE key IN (SELECT key FROM login_failures"
            " WHERE updated_at < clock_timestamp() - make_interval(secs => :forget)"
            " AND coalesce(locked_until, '-infinity') < clock_timestamp()"
            " FOR UPDATE SKIP LOCKED)"), {"forget": settings.login_forget_s})


def unlock(engine: Engine, username: str) -> int:
    """Clear every count and lock of ``username``.

    These are its account row and its pair rows from every address (an address's own lock
    stays: it is not this account's). Returns the rows removed.
    """
    with engine.begin() as conn:
        removed = conn.execute(sa.text(
            "DELETE FROM login_failures WHERE key = :account OR (left(key, 5) = 'pair:'"
            " AND substr(key, strpos(key, '|') + 1) = :u)"),
            {"account": _account_key(username), "u": username}).rowcount
    return int(removed)
