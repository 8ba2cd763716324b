"""One-time keys of staff forms, so that a POST sent twice writes once (issue 14).

Each staff form that writes carries a fresh random ``request_key``. The write claims its key
in its own transaction (:func:`claim`), so the key is stored exactly when the write is. When
an app node dies before answering, HAProxy resends a POST that carries a key to another node
(``web/balancer.py``); there the claim finds the key already stored, and the write is not
done again: the caller answers as the first time did (the same redirect). If the first
attempt is still running when the resend arrives (its node was killed, PostgreSQL has not yet
seen the connection drop), the claim waits on the key's row until that transaction commits
(the write happened: replay) or is rolled back (it did not: the write is done now).

Keys are forgotten after a day; a form left open longer gets a fresh key when reloaded.
"""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis_service.errors import InvalidValueError

#: What a key looks like (32 hex digits: 128 random bits).
KEY = re.compile(r"[0-9a-f]{32}")
#: How long a key is kept.
KEEP = "1 day"


def new_key() -> str:
    """Return a fresh request key for a form."""
    return secrets.token_hex(16)


def claim(conn: Connection, key: str | None, username: str, action: str, target: str) -> str | None:
    """Store ``key`` in ``conn``'s transaction; return ``None`` when it is new.

    When the key was stored by an earlier, committed request (the same form sent again),
    return that request's ``target`` (say, the round it created) and store nothing: the
    caller does not write again. No key (``None`` or ``""``): always new.
    A malformed key, or one stored for another user, action or target (an old form edited and
    sent again), is refused (:class:`InvalidValueError`).
    """
    if not key:
        return None
    if not KEY.fullmatch(key):
        raise InvalidValueError("request_key must be 32 hexadecimal digits")
    # expired keys go, but never wait for them: a concurrent claim deleting the same rows
    # would otherwise hold this write until its own transaction ends
    conn.execute(sa.text(
        "DELETE FROM request_keys WHERE key IN (SELECT key FROM request_keys"
        f" WHERE created_at < now() - interval '{KEEP}' FOR UPDATE SKIP LOCKED)"))
    stored = conn.execute(sa.text(
        "INSERT INTO request_keys (key, username, action, target) VALUES (:k, :u, :a, :t)"
        " ON CONFLICT (key) DO NOTHING RETURNING key"),
        {"k": key, "u": username, "a": action, "t": target}).first()
    if stored is not None:
        return None
    earlier = conn.execute(sa.text("SELECT username, action, target FROM request_keys WHERE key = :k"),
                           {"k": key}).one()
    if (earlier.username, earlier.action, earlier.target) != (username, action, target):
        raise InvalidValueError("this form was already sent for another action; reload the page")
    return str(earlier.target)
