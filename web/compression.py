"""Gzip of text answers (JSON, GeoJSON, CSV, HTML, scripts) for clients that accept it.

A page of 1,000 roads is ~0.6 MB of GeoJSON and ~0.1 MB gzipped. Starlette's own
``GZipMiddleware`` compresses on the event loop at level 9; here a large body is compressed
in a worker thread (zlib releases the GIL), so the worker's other requests go on meanwhile,
at level 4, which costs a quarter of level 9's CPU for a few per cent more bytes on GeoJSON.
Vector tiles pass as they are: a map's tiles come from the in-process cache in tens of
microseconds, and compressing each answer would cost more than serving it.

No Brotli: it needs another compiled dependency, and gzip already takes most of the bytes
off repetitive GeoJSON.

The sign-in and staff pages (``web.security.no_store``) are never compressed: they carry the
CSRF token and reflect what a request sends, and the length of such a compressed answer tells
an attacker who can make the browser send requests whether a guess matches the secret
(BREACH). They are small HTML pages, so little is lost.
"""

from __future__ import annotations

import zlib

from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.security import no_store

#: Media types worth compressing (the part before any ``;``).
COMPRESSIBLE = frozenset((
    b"application/json", b"application/geo+json", b"application/vnd.oai.openapi+json",
    b"application/javascript", b"image/svg+xml", b"text/csv", b"text/html", b"text/css",
    b"text/javascript", b"text/plain",
))
#: Bodies smaller than this are sent as they are (they fit a packet or two anyway).
MINIMUM_BYTES = 1400
#: Bodies at least this large are compressed in a worker thread, off the event loop.
THREAD_BYTES = 64 * 1024
LEVEL = 4


def accepts_gzip(accept_encoding: str) -> bool:
    """Tell whether an ``Accept-Encoding`` value allows gzip (``gzip`` or ``*``, not ``q=0``)."""
    allowed = False
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() not in ("gzip", "*"):
            continue
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if coding.strip() == "gzip":
            return quality > 0
        allowed = quality > 0  # "*" decides only when gzip is not named
    return allowed


def gzip_bytes(body: bytes, level: int = LEVEL) -> bytes:
    """Compress ``body`` as one gzip member."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip header and trailer
    return compressor.compress(body) + compressor.flush()


def _compressible(headers: list[tuple[bytes, bytes]]) -> bool:
    """Tell whether an answer is of a compressible media type and not already encoded.

    Reads raw ASGI headers: this runs for every answer, Starlette's header classes cost more.
    """
    compressible = False
    for name, value in headers:
        name = name.lower()
        if name == b"content-type":
            compressible = value.split(b";", 1)[0].strip().lower() in COMPRESSIBLE
        elif name == b"content-encoding":
            return False
    return compressible


def _with_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Return ``headers`` saying that the answer varies with ``Accept-Encoding``."""
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"accept-encoding" not in value.lower():
                headers[i] = (name, value + b", Accept-Encoding")
            return headers
    headers.append((b"vary", b"Accept-Encoding"))
    return headers


def _encoded(headers: list[tuple[bytes, bytes]], length: int | None) -> list[tuple[bytes, bytes]]:
    """Return ``headers`` of the gzipped answer: its ``Content-Length`` (none when streamed)."""
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    kept.append((b"content-encoding", b"gzip"))
    if length is not None:
        kept.append((b"content-length", str(length).encode()))
    return kept


class GzipMiddleware:
    """Compress compressible answers for clients that send ``Accept-Encoding: gzip``.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    minimum_bytes, thread_bytes, level
        See :data:`MINIMUM_BYTES`, :data:`THREAD_BYTES`, :data:`LEVEL`.
    """

    def __init__(self, app: ASGIApp, minimum_bytes: int = MINIMUM_BYTES,
                 thread_bytes: int = THREAD_BYTES, level: int = LEVEL) -> None:
        self.app = app
        self.minimum_bytes = minimum_bytes
        self.thread_bytes = thread_bytes
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an ASGI call, compressing the answer when the client accepts gzip."""
        if scope["type"] != "http" or no_store(scope["path"]):  # no_store: BREACH, see above
            await self.app(scope, receive, send)
            return
        accept = b""
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept = value
                break
        if not accept or not accepts_gzip(accept.decode("latin-1")):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _GzipSender(self, send))


class _GzipSender:
    """Be the ``send`` of one answer, compressing it when it should be.

    Holds the start message until the first body part tells whether (and how) to compress.
    """

    def __init__(self, middleware: GzipMiddleware, send: Send) -> None:
        self.middleware = middleware
        self.send = send
        self.start: Message | None = None
        self.compressor: zlib._Compress | None = None
        self.passing = False

    async def __call__(self, message: Message) -> None:
        if self.passing:
            await self.send(message)
            return
        if message["type"] == "http.response.start":
            if not _compressible(message.get("headers", [])):
                self.passing = True
                await self.send(message)
                return
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        if self.compressor is None:
            await self._first_part(self.start, message)
            return
        await self._next_part(message)

    async def _first_part(self, start: Message, message: Message) -> None:
        headers = _with_vary(list(start.get("headers", [])))
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if not more and len(body) < self.middleware.minimum_bytes:
            self.passing = True
            start["headers"] = headers
            await self.send(start)
            await self.send(message)
            return
        if not more:
            if len(body) >= self.middleware.thread_bytes:
                compressed = await to_thread.run_sync(gzip_bytes, body, self.middleware.level)
            else:
                compressed = gzip_bytes(body, self.middleware.level)
            start["headers"] = _encoded(headers, len(compressed))
            self.passing = True
            await self.send(start)
            await self.send({"type": "http.response.body", "body": compressed})
            return
        # a streamed answer: compressed part by part, its length unknown in advance
        start["headers"] = _encoded(headers, None)
        self.compressor = zlib.compressobj(self.middleware.level, zlib.DEFLATED, 31)
        await self.send(start)
        await self._next_part(message)

    async def _next_part(self, message: Message) -> None:
        assert self.compressor is not None
        body = self.compressor.compress(message.get("body", b""))
        more = bool(message.get("more_body", False))
        if not more:
            body += self.compressor.flush()
        elif not body:
            return
        await self.send({"type": "http.response.body", "body": body, "more_body": more})
