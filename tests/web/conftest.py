"""Web fixtures: the app pointed at a test database, as in-process clients or on a loopback
port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy.engine import Engine

from tests.conftest import database_env
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, require_chromium, serve
from tests.support.web import settle
from web.app import create_app


@pytest.fixture
def client(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of the app on the shared demo city (read-only tests)."""
    with database_env(demo_engine, monkeypatch), TestClient(create_app()) as test_client:
        yield test_client
        settle(test_client.app)


@pytest.fixture
def empty_client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of the app on a fresh empty database (tests that write)."""
    with database_env(engine, monkeypatch), TestClient(create_app()) as test_client:
        yield test_client
        settle(test_client.app)


@pytest.fixture(scope="module")
def live(demo_engine: Engine) -> Iterator[LiveServer]:
    """The app on the shared demo city, served on a loopback port for one test module."""
    yield from serve(demo_engine)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium for one test module."""
    require_chromium()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
