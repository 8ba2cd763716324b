"""The app factory serves real data from PostGIS with security headers on every answer."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine


def test_summary_counts_match_the_database(client: TestClient, demo_engine: Engine) -> None:
    rows = client.get("/api/schools/summary").json()
    with demo_engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM schools")).scalar_one()
    assert sum(r["schools"] for r in rows) == total
    assert client.get("/healthz").json() == {"status": "ok"}


def test_security_headers_on_every_answer(client: TestClient) -> None:
    for url in ("/healthz", "/ogc", "/ogc/collections/nope", "/static/vendor/leaflet/leaflet.js"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "http" not in csp  # no external host
        assert headers["x-content-type-options"] == "nosniff"


def test_oversized_body_is_refused_with_413(client: TestClient) -> None:
    response = client.post("/healthz", content=b"x" * (21 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["description"].startswith("Tệp hoặc dữ liệu gửi lên quá lớn. / The file")


def test_error_pages_say_what_happened_in_the_pages_language(client: TestClient) -> None:
    """A browser gets a title in words in its language, not the code meant for programs."""
    page = {"Accept": "text/html"}
    for url, title in (("/nowhere", "404 — Không tìm thấy"), ("/nowhere?lang=en", "404 — Not found"),
                       ("/schools/NOPE?lang=en", "404 — Not found")):
        answer = client.get(url, headers=page)
        assert answer.status_code == 404 and f"<h1>{title}</h1>" in answer.text, url
        assert "NotFound" not in answer.text


def test_every_edugis_error_has_its_status_not_a_500(empty_client: TestClient) -> None:
    """One table (web.errors.ERROR_ANSWERS) answers each kind of edugis error."""
    from gis_service.errors import (
        ConflictError,
        InputError,
        InvalidValueError,
        NotFoundError,
        Problem,
        StateError,
    )

    errors = {
        "invalid": (InvalidValueError("unknown level 'college'"), 400),
        "missing": (NotFoundError("no such school"), 404),
        "state": (StateError("round r is published"), 409),
        "conflict": (ConflictError("the inputs changed"), 409),
        "input": (InputError([Problem("f.csv", 2, "lon", "not a number")]), 422),
    }
    app = empty_client.app

    @app.get("/api/raise/{kind}")
    def raising(kind: str) -> None:
        raise errors[kind][0]

    for kind, (error, status) in errors.items():
        answer = empty_client.get(f"/api/raise/{kind}")
        assert answer.status_code == status, kind
        assert str(error).split(";")[0][:20] in answer.json()["description"], kind
