"""Issue 16.2: the settings an app is made with (``create_app(settings)``) are its only ones.

The environment says ``test`` with one secret; the app is made with ``production``, another
secret, another public origin and a sign-in limit of one failure. Every part that used to
read the environment itself (session and CSRF signatures, the Secure flag of cookies, HSTS,
the site's hosts, sign-in throttling) follows the app's settings, and the environment is
never touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from gis_service.settings import Settings, get_settings
from tests.conftest import database_env
from tests.support.signin import PASSWORD, add_staff, form_token
from tests.support.web import settle
from web import sessions
from web.app import create_app

APP_SECRET = "a-secret-of-this-app-only-not-of-the-environment"
PUBLIC_ORIGIN = "https://edugis.example"


@pytest.fixture
def app_settings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings unlike the environment's in every way the checks below can see."""
    add_staff(engine)
    with database_env(engine, monkeypatch):  # the environment: "test", its own secret
        yield Settings(environment="production", secret_key=APP_SECRET,
                       database_url=engine.url.render_as_string(hide_password=False),
                       public_origins=PUBLIC_ORIGIN, login_failures_per_pair=1)


@pytest.fixture
def client(app_settings: Settings) -> Iterator[TestClient]:
    environment = _edugis_environment()
    with TestClient(create_app(app_settings), base_url="https://testserver") as test_client:
        yield test_client
        settle(test_client.app)
    assert _edugis_environment() == environment  # never touched


def _edugis_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("EDUGIS_") or k == "DATABASE_URL"}


def test_the_environment_differs_from_the_apps_settings(app_settings: Settings) -> None:
    from_environment = get_settings()
    assert from_environment.environment == "test"
    assert from_environment.session_secret() != app_settings.session_secret()


def test_sessions_and_csrf_are_signed_with_the_apps_secret_and_secure(
        client: TestClient, app_settings: Settings) -> None:
    token = form_token(client)
    assert "secure" in client.get("/login").headers.get("set-cookie", "secure").lower()
    response = client.post("/login", data={"username": "officer1", "password": PASSWORD,
                                           "csrf_token": token, "next": "/officer"},
                           follow_redirects=False)
    assert response.status_code == 303
    cookies = response.headers.get_list("set-cookie")
    assert cookies and all("; secure" in cookie.lower() for cookie in cookies)  # production
    value = client.cookies.get(sessions.SESSION_COOKIE)
    assert sessions.read_session(app_settings, value) is not None
    assert sessions.read_session(get_settings(), value) is None  # not the environment's key
    assert client.get("/officer").status_code == 200


def test_hsts_follows_the_apps_environment(client: TestClient) -> None:
    assert client.get("/ogc").headers["strict-transport-security"] == "max-age=31536000"


def test_the_apps_public_origin_is_one_of_the_sites_hosts(client: TestClient) -> None:
    token = form_token(client)
    form = {"username": "officer1", "password": PASSWORD, "csrf_token": token}
    refused = client.post("/login", data=form, headers={"origin": "https://other.example"},
                          follow_redirects=False)
    assert refused.status_code == 403
    allowed = client.post("/login", data=form, headers={"origin": PUBLIC_ORIGIN},
                          follow_redirects=False)
    assert allowed.status_code == 303


def test_sign_in_is_throttled_by_the_apps_limits(client: TestClient) -> None:
    token = form_token(client)
    form = {"username": "planner1", "password": "not the password", "csrf_token": token}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 401
    # the environment's limit is 5 failures per account and address; the app's is 1
    assert client.post("/login", data=form, follow_redirects=False).status_code == 429
