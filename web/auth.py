"""Who is signed in, role checks, CSRF tokens and the same-origin rule for form posts.

Sessions are signed cookies (``web.sessions``) checked on every use against the users table:
one indexed read by username, only for requests that carry a session cookie (public pages
without one cost nothing). A session whose user is gone, disabled or has bumped its
``session_version`` (sign-out, new password, disabled) gets no access.

CSRF uses a signed double-submit token: a cookie and a hidden form field (or the
``X-CSRF-Token`` header) that must match; sign-in issues a new token. On top of it,
:func:`check_origin` refuses any state-changing request whose ``Origin`` (or, lacking one,
``Referer``) names another host than the site's. A request with neither header is let
through to the CSRF check: browsers send ``Origin`` on every cross-site POST, so only
non-browser clients (scripts, tests) send neither, and they still need the token.

The site's host is the request's ``Host``, any origin of ``EDUGIS_PUBLIC_ORIGINS``, and the
``X-Forwarded-Host`` (with ``X-Forwarded-Proto``) sent by a proxy of
``EDUGIS_FORWARDED_ALLOW_IPS`` (the connection's peer: ``web.proxy``). Behind Apache
(``ProxyPreserveHost Off``) or nginx's defaults the ``Host`` is the backend's address, so one
of the latter two is needed; anyone else's ``X-Forwarded-Host`` is ignored.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Annotated, cast
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, Response

from gis_service.accounts import User, session_user
from gis_service.settings import Settings
from web.deps import app_engine, app_settings
from web.proxy import peer_address, trusted_proxy
from web.sessions import (
    SESSION_COOKIE,
    read_session,
    same_text,
    schedule_renewal,
    secure_cookies,
    sign,
)

CSRF_COOKIE = "edugis_csrf"
#: Methods that change state: the same-origin rule applies to them.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNREAD = object()  # request.state.session_user before optional_user has looked


# ---- CSRF ------------------------------------------------------------------------------------


def _new_csrf(settings: Settings) -> str:
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{sign(settings, 'csrf', nonce)}"


def csrf_token(request: Request) -> str:
    """Return the request's CSRF token (the cookie's, or a new one ``ensure_csrf_cookie`` sets)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and _valid_csrf(app_settings(request), existing):
        return existing
    token: str | None = getattr(request.state, "new_csrf", None)
    if token is None:
        token = request.state.new_csrf = _new_csrf(app_settings(request))
    return token


def _set_csrf_cookie(settings: Settings, response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=secure_cookies(settings), path="/")


def ensure_csrf_cookie(request: Request, response: Response) -> None:
    """Set the CSRF cookie when this request created the token."""
    token = getattr(request.state, "new_csrf", None)
    if token:
        _set_csrf_cookie(app_settings(request), response, token)


def rotate_csrf(request: Request, response: Response) -> None:
    """Give the browser a new CSRF token (at sign-in and sign-out).

    A token planted or read before then cannot be used in the new session.
    """
    settings = app_settings(request)
    _set_csrf_cookie(settings, response, _new_csrf(settings))


def _valid_csrf(settings: Settings, token: str) -> bool:
    nonce, _, signature = token.partition(".")
    return bool(nonce) and same_text(signature, sign(settings, "csrf", nonce))


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse with 403 unless ``submitted`` equals the signed CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not _valid_csrf(app_settings(request), cookie) \
            or not same_text(cookie, submitted):
        raise HTTPException(403, "csrf_token: thiếu hoặc sai mã chống giả mạo, hãy tải lại trang"
                                 " / missing or wrong CSRF token; reload the form and try again")


# ---- same origin -----------------------------------------------------------------------------


