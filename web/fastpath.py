"""A pure-ASGI fast lane for the two hot public answers: nearest schools and cached tiles.

A parent's pin drag and a map pan send many small requests; FastAPI's routing, dependency
solving and parameter validation cost more than the answers themselves (a prepared
nearest-school search, a tile from the in-process cache). This middleware answers exactly
those cases itself and passes every other request, and every request it cannot answer
plainly, on to the app unchanged. It sits inside :class:`web.security.SecurityMiddleware`,
so the answers carry the same security headers.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from web.public_api import nearest_fast
from web.tiles import tile_fast

DIGITS = frozenset("0123456789")  # str.isdigit() also takes "²" and other scripts' digits


class FastPathMiddleware:
    """Answer warm ``GET /api/nearest`` and cached tile requests before the router."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an ASGI call from the fast path when it can, else pass it to the app."""
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path == "/api/nearest":
                if await nearest_fast(scope, send):
                    return
            elif path.startswith("/ogc/") and path[-1:] in DIGITS and await tile_fast(scope, send):
                return
        await self.app(scope, receive, send)
