"""Web fixtures: the app pointed at a test database, as in-process clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from gis_service import db, settings
from web.app import create_app


def _point_settings_at(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("EDUGIS_ENVIRONMENT", "test")
    monkeypatch.setenv("EDUGIS_SECRET_KEY", "test-secret-key-for-web-tests")
    settings.get_settings.cache_clear()
    db.reset_engines()


@pytest.fixture
def client(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of the app on the shared demo city (read-only tests)."""
    _point_settings_at(demo_engine, monkeypatch)
    with TestClient(create_app()) as test_client:
        yield test_client
    settings.get_settings.cache_clear()
    db.reset_engines()


@pytest.fixture
def empty_client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of the app on a fresh empty database (tests that write)."""
    _point_settings_at(engine, monkeypatch)
    with TestClient(create_app()) as test_client:
        yield test_client
    settings.get_settings.cache_clear()
    db.reset_engines()
