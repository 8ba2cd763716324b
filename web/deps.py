"""Shared FastAPI dependencies (``Annotated`` aliases) and the mapping of errors to HTTP codes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.changes import DataVersions
from gis_service.db import get_engine
from gis_service.errors import ConflictError, CRSError, DatabaseError, InputError, NotFoundError
from gis_service.transactions import is_lost_race
from web.i18n import TEXTS, lang_of, translate
from web.security import BodyTooLargeError

logger = logging.getLogger(__name__)


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


MACHINE_PREFIXES = ("/api/", "/ogc", "/download/", "/static/", "/healthz", "/readyz",
                    "/internal/")


def wants_html(request: Request) -> bool:
    """True for page requests from a browser (JSON for the APIs, whatever they accept)."""
    if request.url.path.startswith(MACHINE_PREFIXES) or request.url.path.endswith(".csv"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(request: Request, status: int, code: str, description: str,
                   headers: Mapping[str, str] | None = None) -> Response:
    """The error as JSON, or as a page in the user's language for browsers."""
    if wants_html(request):
        return _error_page(request, status, code, description, headers)
    return JSONResponse(_error_body(code, description), status_code=status,
                        headers=dict(headers) if headers else None)


def _error_page(request: Request, status: int, title: str, message: str,
                headers: Mapping[str, str] | None) -> Response:
    context = {"status": status, "title": title, "message": message, "next": request.url.path}
    if status == 503:
        page = _page_without_database(request, context)
    else:
        from web.pages import render  # pages import this module

        try:
            page = render(request, app_engine(request), "error.html", context, status_code=status)
        except Exception as exc:  # the database failed while the page was drawn
            if database_fault(exc) is None:
                raise
            page = _page_without_database(request, context)
    page.headers.update(headers or {})
    return page


def _page_without_database(request: Request, context: dict[str, Any]) -> Response:
    """The error page drawn from the request alone: no signed-in user and no data date, as
    both read the database, which may be what failed."""
    from web.pages import TEMPLATES

    lang = lang_of(request)
    other = "en" if lang == "vi" else "vi"
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    return TEMPLATES.TemplateResponse(request, "error.html", {
        "lang": lang, "other_lang": other, "other_lang_query": urlencode({**query, "lang": other}),
        "t": lambda key: translate(key, lang), "user": None, "csrf": "", "data_date": None,
        **context}, status_code=context["status"])


#: Seconds a client is asked to wait (``Retry-After``) when the database cannot serve it.
RETRY_AFTER_S = 30
#: SQLSTATE of "cannot execute ... in a read-only transaction": a database or session set
#: read-only (maintenance), or a hot standby.
READ_ONLY_SQLSTATE = "25006"
#: Errors that mean the database cannot answer now (down, restarting, unreachable, out of
#: connections, locked past a timeout), not that the request or the code is wrong.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
    psycopg.OperationalError, psycopg.InterfaceError, DatabaseError)
FAULT_CODES = {"read_only": "DatabaseReadOnly", "unavailable": "DatabaseUnavailable"}


def database_fault(exc: BaseException) -> str | None:
    """``"read_only"`` or ``"unavailable"`` when ``exc``, or an error it was raised from, is
    a fault of the database rather than of the request or the code; ``None`` otherwise."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        driver_error = getattr(current, "orig", current)  # SQLAlchemy wraps psycopg's error
        if getattr(driver_error, "sqlstate", None) == READ_ONLY_SQLSTATE:
            return "read_only"
        if isinstance(current, UNAVAILABLE_ERRORS):
            return "unavailable"
        current = current.__cause__
    return None


def database_fault_response(request: Request, kind: str) -> Response:
    """The 503 of a database fault (``kind`` from :func:`database_fault`), with
    ``Retry-After``: a page in the user's language for browsers, drawn without the database;
    ``{"code", "description"}`` in Vietnamese then English for the APIs."""
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if wants_html(request):
        lang = lang_of(request)
        return _error_page(request, 503, translate(f"db_{kind}_title", lang),
                           translate(f"db_{kind}", lang), headers)
    vi, en = TEXTS[f"db_{kind}"]
    return JSONResponse(_error_body(FAULT_CODES[kind], f"{vi} / {en}"), status_code=503,
                        headers=headers)


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

    @app.exception_handler(BodyTooLargeError)
    async def _too_large(request: Request, exc: BodyTooLargeError) -> Response:
        # raised by SecurityMiddleware's reading of a body sent without a length
        return error_response(request, 413, "PayloadTooLarge", "request body too large")

    async def _database_fault(request: Request, exc: Exception) -> Response:
        if is_lost_race(exc):  # a deadlock or serialization failure outside write_transaction
            vi, en = TEXTS["lost_race"]
            return error_response(request, 409, "Conflict", f"{vi} / {en}")
        kind = database_fault(exc)
        if kind is None:  # e.g. an InternalError that is not about read-only: a bug, a 500
            raise exc
        # answered, so the server does not log it: one line says what the clients met
        logger.warning("database %s: 503 for %s %s (%s)", kind, request.method,
                       request.url.path, str(exc).partition("\n")[0])
        return database_fault_response(request, kind)

    for fault in (*UNAVAILABLE_ERRORS, sa_exc.InternalError, psycopg.InternalError):
        app.add_exception_handler(fault, _database_fault)

    def _server_error(request: Request, exc: Exception) -> Response:
        # Starlette's ServerErrorMiddleware calls this for what no handler above took, errors
        # raised in a middleware included; it re-raises afterwards, so the server logs them
        kind = database_fault(exc)
        if kind is not None:
            return database_fault_response(request, kind)
        if isinstance(exc, BodyTooLargeError):  # a middleware read the body
            return error_response(request, 413, "PayloadTooLarge", "request body too large")
        vi, en = TEXTS["server_error"]
        return error_response(request, 500, "InternalServerError", f"{vi} / {en}")

    app.add_exception_handler(Exception, _server_error)
