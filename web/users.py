"""Staff accounts: scrypt password hashes, creation, authentication and the audit log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.models import ROLES

#: Roles that sign in to the web app ("parent" accounts are not used by the web app yet).
STAFF_ROLES = ("officer", "planner", "admin")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class User:
    """A signed-in user as the app sees it."""

    username: str
    role: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` of ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the ``stored`` hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(_unb64(digest)))
    return hmac.compare_digest(candidate, _unb64(digest))


def create_user(engine: Engine, username: str, password: str, role: str) -> int:
    """Create a user and return its id.

    Parameters
    ----------
    engine
        The database.
    username
        Unique login name (1-64 characters, no spaces).
    password
        At least ``MIN_PASSWORD_LENGTH`` characters; only its scrypt hash is stored.
    role
        One of ``officer``, ``planner``, ``admin`` (or ``parent``).

    Raises
    ------
    ValueError
        On a bad name, short password, unknown role or a name already taken.
    """
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise ValueError("username must be 1-64 characters without spaces")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    with engine.begin() as conn:
        taken = conn.execute(sa.text("SELECT 1 FROM users WHERE username = :u"),
                             {"u": username}).first()
        if taken:
            raise ValueError(f"user {username!r} already exists")
        user_id: int = conn.execute(sa.text(
            "INSERT INTO users (username, password_hash, role) VALUES (:u, :h, :r) RETURNING id"),
            {"u": username, "h": hash_password(password), "r": role}).scalar_one()
    return user_id


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """The user when the password is right, else ``None`` (same work either way)."""
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT username, password_hash, role FROM users"
                                   " WHERE username = :u"), {"u": username}).first()
    if row is None:
        hash_password(password)  # spend the same time as a real check: no user enumeration
        return None
    return User(row.username, row.role) if verify_password(password, row.password_hash) else None


def audit(engine: Engine, actor: str, action: str, target: str = "",
          details: dict[str, Any] | None = None) -> None:
    """Append one row to ``audit_log``."""
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO audit_log (actor, action, target, details)"
                             " VALUES (:a, :act, :t, CAST(:d AS jsonb))"),
                     {"a": actor, "act": action, "t": target, "d": json.dumps(details or {})})
