"""CORS on the open data routes: any web page may read the schools, the OGC API and the tiles.

A web map on another site (OpenLayers, MapLibre, Leaflet) fetches ``/ogc/...`` tiles and
features across origins; without ``Access-Control-Allow-Origin`` the browser hides every
answer from it. The open data routes (:data:`PUBLIC_PREFIXES`) are read-only and public, so
they answer every origin with ``*`` and never with credentials: a browser then sends no
cookie along and no page of another site can act or read as a signed-in officer. Every
other route (pages, the finder's API, officer and planner workspaces) sends no CORS header,
so the browser keeps other sites out of them.

A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) on an open data route is
answered here, before the routes (which declare only ``GET``): ``GET`` and ``HEAD`` are
allowed, with the request headers a map client sends (``If-None-Match`` to revalidate a
tile, ``Accept-Crs`` ...), cached by the browser for a day.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The open data routes: OGC API Features and Tiles, the school list and downloads.
PUBLIC_PREFIXES = ("/ogc", "/api/schools", "/download/")
ALLOWED_METHODS = "GET, HEAD, OPTIONS"
#: Request headers a preflight may ask for (lower case); others are not granted.
ALLOWED_HEADERS = frozenset({"accept", "accept-language", "accept-crs", "content-type",
                             "if-none-match", "if-modified-since", "range"})
#: Answer headers a page may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = "Content-Crs, ETag, Link, Retry-After"
PREFLIGHT_MAX_AGE_S = "86400"


def is_public(path: str) -> bool:
    """Return whether ``path`` is an open data route that any origin may read."""
    return path.startswith(PUBLIC_PREFIXES)


def preflight_answer(headers: Headers) -> Response:
    """Answer a CORS preflight of an open data route (204).

    Only ``GET`` and ``HEAD`` are granted, and only the request headers of
    :data:`ALLOWED_HEADERS`; for anything else the browser finds no grant and refuses.
    """
    answer = Response(status_code=204, headers={"Vary": "Access-Control-Request-Headers"})
    if headers["access-control-request-method"] not in ("GET", "HEAD"):
        return answer
    asked = [h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",")]
    granted = [h for h in asked if h in ALLOWED_HEADERS]
    answer.headers.update({
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE_S,
    })
    if granted:
        answer.headers["Access-Control-Allow-Headers"] = ", ".join(granted)
    return answer


class PublicCorsMiddleware:
    """Grant every origin read access to the open data routes, and no other route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a preflight of an open data route, or add the grant to its answer."""
        if scope["type"] != "http" or not is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await preflight_answer(headers)(scope, receive, send)
            return

        async def send_with_grant(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                answer["Access-Control-Allow-Origin"] = "*"
                answer["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_grant)
