"""Property-based tests of the APIs with schemathesis, on the demo city, in-process (ASGI).

Schemathesis reads an OpenAPI document and, for every operation, sends generated requests
through the app: schema-valid ones and, in the negative mode, ones that break the document.

- The OGC API (the hand-built OpenAPI 3.0 document at ``/ogc/api``): no server error, the
  answers conform to the document (status code, content type, headers, body schema),
  requests that break the document are refused with a 4xx, and requests that keep to it are
  answered (``positive_data_acceptance``: no 400 for a schema-valid request).
- The public JSON API (``/api/...`` and ``/download/...`` in FastAPI's OpenAPI 3.1 document at
  ``/internal/openapi.json``): the same checks. The document declares the error answers really
  sent (400 for a bad parameter instead of FastAPI's 422 "Validation Error", 404/409 where
  a route can send them) and the media types ``application/geo+json`` and ``text/csv``; see
  ``web.api_docs``.

So the documents say exactly what the server accepts: patterns for modes, levels, codes and
minutes (``web.api_docs``), the calendar in the ``datetime`` pattern, a ``bbox`` of 4 or 6
numbers, each collection's own ``limit`` maximum. What OpenAPI 3.0 cannot say has a meaning
instead of a 400: a bbox crossing the antimeridian (as the standard allows), beyond the
poles, or with its corners the wrong way round (it holds nothing), an interval that ends
before it starts (it holds no instant). A point the road network does not reach is a 409
(``OffRoadNetwork``), like a missing road network: the request is right, the data lacks.

The rate limit is off here: the generated requests all come from one address, thousands a
second (tests/security/test_rate_limit.py checks the limit; both documents declare its 429).
"""

from __future__ import annotations

import os
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
from web.collections import COLLECTIONS

if os.environ.get("PYTEST_XDIST_WORKER"):
    # the generated cases would be left out and the tests pass having checked nothing
    raise pytest.UsageError("tests/web/test_schemathesis.py runs without pytest-xdist (-n): "
                            "its generated cases are not run by xdist's workers (bin/test runs "
                            "it on its own)")

# Serving the documents touches no database, so they are read at collection time.
OGC = schemathesis.openapi.from_asgi("/ogc/api", create_app())
PUBLIC = schemathesis.openapi.from_asgi("/internal/openapi.json", create_app()).include(
    path_regex="^/(api|download)/")

CONFORMANCE = [
    checks.not_a_server_error,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.positive_data_acceptance,
    checks.missing_required_header,
    checks.unsupported_method,
    checks.status_code_conformance,
    checks.content_type_conformance,
]
SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


@schemathesis.hook
def before_call(context: Any, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    """OGC API - Features says a ``limit`` above the maximum is served as the maximum, not
    refused (/req/core/fc-limit-response-1); send it as the collection's maximum, so that the
    case is revalidated and the rest of it still has to be refused if it breaks the document."""
    limit = (case.query or {}).get("limit")
    found = re.fullmatch("/collections/([^/]+)/items", case.operation.path)
    if case.operation.schema.location != "/ogc/api" or not found or not isinstance(limit, int | str):
        return
    maximum = COLLECTIONS[found.group(1)].max_limit
    if re.fullmatch("[0-9]+", str(limit)) and int(limit) > maximum:
        case.query["limit"] = type(limit)(maximum)


@pytest.fixture(scope="module")
def app(demo_engine: Engine) -> Iterator[FastAPI]:
    """The app on the demo city, shared by every generated case of the module."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("EDUGIS_RATE_LIMIT_PER_S", "0")
        with database_env(demo_engine, monkeypatch):
            yield create_app()


@OGC.parametrize()
@settings(max_examples=60, **SETTINGS)
def test_ogc_api(case: schemathesis.Case, app: FastAPI) -> None:
    case.call_and_validate(app=app, checks=CONFORMANCE)


@PUBLIC.parametrize()
@settings(max_examples=60, **SETTINGS)
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
    ("/api/schools?district=%00", 400, "should match pattern"),
    ("/api/schools/%00", 400, "should match pattern"),
    ("/api/route?lon=106.7&lat=10.7&school=%00", 400, "should match pattern"),
    ("/api/cutoff-outlook?schools=%00", 400, "should match pattern"),
])
def test_found_server_errors_are_clear_client_errors(app: FastAPI, url: str, status: int,
                                                     says: str) -> None:
    with TestClient(app) as client:
        response = client.get(url)
    assert response.status_code == status
    assert says in response.json()["description"]
