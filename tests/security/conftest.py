"""Security fixtures: an app on a writable demo city that reads data versions on every call."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import database_env
from tests.web.conftest import settle
from web.app import create_app


@pytest.fixture
def fresh_client(demo_copy: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of a writable demo city whose app sees every committed change at once."""
    with database_env(demo_copy, monkeypatch), TestClient(create_app()) as client:
        client.app.state.data_versions.max_age_s = 0.0  # type: ignore[attr-defined]
        yield client
        settle(client.app)


def wait_for(condition: Callable[[], bool], timeout_s: float = 90.0) -> None:
    """Poll ``condition`` until true; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the change was not seen in time"
        time.sleep(0.2)
