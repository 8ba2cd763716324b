"""Database faults answer 503 with Retry-After and the security headers, never a bare 500.

Real faults, no mocks: a database whose sessions are read-only (``ALTER DATABASE ... SET
default_transaction_read_only``), a server that refuses connections (a closed port), and a
database dropped under a running app. ``/healthz`` needs a write, ``/readyz`` reads only.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from gis_service import db
from gis_service.accounts import create_user
from gis_service.health import code_revisions
from tests.conftest import database_env
from tests.support.web import settle
from web.app import create_app
from web.errors import RETRY_AFTER_S, database_fault
from web.health import writable
from web.i18n import translate
from web.security import CSP

PASSWORD = "officer password 1"
HTML = {"accept": "text/html,application/xhtml+xml"}


def assert_503(response: object, code: str | None = None) -> None:
    """503 with Retry-After and the security headers; JSON ``{"code", "description"}`` unless
    a page."""
    assert response.status_code == 503, response.text  # type: ignore[attr-defined]
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["retry-after"] == str(RETRY_AFTER_S)
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    if code is not None:
        assert headers["content-type"].startswith("application/json")
        body = response.json()  # type: ignore[attr-defined]
        assert body["code"] == code and set(body) == {"code", "description"}


def closed_port_url() -> str:
    """A database URL on a local TCP port nobody listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://edugis@127.0.0.1:{port}/edugis"


def make_read_only(engine: Engine) -> None:
    """New sessions of ``engine``'s database start read-only; pooled ones are closed."""
    name = engine.url.database
    maintenance = db.create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    maintenance.dispose()
    engine.dispose()


@pytest.fixture
def read_only_client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app on a migrated database holding one officer, made read-only before it starts."""
    create_user(engine, "officer_ro", PASSWORD, "officer")
    make_read_only(engine)
    with database_env(engine, monkeypatch), \
            TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client
        settle(client.app)


@pytest.fixture
def unreachable_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app configured with a database server that refuses every connection."""
    nowhere = db.create_engine(closed_port_url())
    with database_env(nowhere, monkeypatch), \
            TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client
        settle(client.app)
    nowhere.dispose()


def test_healthz_needs_a_write_and_readyz_only_reads(read_only_client: TestClient) -> None:
    health = read_only_client.get("/healthz")
    assert_503(health, "DatabaseReadOnly")
    assert "read-only" in health.json()["description"]
    ready = read_only_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "schema": sorted(code_revisions())}


def test_a_read_only_database_serves_reads_and_refuses_writes_with_503(
        read_only_client: TestClient, engine: Engine) -> None:
    assert read_only_client.get("/api/schools/summary").status_code == 200
    form = read_only_client.get("/login")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    signed_in = read_only_client.post(
        "/login", data={"username": "officer_ro", "password": PASSWORD,
                        "csrf_token": token.group(1)}, headers=HTML, follow_redirects=False)
    assert_503(signed_in)  # signing in is audited: a write
    assert signed_in.headers["content-type"].startswith("text/html")
    assert translate("db_read_only", "vi") in signed_in.text
    assert "edugis_session" not in signed_in.headers.get("set-cookie", "")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() == 0


def test_an_unreachable_database_answers_503_to_apis_pages_and_probes(
        unreachable_client: TestClient) -> None:
    for path in ("/api/schools/summary", "/ogc/collections/schools/items", "/healthz", "/readyz"):
        assert_503(unreachable_client.get(path), "DatabaseUnavailable")
    for path in ("/", "/schools", "/login"):
        page = unreachable_client.get(path, headers=HTML)
        assert_503(page)
        assert page.headers["content-type"].startswith("text/html")


def test_the_503_page_is_vietnamese_first_with_english_available(
        unreachable_client: TestClient) -> None:
    page = unreachable_client.get("/schools?level=primary", headers=HTML)
    assert_503(page)
    assert '<html lang="vi">' in page.text
    assert translate("db_unavailable_title", "vi") in page.text
    assert translate("db_unavailable", "vi") in page.text
    assert translate("db_unavailable", "en") not in page.text
    assert 'href="?level=primary&amp;lang=en" hreflang="en"' in page.text
    english = unreachable_client.get("/schools?level=primary&lang=en", headers=HTML)
    assert_503(english)
    assert '<html lang="en">' in english.text
    assert translate("db_unavailable", "en") in english.text
    assert translate("try_again", "en") in english.text


def test_a_database_dropped_under_a_running_app_answers_503(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with database_env(engine, monkeypatch), \
            TestClient(create_app(), raise_server_exceptions=False) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/api/schools/summary").status_code == 200
        settle(client.app)
        engine.dispose()
        db.drop_database(engine.url.render_as_string(hide_password=False))
        assert_503(client.get("/api/schools/summary"), "DatabaseUnavailable")
        time.sleep(writable.max_age_s)  # probes share one write a second (web.health)
        assert_503(client.get("/healthz"), "DatabaseUnavailable")
        settle(client.app)


class DatabaseFirstMiddleware:
    """A middleware that reads the database before the app (as a throttle shared by workers
    would): its errors are raised past FastAPI's exception handlers."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        await self.app(scope, receive, send)


def test_a_fault_raised_in_a_middleware_is_a_503_with_the_security_headers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = db.create_engine(closed_port_url())
    app = create_app()
    app.add_middleware(DatabaseFirstMiddleware, engine=nowhere)
    with database_env(nowhere, monkeypatch), \
            TestClient(app, raise_server_exceptions=False) as client:
        assert_503(client.get("/ogc"), "DatabaseUnavailable")
        assert_503(client.get("/", headers=HTML))
    nowhere.dispose()


def test_database_fault_tells_faults_from_bugs(engine: Engine) -> None:
    with pytest.raises(sa.exc.DataError) as bug, engine.connect() as conn:
        conn.execute(sa.text("SELECT 1 / 0"))
    assert database_fault(bug.value) is None
    nowhere = db.create_engine(closed_port_url())
    with pytest.raises(sa.exc.OperationalError) as down, nowhere.connect():
        pass
    assert database_fault(down.value) == "unavailable"
    assert database_fault(RuntimeError("the finder could not load")) is None
    try:
        raise RuntimeError("the finder could not load") from down.value
    except RuntimeError as wrapped:
        assert database_fault(wrapped) == "unavailable"
    make_read_only(engine)
    with pytest.raises(sa.exc.InternalError) as read_only, engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = version_num"))
    assert database_fault(read_only.value) == "read_only"


def test_a_lost_race_outside_write_transaction_is_a_409_not_a_503(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deadlock is an OperationalError to SQLAlchemy; it is not the database being down."""
    import psycopg

    app = create_app()

    @app.get("/api/race")
    def race() -> None:
        raise sa.exc.OperationalError("UPDATE ...", {}, psycopg.errors.DeadlockDetected("deadlock"))

    with database_env(engine, monkeypatch), \
            TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/race")
        page = client.get("/api/race", headers=HTML)
    assert answer.status_code == 409 and answer.json()["code"] == "Conflict"
    assert "send the request again" in answer.json()["description"]
    assert "retry-after" not in answer.headers and page.status_code == 409
