"""What FastAPI's OpenAPI document (``/internal/openapi.json``) must say that it cannot guess.

The error answers of :func:`web.deps.install_error_handlers` are declared here once: a route
adds the ones it can send (``responses={**NOT_FOUND}``), and :func:`declare_errors` replaces
FastAPI's own 422 "Validation Error" (never sent: a request that breaks the parameters gets a
400) by :data:`BAD_REQUEST` on every operation that has parameters. The response classes give
the real media types of GeoJSON and CSV answers.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field


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
NO_ROAD_NETWORK: Responses = {409: _error("No road network is loaded")}


def declare_errors(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with FastAPI's 422 "Validation Error" replaced by :data:`BAD_REQUEST` on
    every operation that has parameters or a body, and the error bodies' schemas added."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            ref = responses.get("422", {}).get("content", {}).get("application/json", {}).get(
                "schema", {}).get("$ref", "")
            if ref.endswith("/HTTPValidationError"):
                del responses["422"]
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault("400", BAD_REQUEST)
            operation["responses"] = dict(sorted(responses.items()))
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update({body.__name__: body.model_json_schema() for body in _SCHEMAS})
    return document
