"""Shared fixtures: a throw-away PostGIS database per session (and per test where asked),
on the embedded cluster or on the server in DATABASE_URL; paths to the real HCMC data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from gis_service import db, settings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from basemaps.road_layer import RoadLayer

REPO = Path(__file__).resolve().parent.parent


def hcmc_data_dir() -> Path:
    return Path(os.environ.get("EDUGIS_HCMC_DATA", REPO.parent / "shared" / "data" / "hcmc"))


@pytest.fixture(scope="session")
def hcmc() -> Path:
    """The real HCMC data folder; tests using it skip, with the reason, when it is absent."""
    path = hcmc_data_dir()
    if not (path / "SOURCES.md").exists():
        pytest.skip(f"real HCMC data not found at {path} (set EDUGIS_HCMC_DATA)")
    return path


@pytest.fixture(scope="session")
def quan1_layer(hcmc: Path) -> RoadLayer:
    """District 1 (osmnx 2025 drive graph, 1,000 nodes): routing and road-line tests."""
    from basemaps.roads import read_roads

    layer, _ = read_roads(hcmc / "roads" / "hcmc_quan1_osmnx_2025-03.graphml")
    return layer


@pytest.fixture(scope="session")
def template_url() -> Iterator[str]:
    """A migrated database used as the template of every per-test database."""
    url = make_url(db.server_url()).set(database=f"edugis_tpl_{uuid.uuid4().hex[:8]}")
    rendered = url.render_as_string(hide_password=False)
    db.prepare(rendered)
    yield rendered
    db.drop_database(rendered)


def _clone(template: str) -> str:
    target = make_url(template)
    name = f"edugis_t_{uuid.uuid4().hex[:10]}"
    maintenance = db.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{target.database}"'))
    maintenance.dispose()
    return target.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def engine(template_url: str) -> Iterator[Engine]:
    """A fresh, empty, migrated database for one test."""
    url = _clone(template_url)
    engine = db.create_engine(url)
    yield engine
    engine.dispose()
    db.drop_database(url)


@pytest.fixture(scope="session")
def demo_engine(template_url: str) -> Iterator[Engine]:
    """One database holding the demo city, shared by the read-only tests of a session."""
    from basemaps.demo_city import generate_demo_city
    from web.demo_data import load_demo_city

    url = _clone(template_url)
    engine = db.create_engine(url)
    load_demo_city(engine, generate_demo_city())
    yield engine
    engine.dispose()
    db.drop_database(url)


@pytest.fixture
def demo_copy(demo_engine: Engine) -> Iterator[Engine]:
    """A writable copy of the demo city database, for tests that change it."""
    demo_engine.dispose()  # a template database must have no open connections
    url = _clone(demo_engine.url.render_as_string(hide_password=False))
    engine = db.create_engine(url)
    yield engine
    engine.dispose()
    db.drop_database(url)


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of every core table: compare before/after to prove nothing changed."""
    tables = ["admin_units", "schools", "basemaps", "road_nodes", "road_edges", "population",
              "enrolment", "cutoffs", "admission_rounds", "applicants"]
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


@contextmanager
def database_env(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Within the block, settings (``DATABASE_URL``) point at ``engine``'s database.

    Settings and cached engines are dropped on the way in and out, so code that calls
    ``get_engine()`` (the CLI, the app) reaches this database and nothing leaks to the
    next test.
    """
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("EDUGIS_ENVIRONMENT", "test")
    monkeypatch.setenv("EDUGIS_SECRET_KEY", "test-secret-key-for-web-tests")
    settings.get_settings.cache_clear()
    db.reset_engines()
    try:
        yield
    finally:
        settings.get_settings.cache_clear()
        db.reset_engines()


@pytest.fixture
def fresh_client(demo_copy: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of the app on a writable demo city that sees every committed change at once
    (it reads the data versions on every call)."""
    from fastapi.testclient import TestClient

    from tests.support.web import settle
    from web.app import create_app

    with database_env(demo_copy, monkeypatch), TestClient(create_app()) as client:
        client.app.state.data_versions.max_age_s = 0.0  # type: ignore[attr-defined]
        yield client
        settle(client.app)  # no read may outlive the database
