"""What FastAPI's OpenAPI document (``/internal/openapi.json``) must say that it cannot guess.

The error answers of :func:`web.errors.install_error_handlers` are declared here once: a route
adds the ones it can send (``responses={**NOT_FOUND}``), and :func:`declare_errors` replaces
FastAPI's own 422 "Validation Error" (never sent: a request that breaks the parameters gets a
400) by :data:`BAD_REQUEST` on every operation that has parameters, and adds the 429 of the
rate limit (:mod:`web.rate_limit`) where it applies. The response classes give the real
media types of GeoJSON and CSV answers.

The patterns say what a text parameter admits, exactly (the server enforces the same), so
that every request the document calls valid is answered: :data:`TEXT` and :func:`one_of`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from web.rate_limit import limited

#: Any text without NUL, which no PostgreSQL text can hold.
TEXT = "^[^\\x00]*$"


#: Coordinates of a point (the server refuses any other with a 400).
Lon = Annotated[float, Query(ge=-180, le=180, description="Longitude (WGS84)")]
Lat = Annotated[float, Query(ge=-90, le=90, description="Latitude (WGS84)")]


def one_of(values: Iterable[str], empty: bool = False) -> str:
    """Return a pattern admitting exactly ``values`` (and the empty text when ``empty``)."""
    choices = [re.escape(v) for v in values] + ([""] if empty else [])
    return f"^(?:{'|'.join(choices)})$"


class GeoJSONResponse(JSONResponse):
    """A JSON answer served (and documented) as ``application/geo+json``."""

    media_type = "application/geo+json"


class CSVResponse(Response):
    """A CSV answer served (and documented) as ``text/csv`` (UTF-8)."""

    media_type = "text/csv"


class ErrorBody(BaseModel):
    """The JSON body of every error answer."""

    code: str = Field(description="Short machine-readable code, e.g. InvalidParameterValue")
    description: str = Field(description="What went wrong and what to change")


Responses = dict[int | str, dict[str, Any]]
_SCHEMAS = (ErrorBody,)


def _error(description: str) -> dict[str, Any]:
    ref = f"#/components/schemas/{ErrorBody.__name__}"
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


BAD_REQUEST = _error("A parameter is missing, malformed or out of range")
NOT_FOUND: Responses = {404: _error("What the request names does not exist")}
NO_ROAD_NETWORK: Responses = {409: _error("No road network is loaded, or it does not reach the point")}
TOO_MANY_REQUESTS = {**_error("Too many requests from this client address: retry after the delay "
                              "given"),
                     "headers": {"Retry-After": {"description": "Seconds to wait before retrying",
                                                 "schema": {"type": "integer", "minimum": 1}}}}


def declare_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Return ``document`` with the error answers really sent declared.

    FastAPI's 422 "Validation Error" is replaced by :data:`BAD_REQUEST` on every operation
    that has parameters or a body, :data:`TOO_MANY_REQUESTS` is added on the rate-limited
    ones, and the error bodies' schemas are added.
    """
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.get("responses", {})
            ref = responses.get("422", {}).get("content", {}).get("application/json", {}).get(
                "schema", {}).get("$ref", "")
            if ref.endswith("/HTTPValidationError"):
                del responses["422"]
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault("400", BAD_REQUEST)
            if limited(path):
                responses.setdefault("429", TOO_MANY_REQUESTS)
            operation["responses"] = dict(sorted(responses.items()))
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update({body.__name__: body.model_json_schema() for body in _SCHEMAS})
    return document
