"""Staff accounts: passwords, creation, authentication and revocation of sessions.

Scrypt password hashes, the password policy, creation, authentication,
revocation of sessions (``session_version``, ``disabled``); :func:`audit` is
``gis_service.audit.audit``. Framework-free: the web keeps the cookies and sign-in pages
(:mod:`web.sessions`, :mod:`web.auth`, :mod:`web.pages`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.audit import audit as audit  # one audit function (re-exported here)
from gis_service.errors import InvalidValueError, NotFoundError
from gis_service.models import ROLES

#: Roles that sign in to the web app ("parent" accounts are not used by the web app yet).
STAFF_ROLES = ("officer", "planner", "admin")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 10
#: A password needs at least this many different characters ("aaaaaaaaaa", "1212121212" and
#: "abcabcabcabc" are refused).
MIN_DISTINCT_CHARACTERS = 4
#: Refused whatever the case, and with digits or punctuation around them ("Password2026!"):
#: the ten most used passwords of NordPass's 2023 list, and the obvious words of this site.
COMMON_PASSWORDS = frozenset({
    "123456", "admin", "12345678", "123456789", "1234", "12345", "password", "123",
    "aa123456", "1234567890",
    "qwerty", "qwertyuiop", "iloveyou", "abc", "abcdef", "matkhau", "edugis", "hcmc",
})


@dataclass(frozen=True)
class User:
    """A signed-in user as the app sees it.

    ``session_version`` is the user's row value when the user was read: a session cookie
    carries it, with ``user_id``, and is honoured only while the row of that id still holds
    the same name and number.
    """

    user_id: int
    username: str
    role: str
    session_version: int = 1


def b64(raw: bytes) -> str:
    """Encode ``raw`` as URL-safe base64 without padding (password hashes, session cookies)."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    """Return the bytes of :func:`b64`'s text (raises ``ValueError`` on bad base64)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """Hash ``password`` as ``scrypt$N$r$p$salt$hash`` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Tell whether ``password`` matches the ``stored`` hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=unb64(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(unb64(digest)))
    return hmac.compare_digest(candidate, unb64(digest))


def _core(text: str) -> str:
    """Return ``text`` in lower case without the digits and punctuation around it."""
    return text.casefold().strip(string.digits + string.punctuation + string.whitespace)


def password_problem(password: str, username: str = "") -> str | None:
    """Return why ``password`` is refused (Vietnamese / English, naming the field), or ``None``.

    Refused: fewer than ``MIN_PASSWORD_LENGTH`` characters, fewer than
    ``MIN_DISTINCT_CHARACTERS`` different characters, one of ``COMMON_PASSWORDS`` or the
    username, alone or with digits and punctuation around it.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return (f"password: mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự / must have at"
                f" least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return (f"password: mật khẩu lặp lại ký tự, cần ít nhất {MIN_DISTINCT_CHARACTERS} ký tự"
                f" khác nhau / repeats its characters; it needs at least"
                f" {MIN_DISTINCT_CHARACTERS} different ones")
    lowered, core = password.casefold(), _core(password)
    if lowered in COMMON_PASSWORDS or core in COMMON_PASSWORDS:
        return ("password: mật khẩu quá phổ biến, dễ bị đoán / is one of the most used passwords"
                " and easy to guess")
    if username and (lowered == username.casefold() or core == _core(username)):
        return "password: mật khẩu không được là tên đăng nhập / must not be the username"
    return None


def _check_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem:
        raise InvalidValueError(problem)


def create_user(engine: Engine, username: str, password: str, role: str) -> int:
    """Create a user and return its id.

    Parameters
    ----------
    engine
        The database.
    username
        Unique login name (1-64 characters, no spaces).
    password
        Accepted by :func:`password_problem`; only its scrypt hash is stored.
    role
        One of ``officer``, ``planner``, ``admin`` (or ``parent``).

    Raises
    ------
    gis_service.errors.InvalidValueError
        On a bad name, a refused password, an unknown role or a name already taken.
    """
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise InvalidValueError("username must be 1-64 characters without spaces")
    if role not in ROLES:
        raise InvalidValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    _check_password(password, username)
    with engine.begin() as conn:
        taken = conn.execute(sa.text("SELECT 1 FROM users WHERE username = :u"),
                             {"u": username}).first()
        if taken:
            raise InvalidValueError(f"user {username!r} already exists")
        user_id: int = conn.execute(sa.text(
            "INSERT INTO users (username, password_hash, role) VALUES (:u, :h, :r) RETURNING id"),
            {"u": username, "h": hash_password(password), "r": role}).scalar_one()
    return user_id


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """Return the user when the password is right and the account enabled, else ``None``.

    Same work either way: a disabled or unknown account cannot be told from a wrong password.
    """
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT id, username, password_hash, role, session_version,"
                                   " disabled FROM users WHERE username = :u"),
                           {"u": username}).first()
    if row is None:
        hash_password(password)  # spend the same time as a real check: no user enumeration
        return None
    if not verify_password(password, row.password_hash) or row.disabled:
        return None
    return User(row.id, row.username, row.role, row.session_version)


def session_user(engine: Engine, user_id: int, username: str, session_version: int
                 ) -> User | None:
    """Return the user of a session, or ``None`` when it no longer stands.

    ``None`` when the account is gone (or its id now has another name, or its name another id:
    deleted and created again), disabled, or its sessions were revoked since (another
    ``session_version``). One read by primary key.

    The role is the row's, so a changed role applies to open sessions at once.
    """
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT username, role, session_version, disabled FROM users"
                                   " WHERE id = :i"), {"i": user_id}).first()
    if row is None or row.username != username or row.disabled \
            or row.session_version != session_version:
        return None
    return User(user_id, username, row.role, row.session_version)


def _bump(engine: Engine, username: str, also_set: str = "", values: dict[str, Any] | None = None
          ) -> None:
    """Bump ``username``'s session version, ending all its sessions.

    Sets the fixed columns of ``also_set`` (``", column = :param"``) in the same statement.
    """
    with engine.begin() as conn:
        found = conn.execute(sa.text(
            f"UPDATE users SET session_version = session_version + 1{also_set}"
            " WHERE username = :u RETURNING id"), {"u": username, **(values or {})}).first()
    if found is None:
        raise NotFoundError(f"username: không có tài khoản {username!r} / no user {username!r}")


def end_sessions(engine: Engine, username: str) -> None:
    """Revoke every session of ``username`` on every node (sign-out everywhere).

    Raises
    ------
    NotFoundError
        When there is no such user.
    """
    _bump(engine, username)


def set_password(engine: Engine, username: str, password: str) -> None:
    """Give ``username`` a new password and revoke all of its sessions.

    Raises
    ------
    ValueError
        When :func:`password_problem` refuses the password.
    NotFoundError
        When there is no such user.
    """
    _check_password(password, username)
    _bump(engine, username, ", password_hash = :h", {"h": hash_password(password)})


def set_disabled(engine: Engine, username: str, disabled: bool = True) -> None:
    """Disable (or enable again) ``username``; disabling revokes all of its sessions at once.

    Raises
    ------
    NotFoundError
        When there is no such user.
    """
    _bump(engine, username, ", disabled = :d", {"d": disabled})

