"""The FastAPI app factory: OGC APIs, public JSON API, pages, auth and security headers.

``web.cli`` runs it with ``uvicorn.run("web.cli:served_app", factory=True)`` (and
``uvicorn.run("web.app:create_app", factory=True)`` works too). The app's lifespan holds
what it serves from, on ``app.state``: the settings, the database (:class:`Database`,
reached, brought up and migrated on the first request, not at start, so the app starts and
answers 503 while the database is down), the data versions, the tile cache, the finder's
road graphs and the gate of large pages; at shutdown it waits for their background reads
and closes the database's connections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp

from gis_service.changes import DataVersions
from gis_service.db import Database
from gis_service.settings import Settings, get_settings
from routing.finder import FinderState
from web import compare, health, officer, ogc_features, pages, parent_api, planner, public_api, tiles
from web import streaming as streaming_pages
from web.api_docs import declare_errors
from web.auth import check_origin
from web.compression import GzipMiddleware
from web.cors import PublicCorsMiddleware
from web.errors import install_error_handlers
from web.fastpath import FastPathMiddleware
from web.head import HeadMiddleware
from web.large_pages import LargePageGate
from web.planner_scenarios import router as scenarios_router
from web.rate_limit import RateLimitMiddleware
from web.security import SecurityMiddleware
from web.sessions import SessionRenewalMiddleware
from web.tiles import TileCache

STATIC = Path(__file__).parent / "static"


class App(FastAPI):
    """FastAPI made with its settings, whose OpenAPI document declares the errors really sent.

    The settings are the app's only ones (``app.state.settings`` for the routes); the error
    answers are those of ``web.api_docs``.
    """

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.state.settings = settings

    def openapi(self) -> dict[str, Any]:
        """Return the OpenAPI document, built once, with the error answers declared."""
        if self.openapi_schema is None:
            self.openapi_schema = declare_errors(super().openapi())
        return self.openapi_schema

    def build_middleware_stack(self) -> ASGIApp:
        """Wrap the middleware stack in the security headers, then answer HEAD as GET.

        The security headers wrap everything, Starlette's ``ServerErrorMiddleware`` included
        (``add_middleware`` would put them inside it, and a 500 or a 503 answered there would
        go out bare); HEAD is answered as GET before any route or fast lane. HSTS is sent in
        the production environment of the app's settings.
        """
        return SecurityMiddleware(HeadMiddleware(super().build_middleware_stack()),
                                  hsts=self.settings.environment == "production")


#: Work done once the app's state is ready and before it answers (``edugis serve`` prepares
#: the finder's searches there).
StartHook = Callable[[FastAPI], None]


def lifespan(settings: Settings, engine: Engine | None, on_start: StartHook | None
             ) -> Callable[[FastAPI], Any]:
    """Return the app's lifespan: its state made at start, on ``app.state``, closed at shutdown."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings, engine)
        versions = DataVersions()
        finder = FinderState(versions)
        app.state.settings = settings
        app.state.database = database
        app.state.data_versions = versions
        app.state.tile_cache = TileCache(folder=settings.cache_path / "tiles")
        app.state.finder = finder
        # one large page at a time, one queued per client (web.large_pages); made here, in
        # the app's event loop
        app.state.large_pages = LargePageGate()
        try:
            if on_start is not None:
                on_start(app)
            yield
        finally:
            finder.join()  # no background read may outlive the engine
            versions.join()
            database.dispose()

    return run


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               on_start: StartHook | None = None) -> FastAPI:
    """Build the app.

    FastAPI's own (3.1) OpenAPI document lives at ``/internal/openapi.json``, the OGC 3.0 one
    at ``/ogc/api``. No Swagger UI page: FastAPI's loads its script and style from a CDN,
    which the CSP (rightly) blocks, so it only ever showed a blank page.

    Parameters
    ----------
    settings
        The settings to run with, the app's only ones (``app.state.settings``: sessions,
        CSRF, sign-in limits, site hosts, HSTS, rate limit, database); ``None`` reads the
        environment's (:func:`get_settings`) once, here.
    engine
        Serve this engine's (migrated) database instead of the configured one (tests).
    on_start
        Called with the app once its state is ready, before it answers.
    """
    settings = settings or get_settings()
    app = App(settings, title="edugis", version="0.1.0", docs_url=None,
              openapi_url="/internal/openapi.json", redoc_url=None,
              dependencies=[Depends(check_origin)],  # no cross-site POST (web.auth)
              lifespan=lifespan(settings, engine, on_start))
    install_error_handlers(app)
    app.add_middleware(SessionRenewalMiddleware)  # innermost: sliding session cookies
    app.add_middleware(FastPathMiddleware)  # inside the security headers (App wraps them all)
    # gzip outermost, then the rate limit (it counts the bytes before compression; its 429s
    # get the security headers from SecurityMiddleware, which App wraps around everything)
    app.add_middleware(RateLimitMiddleware, rate_per_s=settings.rate_limit_per_s,
                       burst=settings.rate_limit_burst)
    app.add_middleware(GzipMiddleware)
    app.add_middleware(PublicCorsMiddleware)  # outermost: 429s and errors carry the grant too
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(ogc_features.router)
    app.include_router(tiles.router)
    app.include_router(public_api.router)
    app.include_router(parent_api.router)
    app.include_router(pages.router)
    app.include_router(compare.router)
    app.include_router(officer.router)
    app.include_router(planner.router)
    app.include_router(streaming_pages.router)
    app.include_router(scenarios_router)
    app.include_router(health.router)
    return app
