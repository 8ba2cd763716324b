"""Sign-in throttling shared by every worker and node: the counts live in ``login_failures``
(the web asks :func:`claim_attempt` before checking a password).

Each attempt counts against two keys, ``user:<username>`` and ``addr:<client address>``.
After ``max_failures`` attempts without a success (5 per account, 20 per address by default)
the key is locked for ``backoff_s`` (30 s), doubled at each further failed attempt up to
``backoff_max_s`` (15 min); a locked key refuses every attempt, even with the right password,
until the lock ends. Counts are forgotten ``forget_s`` (1 h) after a key's last attempt.

An attempt is counted *before* its password is checked, in one transaction that takes the
keys' row locks, so a burst of parallel guesses cannot all slip in before the first failure is
written. A success then removes the account's count and takes its own attempt back off the
address's count; the address's earlier failures stay (so one valid account cannot be used to
wipe the count of guesses at other accounts from the same address).

The client address is the ASGI client: uvicorn replaces it with ``X-Forwarded-For`` when the
request comes from a proxy of ``EDUGIS_FORWARDED_ALLOW_IPS`` (else every client behind the
proxy would share one address count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gis_service.settings import Settings


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures a key may have and how long it is locked after them."""

    max_failures: int
    backoff_s: float
    backoff_max_s: float
    forget_s: float

    def lock_s(self, failures: int) -> float:
        """Seconds a key with ``failures`` (at least ``max_failures``) stays locked."""
        doublings = min(failures - self.max_failures, 40)  # 2**40 s is past any cap
        return float(min(self.backoff_s * 2**doublings, self.backoff_max_s))


@dataclass(frozen=True)
class KeyState:
    """One row of ``login_failures``."""

    failures: int
    locked_until: datetime | None
    updated_at: datetime

    def locked(self, now: datetime) -> bool:
        """True while the key refuses attempts."""
        return self.locked_until is not None and self.locked_until > now


def after_attempt(state: KeyState, now: datetime, policy: ThrottlePolicy) -> KeyState:
    """The state of an unlocked key once one more attempt is counted (and locked when it
    reaches ``policy.max_failures``)."""
    recent = now - state.updated_at < timedelta(seconds=policy.forget_s)
    failures = state.failures + 1 if recent else 1
    locked_until = (now + timedelta(seconds=policy.lock_s(failures))
                    if failures >= policy.max_failures else None)
    return KeyState(failures, locked_until, now)


def policies(settings: Settings) -> tuple[ThrottlePolicy, ThrottlePolicy]:
    """The (account, address) policies of ``settings``."""
    def policy(max_failures: int) -> ThrottlePolicy:
        return ThrottlePolicy(max_failures, settings.login_backoff_s, settings.login_backoff_max_s,
                              settings.login_forget_s)

    return policy(settings.login_failures_per_account), policy(settings.login_failures_per_address)


def _keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username}", f"addr:{address}"


def _locked_state(conn: Connection, key: str) -> KeyState:
    """The key's row, created at zero when absent, locked until the transaction ends."""
    conn.execute(sa.text("INSERT INTO login_failures (key, failures) VALUES (:k, 0)"
                         " ON CONFLICT (key) DO NOTHING"), {"k": key})
    row = conn.execute(sa.text("SELECT failures, locked_until, updated_at FROM login_failures"
                               " WHERE key = :k FOR UPDATE"), {"k": key}).one()
    return KeyState(row.failures, row.locked_until, row.updated_at)


def claim_attempt(engine: Engine, username: str, address: str, settings: Settings) -> int | None:
    """Count a sign-in attempt, or refuse it.

    Returns
    -------
    int or None
        ``None`` when the attempt may go on to the password check; else the whole seconds
        (at least 1) until the locked account or address accepts attempts again.
    """
    account_key, address_key = _keys(username, address)
    account, by_address = policies(settings)
    rules = {account_key: account, address_key: by_address}
    with engine.connect() as conn:
        # sorted: two attempts take the row locks in the same order, so they cannot deadlock
        states = {key: _locked_state(conn, key) for key in sorted(rules)}
        now: datetime = conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
        locked_until = [state.locked_until for state in states.values()
                        if state.locked(now) and state.locked_until is not None]
        if locked_until:
            conn.rollback()  # a refused attempt counts against neither key
            return max(1, math.ceil((max(locked_until) - now).total_seconds()))
        for key, state in states.items():
            new = after_attempt(state, now, rules[key])
            conn.execute(sa.text("UPDATE login_failures SET failures = :f, locked_until = :l,"
                                 " updated_at = :u WHERE key = :k"),
                         {"k": key, "f": new.failures, "l": new.locked_until, "u": new.updated_at})
        conn.commit()
    return None


def record_success(engine: Engine, username: str, address: str, settings: Settings) -> None:
    """Clear the account's count; take the successful attempt off the address's count; drop
    rows nobody has tried for ``login_forget_s`` (so guessed usernames do not pile up)."""
    account_key, address_key = _keys(username, address)
    _, by_address = policies(settings)
    with engine.begin() as conn:
        # the address row first, as claim_attempt locks them ("addr:" < "user:"): no deadlock
        conn.execute(sa.text(
            "UPDATE login_failures SET failures = greatest(failures - 1, 0),"
            " locked_until = CASE WHEN failures - 1 >= :max THEN locked_until END"
            " WHERE key = :k"), {"k": address_key, "max": by_address.max_failures})
        conn.execute(sa.text("DELETE FROM login_failures WHERE key = :k"), {"k": account_key})
    with engine.begin() as conn:
        # rows an attempt holds right now are skipped, not waited for
        conn.execute(sa.text(
            "DELETE FROM login_failures WHERE key IN (SELECT key FROM login_failures"
            " WHERE updated_at < clock_timestamp() - make_interval(secs => :forget)"
            " AND coalesce(locked_until, '-infinity') < clock_timestamp()"
            " FOR UPDATE SKIP LOCKED)"), {"forget": settings.login_forget_s})
