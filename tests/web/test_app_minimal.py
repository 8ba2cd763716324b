"""The app serves real data from PostGIS (the full web journeys are issue 6)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from gis_service import db, settings
from web.app import create_app


@pytest.fixture
def client(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DATABASE_URL", demo_engine.url.render_as_string(hide_password=False))
    settings.get_settings.cache_clear()
    db.reset_engines()
    with TestClient(create_app()) as test_client:
        yield test_client
    settings.get_settings.cache_clear()
    db.reset_engines()


def test_home_page_lists_demo_schools_in_vietnamese_first(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert html.index("Hệ thống GIS giáo dục") < html.index("Education GIS")
    assert "Quận Mẫu 1" in html and "OpenStreetMap" in html


def test_summary_counts_match_the_database(client: TestClient, demo_engine: Engine) -> None:
    import sqlalchemy as sa

    rows = client.get("/api/schools/summary").json()
    with demo_engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM schools")).scalar_one()
    assert sum(r["schools"] for r in rows) == total
    assert client.get("/healthz").json() == {"status": "ok"}
