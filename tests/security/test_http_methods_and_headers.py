"""HEAD on every GET route, HSTS in production only, no-store on staff and sign-in answers,
no blank Swagger page, no ``server`` header, and the security headers on a bug's 500 too."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import Request
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from gis_service import settings
from gis_service.accounts import create_user
from tests.conftest import database_env
from tests.support.web import PASSWORD, csrf, login, settle
from web.app import create_app
from web.security import CSP, HSTS

#: A value for each path parameter of the app's GET routes (unknown ones answer 404: fine,
#: what is checked is that HEAD reaches the route as GET does).
PATH_VALUES = {"collection_id": "schools", "tms": "WebMercatorQuad", "z": "0", "y": "0", "x": "0",
               "round_id": "no-such-round", "applicant_id": "A1", "ownership": "public",
               "kind": "applicants"}


@pytest.fixture
def client(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of the app on the shared demo city (read-only tests)."""
    with database_env(demo_engine, monkeypatch), TestClient(create_app()) as test_client:
        yield test_client
        settle(test_client.app)


def get_paths(app: object, school_code: str) -> list[str]:
    """Every GET route of ``app`` with its path parameters filled in, and a static file."""
    values = {**PATH_VALUES, "code": school_code, "feature_id": school_code}
    paths = []
    for route in iter_route_contexts(app.routes):  # type: ignore[attr-defined]
        if "GET" in (route.methods or ()):
            paths.append(re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], route.path))
    return [*paths, "/static/css/app.css"]


def test_head_answers_every_get_route_as_get_does_without_a_body(
        client: TestClient, demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        code = conn.execute(sa.text("SELECT min(code) FROM schools")).scalar_one()
    paths = get_paths(client.app, code)
    assert len(paths) > 40 and "/api/schools/{code}" not in paths
    for path in paths:
        got, head = client.get(path), client.head(path)
        assert head.status_code != 405, path
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        assert head.headers["content-security-policy"] == CSP, path
    assert client.head("/logout").status_code == 405  # a POST-only route stays so


def test_head_goes_through_the_fast_lanes(client: TestClient) -> None:
    nearest = "/api/nearest?lon=106.66&lat=10.76&level=primary&k=3"
    assert client.get(nearest).status_code == 200  # prepares the search: the next is fast
    fast, head = client.get(nearest), client.head(nearest)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == fast.headers["content-length"] != "0"
    tile = "/ogc/collections/schools/tiles/WebMercatorQuad/12/1924/3262"
    assert client.get(tile).status_code == 200  # now in the tile cache
    head = client.head(tile)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == client.get(tile).headers["content-type"]


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("EDUGIS_ENVIRONMENT", "production")
    monkeypatch.setenv("EDUGIS_SECRET_KEY", "a-production-secret-for-the-hsts-test")
    settings.get_settings.cache_clear()
    yield
    settings.get_settings.cache_clear()


def test_hsts_only_in_production(client: TestClient, production_env: None) -> None:
    assert "strict-transport-security" not in client.get("/ogc").headers  # built in "test"
    with TestClient(create_app(), raise_server_exceptions=False) as production:
        for response in (production.get("/ogc"), production.get("/nowhere"),
                         production.post("/ogc", content=b"x" * (21 * 1024 * 1024))):
            assert response.headers["strict-transport-security"] == HSTS[1].decode()
        settle(production.app)


@pytest.fixture
def staff_client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app on an empty database, an officer and a planner in it; nobody signed in."""
    create_user(engine, "officer1", PASSWORD, "officer")
    create_user(engine, "planner1", PASSWORD, "planner")
    with database_env(engine, monkeypatch), TestClient(create_app()) as client:
        yield client
        settle(client.app)


def test_staff_pages_exports_and_sign_in_are_never_stored(staff_client: TestClient) -> None:
    public = staff_client.get("/ogc/collections/schools/items")
    assert public.status_code == 200 and "no-store" not in public.headers.get("cache-control", "")
    form = staff_client.get("/login")
    assert form.headers["cache-control"] == "no-store"
    login(staff_client, "officer1")
    round_id = f"r-{uuid.uuid4().hex[:6]}"
    created = staff_client.post("/officer/rounds", data={"round_id": round_id, "grade": "10",
                                                         "year": "2026", "csrf_token": csrf(staff_client)},
                                follow_redirects=False)
    assert created.status_code == 303 and created.headers["cache-control"] == "no-store"
    base = f"/officer/rounds/{round_id}"
    for path in ("/officer", base, f"{base}/applicants.csv", f"{base}/address-checks.csv"):
        response = staff_client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
    staff_client.post("/logout", data={"csrf_token": csrf(staff_client)})
    login(staff_client, "planner1")
    # no planning run on an empty database: the export's 404 is the planner's answer too
    for path, status in (("/planner", 200), ("/planner/sites.geojson?run_id=none", 404)):
        response = staff_client.get(path)
        assert response.status_code == status, path
        assert response.headers["cache-control"] == "no-store", path
    refused = staff_client.get("/officer")
    assert refused.status_code == 403 and refused.headers["cache-control"] == "no-store"


def test_no_swagger_page_that_the_csp_would_blank(client: TestClient) -> None:
    for path in ("/internal/docs", "/docs/oauth2-redirect", "/docs", "/redoc"):
        assert client.get(path).status_code == 404, path
    assert client.get("/internal/openapi.json").status_code == 200  # the document stays


def test_a_bug_is_a_500_with_the_security_headers(engine: Engine,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app()

    @app.get("/api/bug")
    def bug() -> None:
        raise RuntimeError("a bug")

    with database_env(engine, monkeypatch), \
            TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/bug")
        assert response.status_code == 500
        assert response.json()["code"] == "InternalServerError"
        assert response.headers["content-security-policy"] == CSP
        page = client.get("/api/bug", headers={"accept": "text/html"})
        assert page.headers["x-frame-options"] == "DENY"
        settle(client.app)


def test_a_body_too_large_without_a_length_is_a_413_with_the_security_headers(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app()

    @app.post("/api/echo-length")
    async def echo_length(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    def chunks() -> Iterator[bytes]:  # no content-length: the limit is met while reading
        for _ in range(22):
            yield b"x" * (1024 * 1024)

    with database_env(engine, monkeypatch), TestClient(app) as client:
        assert client.post("/api/echo-length", content=b"x" * 10).json() == {"bytes": 10}
        response = client.post("/api/echo-length", content=chunks())
        assert response.status_code == 413
        assert response.json()["code"] == "PayloadTooLarge"
        assert response.headers["content-security-policy"] == CSP
        settle(client.app)


def test_edugis_serve_names_no_server(engine: Engine, free_tcp_port: int) -> None:
    port = free_tcp_port
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "EDUGIS_ENVIRONMENT": "test", "EDUGIS_SECRET_KEY": "test-secret-key-for-serve"}
    edugis = Path(sys.executable).with_name("edugis")
    server = subprocess.Popen([str(edugis), "serve", "--port", str(port), "--workers", "1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stderr.read().decode()  # type: ignore[union-attr]
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "edugis serve did not start"
                time.sleep(0.5)
        assert response.status == 200 and response.read() == b'{"status":"ok"}'
        assert response.getheader("server") is None
        assert response.getheader("date") is not None
        assert response.getheader("content-security-policy") == CSP
        connection.request("HEAD", "/healthz")  # over real HTTP too
        head = connection.getresponse()
        assert head.status == 200 and head.getheader("server") is None
        assert head.getheader("content-length") == "15" and head.read() == b""
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()  # type: ignore[union-attr]
