"""Signed session cookies, CSRF tokens and role checks.

The session cookie is ``payload.signature`` where the payload is base64url JSON
(username, role, expiry) and the signature an HMAC-SHA256 with the settings' secret key.
CSRF uses a signed double-submit token: a cookie and a hidden form field (or the
``X-CSRF-Token`` header) that must match.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from gis_service.settings import get_settings
from web.users import User

SESSION_COOKIE = "edugis_session"
CSRF_COOKIE = "edugis_csrf"
SESSION_SECONDS = 8 * 3600


def _key(purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{get_settings().secret_key}".encode()).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _sign(purpose: str, payload: str) -> str:
    return _b64(hmac.new(_key(purpose), payload.encode(), hashlib.sha256).digest())


def session_value(user: User, now: float | None = None) -> str:
    """The signed cookie value for ``user``'s session."""
    body = {"u": user.username, "r": user.role, "exp": int((now or time.time()) + SESSION_SECONDS)}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_sign('session', payload)}"


def read_session(value: str | None, now: float | None = None) -> User | None:
    """The user of a session cookie, or ``None`` when absent, forged or expired."""
    if not value or "." not in value:
        return None
    payload, signature = value.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign("session", payload)):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    if body.get("exp", 0) < (now or time.time()):
        return None
    return User(str(body["u"]), str(body["r"]))


def _secure() -> bool:
    return get_settings().environment == "production"


def set_session(response: Response, user: User) -> None:
    """Sign ``user`` in on ``response`` (HttpOnly, SameSite=Lax, Secure in production)."""
    response.set_cookie(SESSION_COOKIE, session_value(user), max_age=SESSION_SECONDS,
                        httponly=True, samesite="lax", secure=_secure(), path="/")


def clear_session(response: Response) -> None:
    """Sign out."""
    response.delete_cookie(SESSION_COOKIE, path="/")


def csrf_token(request: Request) -> str:
    """The request's CSRF token (the cookie's, or a new one that ``ensure_csrf_cookie`` sets)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and _valid_csrf(existing):
        return existing
    token: str | None = getattr(request.state, "new_csrf", None)
    if token is None:
        nonce = secrets.token_urlsafe(16)
        token = f"{nonce}.{_sign('csrf', nonce)}"
        request.state.new_csrf = token
    return token


def ensure_csrf_cookie(request: Request, response: Response) -> None:
    """Set the CSRF cookie when this request created the token."""
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=_secure(), path="/")


def _valid_csrf(token: str) -> bool:
    nonce, _, signature = token.partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _sign("csrf", nonce))


def check_csrf(request: Request, submitted: str | None) -> None:
    """403 unless ``submitted`` equals the signed CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not _valid_csrf(cookie) \
            or not hmac.compare_digest(cookie, submitted):
        raise HTTPException(403, "missing or wrong CSRF token; reload the form and try again")


def optional_user(request: Request) -> User | None:
    """The signed-in user, if any."""
    return read_session(request.cookies.get(SESSION_COOKIE))


OptionalUser = Annotated[User | None, Depends(optional_user)]


def require_roles(*roles: str) -> Callable[[Request], User]:
    """A dependency that lets through only users of ``roles`` (admins always pass).

    Anonymous requests get 401, signed-in users of another role 403.
    """

    def dependency(request: Request) -> User:
        user = optional_user(request)
        if user is None:
            raise HTTPException(401, "sign in first (đăng nhập)")
        if user.role != "admin" and user.role not in roles:
            raise HTTPException(403, f"this page is for: {', '.join(roles)}")
        return user

    return dependency


OfficerUser = Annotated[User, Depends(require_roles("officer"))]
PlannerUser = Annotated[User, Depends(require_roles("planner"))]
AdminUser = Annotated[User, Depends(require_roles("admin"))]
