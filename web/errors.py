"""Errors mapped to HTTP answers, in one place.

Here are the web's own errors (:class:`ApiError` and its kinds), the table of edugis errors
(:data:`ERROR_ANSWERS`), database faults (503 with ``Retry-After``) and
:func:`install_error_handlers`, which wires them into the app.

Every error is answered as ``{"code", "description"}`` JSON, or as a page in the user's
language for a browser asking for a page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NamedTuple

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.errors import (
    CRSError,
    DatabaseError,
    EdugisError,
    InputError,
    InvalidValueError,
    NotFoundError,
    StateError,
)
from gis_service.transactions import is_lost_race
from routing.finder import OffNetworkError
from web.deps import app_engine
from web.i18n import TEXTS, lang_of, translate
from web.security import BodyTooLargeError
from web.templating import TEMPLATES, language_context, render

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


class ErrorAnswer(NamedTuple):
    """Say how an edugis error is answered.

    By HTTP status, ``code``, and whether a browser gets a page (else JSON, whoever asks).
    """

    status: int
    code: str
    page: bool = True


#: The HTTP answer of each edugis error (:mod:`gis_service.errors`), found along the raised
#: error's class hierarchy, so a subclass (``ConflictError``, the rounds' ``RoundStateError``)
#: is answered as its base. ``DatabaseError`` is a database fault: a 503 with ``Retry-After``
#: (:func:`database_fault_response`), as the driver's connection errors are.
ERROR_ANSWERS: dict[type[EdugisError], ErrorAnswer] = {
    NotFoundError: ErrorAnswer(404, "NotFound"),
    # the action does not fit the state of what it acts on, or the data changed under it
    # (another import, run or override, ConflictError): the same request may work later
    StateError: ErrorAnswer(409, "Conflict"),
    # the loaded road network does not reach the point: answered once one that does is loaded
    OffNetworkError: ErrorAnswer(409, "OffRoadNetwork"),
    InputError: ErrorAnswer(422, "InvalidInput", page=False),
    CRSError: ErrorAnswer(400, "InvalidParameterValue", page=False),
    # a value a person gave that edugis refuses (an unknown level, mode, name): their mistake
    InvalidValueError: ErrorAnswer(400, "InvalidParameterValue"),
}


def error_answer(exc: EdugisError) -> ErrorAnswer | None:
    """Return the answer of ``exc`` in :data:`ERROR_ANSWERS`, or ``None`` when it has none."""
    for cls in type(exc).__mro__:
        if issubclass(cls, EdugisError) and cls in ERROR_ANSWERS:
            return ERROR_ANSWERS[cls]
    return None


def _error_body(code: str, description: str) -> dict[str, Any]:
    return {"code": code, "description": description}


MACHINE_PREFIXES = ("/api/", "/ogc", "/download/", "/static/", "/healthz", "/readyz",
                    "/internal/")


def wants_html(request: Request) -> bool:
    """Tell whether this is a page request from a browser (JSON for the APIs, whatever they accept)."""
    if request.url.path.startswith(MACHINE_PREFIXES) or request.url.path.endswith(".csv"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(request: Request, status: int, code: str, description: str,
                   headers: Mapping[str, str] | None = None) -> Response:
    """Answer the error as JSON, or as a page in the user's language for browsers."""
    if wants_html(request):
        # the page's title says what happened in words; the code (e.g. "NotFound") is for programs
        title = translate(f"http_{status}", lang_of(request)) if f"http_{status}" in TEXTS else code
        return _error_page(request, status, title, description, headers)
    return JSONResponse(_error_body(code, description), status_code=status,
                        headers=dict(headers) if headers else None)


def in_language(request: Request, key: str) -> str:
    """Return the text ``key`` in the page's language for browsers, in both for other clients."""
    vi, en = TEXTS[key]
    return translate(key, lang_of(request)) if wants_html(request) else f"{vi} / {en}"


def _error_page(request: Request, status: int, title: str, message: str,
                headers: Mapping[str, str] | None) -> Response:
    context = {"status": status, "title": title, "message": message, "next": request.url.path}
    if status == 503:
        page = _page_without_database(request, context)
    else:
        try:
            page = render(request, app_engine(request), "error.html", context, status_code=status)
        except Exception as exc:  # the database failed while the page was drawn
            if database_fault(exc) is None:
                raise
            page = _page_without_database(request, context)
    page.headers.update(headers or {})
    return page


