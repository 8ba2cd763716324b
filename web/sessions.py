"""Signed session cookies: what they hold, how long they last, and their sliding renewal.

The cookie is ``payload.signature``: the payload is base64url JSON
``{"id": user id, "u": username, "v": session_version, "iat": signed in at,
"seen": last renewed at}``
(whole seconds since the epoch), the signature an HMAC-SHA256 of it with a key derived from
the app's settings' secret (every function here is given the settings: the app's own,
``request.app.state.settings``, never the environment's). A session ends

- after ``session_idle_s`` (30 min) without a request: while in use the cookie is re-issued
  with a new ``seen``, at most once per ``RENEW_AFTER_S``, by :class:`SessionRenewalMiddleware`;
- ``session_max_s`` (8 h) after sign-in, however busy;
- at once when the user's row is gone, disabled or has another ``session_version`` (sign-out,
  new password, disabled): ``web.auth`` checks every session against the users table, by
  user id *and* name, so a user deleted and created again under the same name (whose
  ``session_version`` starts at 1 again) does not inherit the old account's cookies.

A cookie that is not exactly this shape (bad signature, base64, JSON or field types) is no
session, never an error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, replace
from typing import Any

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis_service.accounts import b64, unb64
from gis_service.settings import Settings

__all__ = ["SESSION_COOKIE", "SessionClaims", "SessionRenewalMiddleware", "b64", "clear_session",
           "new_session", "read_session", "same_text", "schedule_renewal", "secure_cookies",
           "session_value", "set_session", "sign"]

SESSION_COOKIE = "edugis_session"
#: A cookie is re-issued (sliding expiry) when it was last issued this long ago; a shorter
#: interval would add a Set-Cookie to most staff answers for no gain.
RENEW_AFTER_S = 60
_RENEWAL_STATE = "session_renewal"


def _key(settings: Settings, purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{settings.session_secret()}".encode()).digest()


def sign(settings: Settings, purpose: str, payload: str) -> str:
    """Return the HMAC-SHA256 of ``payload`` with the key of ``purpose`` (``session``, ``csrf``)."""
    return b64(hmac.new(_key(settings, purpose), payload.encode(), hashlib.sha256).digest())


def same_text(left: str, right: str) -> bool:
    """Compare two texts in constant time.

    Unlike ``hmac.compare_digest`` on ``str``, this does not raise on non-ASCII text (a
    cookie or form field may hold anything).
    """
    return hmac.compare_digest(left.encode("utf-8", "surrogateescape"),
                               right.encode("utf-8", "surrogateescape"))


@dataclass(frozen=True)
class SessionClaims:
    """What a valid session cookie says (times in whole seconds since the epoch)."""

    user_id: int
    username: str
    session_version: int
    issued_at: int
    last_seen: int

    def expires_at(self, settings: Settings) -> int:
        """When the session ends if no request comes: idle limit or absolute limit."""
        return min(self.last_seen + settings.session_idle_s, self.issued_at + settings.session_max_s)

    def renewal_due(self, now: float) -> bool:
        """Tell whether the cookie should be re-issued to slide the idle limit."""
        return now - self.last_seen >= RENEW_AFTER_S


def new_session(user_id: int, username: str, session_version: int, now: float | None = None
                ) -> SessionClaims:
    """Return the claims of a session of user ``user_id`` (``username``) starting ``now``."""
    moment = int(time.time() if now is None else now)
    return SessionClaims(user_id, username, session_version, moment, moment)


def session_value(settings: Settings, claims: SessionClaims) -> str:
    """Return the signed cookie value of ``claims``."""
    body = {"id": claims.user_id, "u": claims.username, "v": claims.session_version, "iat": claims.issued_at,
            "seen": claims.last_seen}
    payload = b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{sign(settings, 'session', payload)}"


def _claims(body: Any) -> SessionClaims | None:
    if not isinstance(body, dict):
        return None
    user_id, username, version = body.get("id"), body.get("u"), body.get("v")
    issued_at, last_seen = body.get("iat"), body.get("seen")
    # bool is an int in Python: a JSON true must not pass for a number
    if type(user_id) is not int or not isinstance(username, str) or not username \
            or type(version) is not int or type(issued_at) is not int or type(last_seen) is not int:
        return None
    return SessionClaims(user_id, username, version, issued_at, last_seen)


def read_session(settings: Settings, value: str | None, now: float | None = None
                 ) -> SessionClaims | None:
    """Return the claims of a session cookie, or ``None`` when it is not valid.

    ``None`` when absent, forged, malformed or expired (idle or absolute limit). Does not
    look at the database.
    """
    if not value or "." not in value:
        return None
    payload, signature = value.rsplit(".", 1)
    if not same_text(signature, sign(settings, "session", payload)):
        return None
    try:
        claims = _claims(json.loads(unb64(payload)))
    except ValueError:  # bad base64 (binascii.Error), JSON or UTF-8: all ValueErrors
        return None
    moment = time.time() if now is None else now
    if claims is None or moment >= claims.expires_at(settings):
        return None
    return claims


def secure_cookies(settings: Settings) -> bool:
    """Tell whether cookies carry the Secure flag: in production (served over HTTPS)."""
    return settings.environment == "production"


def set_session(settings: Settings, response: Response, claims: SessionClaims,
                now: float | None = None) -> None:
    """Put the session cookie on ``response`` (HttpOnly, SameSite=Lax, Secure in production).

    The browser drops it when the session would end.
    """
    moment = int(time.time() if now is None else now)
    response.set_cookie(SESSION_COOKIE, session_value(settings, claims),
                        max_age=max(0, claims.expires_at(settings) - moment),
                        httponly=True, samesite="lax", secure=secure_cookies(settings), path="/")


def clear_session(settings: Settings, response: Response) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=secure_cookies(settings))


def schedule_renewal(request: Request, claims: SessionClaims, now: float | None = None) -> None:
    """Have :class:`SessionRenewalMiddleware` re-issue the session with ``last_seen = now``."""
    moment = int(time.time() if now is None else now)
    holder = Response()
    settings: Settings = request.app.state.settings
    set_session(settings, holder, replace(claims, last_seen=moment), now=moment)
    setattr(request.state, _RENEWAL_STATE,
            [(name, value) for name, value in holder.raw_headers if name == b"set-cookie"])


class SessionRenewalMiddleware:
    """Add the session cookie scheduled by :func:`schedule_renewal` to the answer.

    Not when the answer sets or clears that cookie itself (sign-in, sign-out).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an ASGI call, adding the scheduled session cookie to the answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        own_cookie = f"{SESSION_COOKIE}=".encode()

        async def send_with_renewal(message: Message) -> None:
            renewal = state.get(_RENEWAL_STATE)
            if message["type"] == "http.response.start" and renewal:
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"set-cookie" and value.startswith(own_cookie)
                           for name, value in headers):
                    message["headers"] = headers + renewal
            await send(message)

        await self.app(scope, receive, send_with_renewal)
