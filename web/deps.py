"""Shared FastAPI dependencies (``Annotated`` aliases) and the mapping of errors to HTTP codes."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.changes import DataVersions
from gis_service.db import get_engine
from gis_service.errors import ConflictError, CRSError, InputError, NotFoundError


class ApiError(Exception):
    """An error answered as ``{"code", "description"}`` JSON with an HTTP status.

    Parameters
    ----------
    status
        HTTP status code (4xx for the client's mistakes).
    code
        Short machine-readable code, e.g. ``InvalidParameterValue``.
    description
        Human-readable explanation of what to change.
    """

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description


class BadRequestError(ApiError):
    """A 400 for an unknown or invalid query parameter."""

    def __init__(self, description: str, code: str = "InvalidParameterValue") -> None:
        super().__init__(400, code, description)


class NotFoundHTTPError(ApiError):
    """A 404 for an unknown collection, feature, school or tile matrix set."""

    def __init__(self, description: str) -> None:
        super().__init__(404, "NotFound", description)


_ENGINE_LOCK = threading.Lock()


def app_engine(request: Request) -> Engine:
    """The database engine, created (and migrated) once, on first use, kept on the app's state.

    The lock matters: Alembic's migration context is process-global, so two first requests
    in parallel threads must not both run ``get_engine``.
    """
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        with _ENGINE_LOCK:
            engine = getattr(request.app.state, "engine", None)
            if engine is None:
                engine = get_engine()
                request.app.state.engine = engine
    return engine


EngineDep = Annotated[Engine, Depends(app_engine)]


_VERSIONS_LOCK = threading.Lock()


def data_versions(state: Any) -> DataVersions:
    """The app's view of the data versions (``request.app.state``), made on first use."""
    versions: DataVersions | None = getattr(state, "data_versions", None)
    if versions is None:
        with _VERSIONS_LOCK:
            versions = getattr(state, "data_versions", None)
            if versions is None:
                versions = state.data_versions = DataVersions()
    return versions


def _error_body(code: str, description: str) -> dict[str, Any]:
    return {"code": code, "description": description}


MACHINE_PREFIXES = ("/api/", "/ogc", "/download/", "/static/", "/healthz", "/internal/")


def wants_html(request: Request) -> bool:
    """True for page requests from a browser (JSON for the APIs, whatever they accept)."""
    if request.url.path.startswith(MACHINE_PREFIXES) or request.url.path.endswith(".csv"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(request: Request, status: int, code: str, description: str,
                   headers: Mapping[str, str] | None = None) -> Response:
    """The error as JSON, or as a page in the user's language for browsers."""
    if wants_html(request):
        from web.pages import render  # pages import this module

        return render(request, app_engine(request), "error.html", {
            "status": status, "title": code, "message": description,
            "next": request.url.path}, status_code=status)
    return JSONResponse(_error_body(code, description), status_code=status,
                        headers=dict(headers) if headers else None)


def install_error_handlers(app: FastAPI) -> None:
    """Map edugis and API errors to JSON answers with the right status, in one place."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_response(request, exc.status, exc.code, exc.description)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> Response:
        return error_response(request, 404, "NotFound", str(exc))

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> Response:
        # the data changed under the request (another import, run or override): a 409, and
        # the same request may simply be made again
        return error_response(request, 409, "Conflict", str(exc))

    @app.exception_handler(CRSError)
    async def _crs_error(request: Request, exc: CRSError) -> JSONResponse:
        return JSONResponse(_error_body("InvalidParameterValue", str(exc)), status_code=400)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        body = _error_body("InvalidInput", str(exc))
        body["problems"] = [str(p) for p in exc.problems]
        return JSONResponse(body, status_code=422)

    @app.exception_handler(sa_exc.DataError)
    async def _nul_in_text(request: Request, exc: sa_exc.DataError) -> Response:
        # PostgreSQL text cannot hold NUL, so a "%00" in a parameter that reaches SQL is the
        # client's mistake (a 400), whichever endpoint it came through; any other DataError
        # is a bug and stays a 500.
        if "0x00" not in str(exc.orig):
            raise exc
        return error_response(request, 400, "InvalidParameterValue",
                              "a parameter contains a NUL character (%00), which no text here can hold")

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse(_error_body("InvalidParameterValue", "; ".join(parts)), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
                413: "PayloadTooLarge"}.get(exc.status_code, "HTTPError")
        return error_response(request, exc.status_code, code, str(exc.detail), exc.headers)
