"""An officer signed in to the app on a given database, for the round and export tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from gis_service.accounts import create_user
from tests.conftest import database_env
from tests.support.web import PASSWORD, login, settle
from web.app import create_app


@contextmanager
def officer_session(engine: Engine, monkeypatch: pytest.MonkeyPatch
                    ) -> Iterator[tuple[TestClient, str]]:
    """A client of the app on ``engine`` signed in as a new officer, and the officer's name."""
    name = f"officer_{uuid.uuid4().hex[:6]}"
    create_user(engine, name, PASSWORD, "officer")
    with database_env(engine, monkeypatch), TestClient(create_app()) as client:
        login(client, name)
        yield client, name
        settle(client.app)