def _page_without_database(request: Request, context: dict[str, Any]) -> Response:
    """Draw the error page from the request alone.

    No signed-in user and no data date: both read the database, which may be what failed.
    """
    return TEMPLATES.TemplateResponse(request, "error.html", {
        **language_context(request), "user": None, "csrf": "", "data_date": None,
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
    """Classify ``exc`` as a fault of the database rather than of the request or the code.

    ``"read_only"`` or ``"unavailable"`` when ``exc``, or an error it was raised from, is
    such a fault; ``None`` otherwise.
    """
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
    """Answer a database fault with 503 and ``Retry-After``.

    ``kind`` comes from :func:`database_fault`. Browsers get a page in the user's language,
    drawn without the database; the APIs get ``{"code", "description"}`` in Vietnamese
    then English.
    """
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if wants_html(request):
        lang = lang_of(request)
        return _error_page(request, 503, translate(f"db_{kind}_title", lang),
                           translate(f"db_{kind}", lang), headers)
    vi, en = TEXTS[f"db_{kind}"]
    return JSONResponse(_error_body(FAULT_CODES[kind], f"{vi} / {en}"), status_code=503,
                        headers=headers)


async def _api_error(request: Request, exc: ApiError) -> Response:
    """Answer an :class:`ApiError` with its status, code and description."""
    return error_response(request, exc.status, exc.code, exc.description)


async def _edugis_error(request: Request, exc: Exception) -> Response:
    """Answer an edugis error of :data:`ERROR_ANSWERS` (input problems listed)."""
    answer = error_answer(exc) if isinstance(exc, EdugisError) else None
    if answer is None:  # registered for the table's classes only
        raise exc
    if answer.page:
        return error_response(request, answer.status, answer.code, str(exc))
    body = _error_body(answer.code, str(exc))
    if isinstance(exc, InputError):
        body["problems"] = [str(p) for p in exc.problems]
    return JSONResponse(body, status_code=answer.status)


async def _nul_in_text(request: Request, exc: sa_exc.DataError) -> Response:
    """Answer a NUL character in text sent to SQL with 400; re-raise other data errors."""
    # PostgreSQL text cannot hold NUL, so a "%00" in a parameter that reaches SQL is the
    # client's mistake (a 400), whichever endpoint it came through; any other DataError
    # is a bug and stays a 500.
    if "0x00" not in str(exc.orig):
        raise exc
    return error_response(request, 400, "InvalidParameterValue",
                          "a parameter contains a NUL character (%00), which no text here can hold")


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Answer invalid parameters with 400, one ``location: message`` per problem."""
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return JSONResponse(_error_body("InvalidParameterValue", "; ".join(parts)), status_code=400)


async def _http(request: Request, exc: StarletteHTTPException) -> Response:
    """Answer an HTTP exception with its status and a code naming it."""
    code = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
            413: "PayloadTooLarge"}.get(exc.status_code, "HTTPError")
    return error_response(request, exc.status_code, code, str(exc.detail), exc.headers)


async def _too_large(request: Request, exc: BodyTooLargeError) -> Response:
    """Answer a body over the limit with 413."""
    # raised by SecurityMiddleware's reading of a body sent without a length
    return error_response(request, 413, "PayloadTooLarge", in_language(request, "body_too_large"))


async def _database_fault(request: Request, exc: Exception) -> Response:
    """Answer a lost race with 409 and a database fault with 503; re-raise other errors."""
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


def _server_error(request: Request, exc: Exception) -> Response:
    """Answer what no other handler took: a database fault, a body too large or a 500."""
    # Starlette's ServerErrorMiddleware calls this for what no handler above took, errors
    # raised in a middleware included; it re-raises afterwards, so the server logs them
    kind = database_fault(exc)
    if kind is not None:
        return database_fault_response(request, kind)
    if isinstance(exc, BodyTooLargeError):  # a middleware read the body
        return error_response(request, 413, "PayloadTooLarge", in_language(request, "body_too_large"))
    vi, en = TEXTS["server_error"]
    return error_response(request, 500, "InternalServerError", f"{vi} / {en}")


def install_error_handlers(app: FastAPI) -> None:
    """Map edugis and API errors to JSON answers with the right status, in one place."""
    app.exception_handler(ApiError)(_api_error)
    for error_type in ERROR_ANSWERS:
        app.add_exception_handler(error_type, _edugis_error)
    app.exception_handler(sa_exc.DataError)(_nul_in_text)
    app.exception_handler(RequestValidationError)(_validation)
    app.exception_handler(StarletteHTTPException)(_http)
    app.exception_handler(BodyTooLargeError)(_too_large)
    for fault in (*UNAVAILABLE_ERRORS, sa_exc.InternalError, psycopg.InternalError):
        app.add_exception_handler(fault, _database_fault)
    app.add_exception_handler(Exception, _server_error)
