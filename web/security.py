"""Security headers on every answer and a request-body size limit (pure ASGI middleware).

The app wraps its whole middleware stack in :class:`SecurityMiddleware` (``web.app.App``), outside
Starlette's ``ServerErrorMiddleware``: the 500 and 503 answers to errors no handler took carry the
headers too.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.i18n import TEXTS

#: No external host anywhere: every script, style, image and tile comes from this app.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; worker-src 'self' blob:; font-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(self), camera=(), microphone=()"),
]
#: Sent in production only, where the app is reached over HTTPS: browsers then refuse plain HTTP
#: to this host for a year. No ``includeSubDomains``: other hosts of the domain are not ours.
HSTS = (b"strict-transport-security", b"max-age=31536000")
#: Pages and exports of staff and sign-in (personal data, CSRF tokens): never stored by a
#: browser or a proxy, whatever the route set.
NO_STORE_PREFIXES = ("/officer", "/planner", "/admin", "/login", "/logout")
#: Largest request body accepted (an applicants CSV of a whole city is a few MB).
MAX_BODY_BYTES = 20 * 1024 * 1024


class BodyTooLargeError(Exception):
    """Raised inside the app when a streamed body passes the limit."""


def no_store(path: str) -> bool:
    """Tell whether answers to ``path`` carry ``Cache-Control: no-store``."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in NO_STORE_PREFIXES)


class SecurityMiddleware:
    """Add security headers and refuse bodies over a limit.

    ``Cache-Control: no-store`` goes on staff and sign-in paths; bodies larger than
    ``max_body_bytes`` are refused with 413.

    ``hsts`` adds :data:`HSTS`: the app turns it on in the production environment of its
    settings (``web.app.App``).
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES,
                 hsts: bool = False) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.headers = [*HEADERS, HSTS] if hsts else list(HEADERS)

    def _declares_too_large(self, scope: Scope) -> bool:
        """Tell whether the request's ``Content-Length`` is over the limit."""
        return any(name == b"content-length" and value.isdigit()
                   and int(value) > self.max_body_bytes
                   for name, value in scope.get("headers", []))

    def _response_headers(self, headers: list[tuple[bytes, bytes]],
                          private: bool) -> list[tuple[bytes, bytes]]:
        """Return an answer's headers with ours added (and ``no-store`` if ``private``)."""
        if private:
            headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
            headers.append((b"cache-control", b"no-store"))
        present = {k.lower() for k, _ in headers}
        return headers + [(k, v) for k, v in self.headers if k not in present]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an ASGI call: headers added, bodies over the limit refused with 413."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declares_too_large(scope):
            await self._too_large(send)
            return
        received = 0
        started = False
        private = no_store(scope["path"])

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = self._response_headers(list(message.get("headers", [])),
                                                             private)
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLargeError:
            if not started:
                await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        vi, en = TEXTS["body_too_large"]
        body = json.dumps({"code": "PayloadTooLarge", "description":
                           f"{vi} / {en} (> {self.max_body_bytes} bytes)"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), *self.headers]})
        await send({"type": "http.response.body", "body": body})
