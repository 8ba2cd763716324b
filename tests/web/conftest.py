"""Web fixtures: the app pointed at a test database, as in-process clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import database_env
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
