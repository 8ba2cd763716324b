"""The FastAPI app factory: OGC APIs, public JSON API, pages, auth and security headers.

``web.cli`` runs it with ``uvicorn.run("web.app:create_app", factory=True)``. The database
is reached on the first request, not at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from gis_service.settings import get_settings
from web import compare, health, officer, ogc_features, pages, parent_api, planner, public_api, tiles
from web.api_docs import declare_errors
from web.auth import check_origin
from web.compression import GzipMiddleware
from web.deps import install_error_handlers
from web.fastpath import FastPathMiddleware
from web.head import HeadMiddleware
from web.rate_limit import RateLimitMiddleware
from web.security import SecurityMiddleware
from web.sessions import SessionRenewalMiddleware

STATIC = Path(__file__).parent / "static"


class App(FastAPI):
    """FastAPI whose OpenAPI document declares the error answers really sent (web.api_docs)."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = declare_errors(super().openapi())
        return self.openapi_schema

    def build_middleware_stack(self) -> ASGIApp:
        """The security headers wrap everything, Starlette's ``ServerErrorMiddleware``
        included (``add_middleware`` would put them inside it, and a 500 or a 503 answered
        there would go out bare); HEAD is answered as GET before any route or fast lane."""
        return SecurityMiddleware(HeadMiddleware(super().build_middleware_stack()))


def create_app() -> FastAPI:
    """Build the app; FastAPI's own (3.1) OpenAPI document lives at
    ``/internal/openapi.json``, the OGC 3.0 one at ``/ogc/api``.

    No Swagger UI page: FastAPI's loads its script and style from a CDN, which the CSP
    (rightly) blocks, so it only ever showed a blank page.
    """
    app = App(title="edugis", version="0.1.0", docs_url=None,
              openapi_url="/internal/openapi.json", redoc_url=None,
              dependencies=[Depends(check_origin)])  # no cross-site POST (web.auth)
    install_error_handlers(app)
    settings = get_settings()
    app.add_middleware(SessionRenewalMiddleware)  # innermost: sliding session cookies
    app.add_middleware(FastPathMiddleware)  # inside the security headers (App wraps them all)
    # gzip outermost, then the rate limit (it counts the bytes before compression; its 429s
    # carry the security headers themselves)
    app.add_middleware(RateLimitMiddleware, rate_per_s=settings.rate_limit_per_s,
                       burst=settings.rate_limit_burst)
    app.add_middleware(GzipMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(ogc_features.router)
    app.include_router(tiles.router)
    app.include_router(public_api.router)
    app.include_router(parent_api.router)
    app.include_router(pages.router)
    app.include_router(compare.router)
    app.include_router(officer.router)
    app.include_router(planner.router)
    app.include_router(health.router)
    return app
