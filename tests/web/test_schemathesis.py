"""Property-based tests of the APIs with schemathesis, on the demo city, in-process (ASGI).

Schemathesis reads an OpenAPI document and, for every operation, sends generated requests
through the app: schema-valid ones and, in the negative mode, ones that break the document.

- The OGC API (the hand-built OpenAPI 3.0 document at ``/ogc/api``): no server error, and the
  answers conform to the document (status code, content type, headers, body schema), and
  requests that break the document are refused with a 4xx.
- The public JSON API (``/api/...`` and ``/download/...`` in FastAPI's OpenAPI 3.1 document at
  ``/internal/openapi.json``): the same checks. The document declares the error answers really
  sent (400 for a bad parameter instead of FastAPI's 422 "Validation Error", 404/409 where
  a route can send them) and the media types ``application/geo+json`` and ``text/csv``; see
  ``web.api_docs``.

``positive_data_acceptance`` (every schema-valid request gets a 2xx) is not run: OpenAPI
cannot say that a ``bbox``'s lower corner must not exceed its upper one, that a ``datetime``
interval must not end before it starts or name a day the calendar lacks, that ``bbox-crs``
needs ``bbox``, or that a point must lie near a road; the server answers those with a 400 and
a clear description.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import checks
from sqlalchemy.engine import Engine

from tests.conftest import database_env
from web.app import create_app
from web.ogc_features import MAX_LIMIT

# Serving the documents touches no database, so they are read at collection time.
OGC = schemathesis.openapi.from_asgi("/ogc/api", create_app())
PUBLIC = schemathesis.openapi.from_asgi("/internal/openapi.json", create_app()).include(
    path_regex="^/(api|download)/")

CONFORMANCE = [
    checks.not_a_server_error,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.missing_required_header,
    checks.unsupported_method,
    checks.status_code_conformance,
    checks.content_type_conformance,
]
SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


@schemathesis.hook
def before_call(context: Any, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    """OGC API - Features says a ``limit`` above the maximum is served as the maximum, not
    refused (/req/core/fc-limit-definition); send it as the maximum, so that the case is
    revalidated and the rest of it still has to be refused if it breaks the document."""
    limit = (case.query or {}).get("limit")
    if case.operation.schema.location != "/ogc/api" or not isinstance(limit, int | str):
        return
    if re.fullmatch("[0-9]+", str(limit)) and int(limit) > MAX_LIMIT:
        case.query["limit"] = type(limit)(MAX_LIMIT)


@pytest.fixture(scope="module")
def app(demo_engine: Engine) -> Iterator[FastAPI]:
    """The app on the demo city, shared by every generated case of the module."""
    with pytest.MonkeyPatch.context() as monkeypatch, database_env(demo_engine, monkeypatch):
        yield create_app()


@OGC.parametrize()
@settings(max_examples=20, **SETTINGS)
def test_ogc_api(case: schemathesis.Case, app: FastAPI) -> None:
    case.call_and_validate(app=app, checks=CONFORMANCE)


@PUBLIC.parametrize()
@settings(max_examples=10, **SETTINGS)
def test_public_api(case: schemathesis.Case, app: FastAPI) -> None:
    case.call_and_validate(app=app, checks=CONFORMANCE)


def test_public_document_declares_the_real_answers() -> None:
    paths = create_app().openapi()["paths"]
    answers = {(path, status): list(response.get("content", {}))
               for path, operations in paths.items() if path.startswith(("/api/", "/download/"))
               for status, response in operations["get"]["responses"].items()}
    assert answers[("/api/schools", "200")] == ["application/geo+json"]
    assert answers[("/api/schools", "400")] == ["application/json"]
    assert answers[("/download/schools.csv", "200")] == ["text/csv"]
    assert ("/api/schools/{code}", "404") in answers
    assert ("/api/schools/summary", "400") not in answers
    assert ("/api/route", "409") in answers and ("/api/isochrone", "409") in answers
    assert not [key for key in answers if key[1] == "422"]


# ---- the server errors schemathesis found, pinned --------------------------------------------

@pytest.mark.parametrize(("url", "status", "says"), [
    ("/ogc/collections/schools/items?offset=9223372036854775808", 400, "offset must be at most"),
    ("/ogc/collections/schools/items?level=%00", 400, "contains a NUL character"),
    ("/ogc/collections/schools/items/%00", 404, "no feature"),
    ("/ogc/collections/schools/items?crs=", 400, "crs='' is not supported"),
    ("/ogc/collections/roads/items?bbox=0,0,1,1&bbox-crs=", 400, "bbox-crs='' is not supported"),
    ("/ogc/collections/wards/items?datetime=", 400, "RFC 3339"),
    ("/ogc/collections/wards/items?datetime=2026-01-01T10", 400, "RFC 3339"),
    ("/api/schools?district=%00", 400, "NUL character"),
    ("/api/schools/%00", 400, "NUL character"),
    ("/api/route?lon=106.7&lat=10.7&school=%00", 400, "NUL character"),
    ("/api/cutoff-outlook?schools=%00", 400, "NUL character"),
])
def test_found_server_errors_are_clear_client_errors(app: FastAPI, url: str, status: int,
                                                     says: str) -> None:
    with TestClient(app) as client:
        response = client.get(url)
    assert response.status_code == status
    assert says in response.json()["description"]
