"""HEAD on every GET route: the request is answered as a GET whose body is not sent.

FastAPI's routes accept only the methods they declare, so a HEAD (link checkers, monitors,
caches revalidating) got 405. Answering it here, outside the routing and outside the fast lane
of ``web.fastpath``, gives every GET route its HEAD with the same status and headers
(``content-length`` included, as RFC 9110 §9.3.2 allows), with no route declaring it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadMiddleware:
    """Turn ``HEAD`` into ``GET`` for the app and drop the body of the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an ASGI call; a ``HEAD`` is run as ``GET`` and sent without its body."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            elif message["type"] == "http.response.pathsend":  # a file the server would send
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
