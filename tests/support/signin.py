"""Sign-in helpers of the session, throttle and origin tests: staff accounts, the login form,
and session cookies made by hand."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from gis_service.accounts import create_user
from gis_service.settings import get_settings
from tests.conftest import database_env
from tests.support.web import settle
from web import sessions
from web.app import create_app

PASSWORD = "Ngân hàng đề 2026"
ROUND = "sec-2026-g1"


def add_staff(engine: Engine) -> None:
    """An officer, a planner and an admin, and a round of the officer with two applicants."""
    for name, role in (("officer1", "officer"), ("planner1", "planner"), ("admin1", "admin")):
        create_user(engine, name, PASSWORD, role)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO admission_rounds (id, grade, year) VALUES (:r, 1, 2026)"),
                     {"r": ROUND})
        conn.execute(sa.text("INSERT INTO round_officers (round_id, username)"
                             " VALUES (:r, 'officer1')"), {"r": ROUND})
        conn.execute(sa.text(
            "INSERT INTO applicants (round_id, applicant_id, ward_code, residence_type, tier, geom)"
            " SELECT :r, 'PRIVATE-' || i, 'W1', 'thuong_tru', 1,"
            " ST_SetSRID(ST_Point(106.70 + i * 0.001, 10.77), 4326) FROM generate_series(1, 2) i"),
            {"r": ROUND})


@contextmanager
def staff_app(engine: Engine, monkeypatch: pytest.MonkeyPatch,
              client_address: str = "testclient", **env: str) -> Iterator[TestClient]:
    """A client of the app on ``engine`` holding ``add_staff``'s accounts, with the extra
    ``EDUGIS_*`` settings of ``env`` (``login_backoff_s="1"``, ...)."""
    add_staff(engine)
    for name, value in env.items():
        monkeypatch.setenv(f"EDUGIS_{name.upper()}", value)
    with database_env(engine, monkeypatch), \
            TestClient(create_app(), client=(client_address, 50000)) as client:
        yield client
        settle(client.app)


def form_token(client: TestClient) -> str:
    """The CSRF token of the sign-in form (and so of the cookie)."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return token.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD,
          headers: Mapping[str, str] | None = None) -> httpx.Response:
    """Post the sign-in form as a browser would (form token first)."""
    token = form_token(client)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token, "next": "/officer"},
                       headers=dict(headers or {}), follow_redirects=False)


def session_cookie(client: TestClient) -> str:
    """The client's session cookie value."""
    value = client.cookies.get(sessions.SESSION_COOKIE)
    assert value, "not signed in"
    return value


def signed_body(body: bytes) -> str:
    """A session cookie of ``body`` (raw JSON bytes) signed with the app's real key.

    The apps of these tests are made with the environment's settings.
    """
    payload = sessions.b64(body)
    return f"{payload}.{sessions.sign(get_settings(), 'session', payload)}"
