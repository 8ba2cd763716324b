"""Per-client rate limits on the public API: a token bucket per client address.

Every request to ``/api/``, ``/ogc`` and ``/download/`` takes one token from its client's
bucket, and a JSON, GeoJSON or CSV answer takes one more per :data:`BYTES_PER_TOKEN` bytes
past the first :data:`FREE_BYTES` once it is sent (the work of an answer grows with its size:
a page of 1,000 roads costs ~150 tokens, a nearest-schools answer or a tile one). A bucket
holds ``burst`` tokens and refills at ``rate_per_s``; a request that finds its bucket empty
(or in debt after a large answer) gets a 429 with ``Retry-After``, before any work is done.

The defaults (100 tokens/s, 400 in a burst) let a map page load and pan freely (a few dozen
tiles a view) and leave room for several people behind one address (a school's network);
one client cannot hold a worker with large pages. Pages, staff and officer routes and
static assets are not limited.

The client address is the connection's peer, or the ``X-Forwarded-For`` address when the
peer is one of the proxies trusted by ``edugis serve --forwarded-allow-ips`` (uvicorn rewrites
it then; see ``Settings.forwarded_allow_ips``): a header from anyone else is ignored. An
IPv6 client is keyed by its /64 (:func:`client_network`): one subscriber or host is given a
whole /64 and could take a fresh address for every request; IPv4 clients by their address.

Buckets live in each worker process: with N workers a client spread over several
connections may get up to N times the rate. That is accepted: the limit is against one
client starving the others, not an exact quota (that would be the reverse proxy's job).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Paths whose requests are counted.
LIMITED_PREFIXES = ("/api/", "/ogc", "/download/")
#: Answers whose size is charged (a vector tile comes from the cache: one token whatever its size).
CHARGED_MEDIA = (b"application/json", b"application/geo+json", b"text/csv",
                 b"application/vnd.oai.openapi+json")
FREE_BYTES = 16 * 1024
BYTES_PER_TOKEN = 4 * 1024
#: Buckets kept before some are forgotten (the fullest first: a full bucket is the same as
#: none; a bucket in debt is never forgotten, or a flood of new addresses would wipe debts).
MAX_CLIENTS = 50_000


class TokenBuckets:
    """Token buckets per key, refilled at ``rate_per_s`` up to ``burst``.

    Parameters
    ----------
    rate_per_s
        Tokens added per second.
    burst
        Tokens a bucket holds at most (and a new one starts with).
    clock
        Seconds from an arbitrary origin (``time.monotonic``; tests pass their own).
    """

    def __init__(self, rate_per_s: float, burst: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError(f"a token bucket needs rate_per_s > 0 and burst >= 1, got "
                             f"{rate_per_s} and {burst}")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._forget_at = MAX_CLIENTS  # number of buckets at which some are forgotten

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate_per_s)

    def take(self, key: str, tokens: float = 1.0) -> float:
        """Take ``tokens`` from ``key``'s bucket when it holds them; return the seconds to wait.

        0.0 when they were taken, else the seconds to wait until the bucket will hold them
        (nothing taken then).
        """
        now = self.clock()
        held = self._tokens(key, now)
        if held < tokens:
            return (tokens - held) / self.rate_per_s
        if len(self._buckets) >= self._forget_at and key not in self._buckets:
            self._forget_fullest(now)
        self._buckets[key] = (held - tokens, now)
        return 0.0

    def charge(self, key: str, tokens: float) -> None:
        """Take ``tokens`` for work already done: the bucket may go into debt."""
        now = self.clock()
        self._buckets[key] = (self._tokens(key, now) - tokens, now)

    def _forget_fullest(self, now: float) -> None:
        """Forget buckets down to half of :data:`MAX_CLIENTS`, never one in debt.

        The fullest (then the oldest) go first; forgetting one in debt would let its client
        start afresh. When the debts alone hold more, they are all kept and the next scan
        waits for another ``MAX_CLIENTS // 2`` new keys (so a flood of addresses does not scan
        at every request).
        """
        half = MAX_CLIENTS // 2
        by_fullness = sorted(self._buckets.items(),
                             key=lambda item: (-self._tokens(item[0], now), item[1][1]))
        extra = len(by_fullness) - half
        forgettable = [key for key, _ in by_fullness[:max(0, extra)]
                       if self._tokens(key, now) >= 0]
        for key in forgettable:
            del self._buckets[key]
        self._forget_at = max(MAX_CLIENTS, len(self._buckets) + half)


def limited(path: str) -> bool:
    """Tell whether requests to ``path`` are counted."""
    return path.startswith(LIMITED_PREFIXES)


def client_network(address: str) -> str:
    """Return the key of a client address; used by the rate limit and the sign-in throttle alike.

    An IPv4 address is kept as it is, an IPv6 one becomes its /64 (``2001:db8:1:2::/64``; an
    IPv4-mapped one its IPv4 address), anything else (a test client's name) is kept as it is.
    """
    if ":" not in address:  # IPv4 or a name: no parsing on the hot path
        return address
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))


def client_key(scope: Scope) -> str:
    """Return the client of a request as :func:`client_network` keys it.

    ``""`` when the server gives no address.
    """
    client = scope.get("client")
    return client_network(str(client[0])) if client else ""


def too_many_requests(wait_s: float) -> tuple[Message, Message]:
    """Return the 429 answer (start and body messages) asking to come back in ``wait_s`` seconds."""
    retry_after = max(1, math.ceil(wait_s))
    body = orjson.dumps({"code": "TooManyRequests",
                         "description": f"too many requests from this address; retry after "
                                        f"{retry_after} s"})
    start = {"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()), (b"cache-control", b"no-store")]}
    return start, {"type": "http.response.body", "body": body}


class RateLimitMiddleware:
    """Refuse requests of a client whose bucket is empty with 429 (see the module's text).

    Parameters
    ----------
    app
        The wrapped ASGI app.
    rate_per_s, burst
        Of every client's :class:`TokenBuckets`; ``rate_per_s <= 0`` turns the limit off.
    clock
        For the buckets (tests).
    """

    def __init__(self, app: ASGIApp, rate_per_s: float, burst: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate_per_s, burst, clock) if rate_per_s > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an ASGI call, with 429 when the client's bucket is empty."""
        buckets = self.buckets
        if buckets is None or scope["type"] != "http" or not limited(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = client_key(scope)
        wait_s = buckets.take(key)
        if wait_s > 0:
            start, body = too_many_requests(wait_s)
            await send(start)
            await send(body)
            return
        charged = False
        sent = 0

        async def counting_send(message: Message) -> None:
            nonlocal charged, sent
            if message["type"] == "http.response.start":
                media = next((v for k, v in message.get("headers", []) if k.lower() == b"content-type"),
                             b"")
                charged = media.split(b";", 1)[0].strip().lower() in CHARGED_MEDIA
            elif message["type"] == "http.response.body" and charged:
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            if sent > FREE_BYTES:
                buckets.charge(key, (sent - FREE_BYTES) / BYTES_PER_TOKEN)
