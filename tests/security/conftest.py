"""Security fixtures: an app on a writable demo city that reads data versions on every call."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import database_env
from tests.support.web import settle
from web.app import create_app


@pytest.fixture
def fresh_client(demo_copy: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of a writable demo city whose app sees every committed change at once."""
    with database_env(demo_copy, monkeypatch), TestClient(create_app()) as client:
        client.app.state.data_versions.max_age_s = 0.0  # type: ignore[attr-defined]
        yield client
        settle(client.app)