def _host_port(netloc: str, scheme: str | None) -> tuple[str, int | None] | None:
    """Split a ``host[:port]`` into ``(host, port)``.

    The port is ``None`` when it is the scheme's default (or, for a bare Host header, 80 or
    443: a TLS proxy may hide the scheme).
    """
    try:
        parts = urlsplit(f"//{netloc}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    defaults = {_DEFAULT_PORTS[scheme]} if scheme in _DEFAULT_PORTS else set(_DEFAULT_PORTS.values())
    return host, None if port in defaults else port


def _source(header: str) -> tuple[str, int | None] | None:
    """Return the ``(host, port)`` an Origin or Referer names; ``None`` for ``null`` or no web address."""
    try:
        parts = urlsplit(header)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        return None
    if parts.scheme not in _DEFAULT_PORTS:
        return None
    return _host_port(parts.netloc, parts.scheme)


def _first(header: str | None) -> str:
    """Return the first of a comma-separated header's values (a proxy chain appends its own)."""
    return (header or "").split(",", 1)[0].strip()


def site_hosts(request: Request) -> set[tuple[str, int | None]]:
    """Return the ``(host, port)`` pairs a same-origin request may name.

    They are those of ``Host``, of the public origins of the settings, and of
    ``X-Forwarded-Host`` from a trusted proxy.
    """
    settings = app_settings(request)
    named = [_host_port(request.headers.get("host", ""), None)]
    named += [_source(origin.strip()) for origin in settings.public_origins.split(",")
              if origin.strip()]
    forwarded_host = _first(request.headers.get("x-forwarded-host"))
    if forwarded_host and trusted_proxy(peer_address(request.scope), settings.forwarded_allow_ips):
        scheme = _first(request.headers.get("x-forwarded-proto")).lower()
        named.append(_host_port(forwarded_host, scheme if scheme in _DEFAULT_PORTS else None))
    return {host for host in named if host is not None}


async def check_origin(request: Request) -> None:
    """Refuse with 403 a state-changing request from another site.

    That is one whose ``Origin`` (else ``Referer``) names another host than the site's
    (:func:`site_hosts`); requests with neither header pass (see the module notes). A
    coroutine though it waits for nothing: FastAPI would run a plain function, dependency of
    every route, in a worker thread for each request.
    """
    if request.method not in UNSAFE_METHODS:
        return
    header_name = "origin" if request.headers.get("origin") else "referer"
    named = request.headers.get(header_name)
    if not named:
        return
    source = _source(named)
    if source is None or source not in site_hosts(request):
        shown = named[:100]
        raise HTTPException(403, f"{header_name.capitalize()}: yêu cầu đến từ trang khác ({shown})"
                                 f" nên bị từ chối / the request comes from another site"
                                 f" ({shown}) and is refused")


# ---- who is signed in ------------------------------------------------------------------------


def optional_user(request: Request) -> User | None:
    """Return the signed-in user, if any.

    That is the user of a valid cookie who still exists, is enabled and has the cookie's
    session version. Read once per request; schedules the sliding renewal.
    """
    known = getattr(request.state, "session_user", _UNREAD)
    if known is not _UNREAD:
        return cast(User | None, known)
    now = time.time()
    user = None
    claims = read_session(app_settings(request), request.cookies.get(SESSION_COOKIE), now)
    if claims is not None:
        user = session_user(app_engine(request), claims.user_id, claims.username,
                            claims.session_version)
        if user is not None and claims.renewal_due(now):
            schedule_renewal(request, claims, now)
    request.state.session_user = user
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]


def require_roles(*roles: str) -> Callable[[Request], User]:
    """Return a dependency that lets through only users of ``roles`` (admins always pass).

    Anonymous requests (and revoked or expired sessions) get 401, signed-in users of another
    role 403.
    """

    def dependency(request: Request) -> User:
        user = optional_user(request)
        if user is None:
            raise HTTPException(401, "đăng nhập trước / sign in first")
        if user.role != "admin" and user.role not in roles:
            raise HTTPException(403, f"trang này dành cho / this page is for: {', '.join(roles)}")
        return user

    return dependency


OfficerUser = Annotated[User, Depends(require_roles("officer"))]
PlannerUser = Annotated[User, Depends(require_roles("planner"))]
AdminUser = Annotated[User, Depends(require_roles("admin"))]
