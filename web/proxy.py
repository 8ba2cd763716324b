"""Reverse proxies: which connections are ones, and the peer a request really came from.

``edugis serve`` lets uvicorn believe ``X-Forwarded-For`` and ``X-Forwarded-Proto`` only from
the proxies of ``EDUGIS_FORWARDED_ALLOW_IPS``; uvicorn then replaces the ASGI client with the
forwarded one, and the app could no longer tell whether the connection came from a proxy.
:class:`ProxyPeerMiddleware` runs uvicorn's own proxy-header middleware inside the app after
noting the connection's peer in the scope, so the same-origin rule (``web.auth``) believes
``X-Forwarded-Host`` from those proxies only.
"""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

__all__ = ["PEER_SCOPE_KEY", "ProxyPeerMiddleware", "peer_address", "trusted_proxy"]

#: Scope key of the connection's peer address, set before the proxy headers are applied.
PEER_SCOPE_KEY = "edugis.peer"


def trusted_proxy(peer: str | None, allowed: str) -> bool:
    """Tell whether ``peer`` is one of ``allowed``.

    ``allowed`` holds comma-separated addresses or networks, ``*`` for any: the syntax of
    ``EDUGIS_FORWARDED_ALLOW_IPS``.
    """
    if not peer:
        return False
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(peer)
    except ValueError:
        address = None  # a unix socket's name, a test client's
    for item in (part.strip() for part in allowed.split(",")):
        if item == "*" or item == peer:
            return True
        if address is not None and item:
            try:
                if address in ipaddress.ip_network(item, strict=False):
                    return True
            except ValueError:
                continue
    return False


def peer_address(scope: Scope) -> str | None:
    """Return the address of the connection's peer.

    That is the one :class:`ProxyPeerMiddleware` noted, else the ASGI client (no proxy
    headers applied).
    """
    noted = scope.get(PEER_SCOPE_KEY)
    if isinstance(noted, str):
        return noted
    client = scope.get("client")
    return str(client[0]) if client else None


class ProxyPeerMiddleware:
    """Note the peer, then apply uvicorn's proxy headers from trusted hosts.

    The peer goes in :data:`PEER_SCOPE_KEY`; uvicorn's ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` are applied from ``trusted_hosts`` (run uvicorn with
    ``proxy_headers=False``).
    """

    def __init__(self, app: ASGIApp, trusted_hosts: str) -> None:
        self.app = ProxyHeadersMiddleware(app, trusted_hosts=trusted_hosts)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an ASGI call after noting the peer and applying trusted proxy headers."""
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            scope[PEER_SCOPE_KEY] = str(client[0]) if client else ""
        await self.app(scope, receive, send)  # type: ignore[arg-type]
