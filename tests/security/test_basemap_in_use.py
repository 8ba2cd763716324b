"""Issue 12.8: importing a small roads file must not replace the city's routing; only an
explicit, audited ``edugis basemap use NAME`` does, and the data page names the one in use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from tests.support.web import wait_for
from web.cli import app as cli

HOME = {"lon": 106.65, "lat": 10.75, "level": "primary", "k": 3}


def three_features(path: Path) -> Path:
    """Three joined road lines near the demo city's home, in WGS84: a 2-edge network."""
    lines = [[(106.6500, 10.7500), (106.6510, 10.7500)], [(106.6510, 10.7500), (106.6520, 10.7500)],
             [(106.6520, 10.7500), (106.6520, 10.7510)]]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"highway": "residential"},
         "geometry": {"type": "LineString", "coordinates": line}} for line in lines]}))
    return path


def test_a_small_roads_import_leaves_the_city_routing_alone(
        fresh_client: TestClient, demo_copy: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    before = fresh_client.get("/api/nearest", params=HOME).json()
    assert before["basemap"] == "demo"
    imported = runner.invoke(cli, ["import", "roads", str(three_features(tmp_path / "tiny.geojson")),
                                   "--crs", "EPSG:4326"])
    assert imported.exit_code == 0, imported.output
    assert "imported but not in use (in use: demo)" in imported.output
    assert "edugis basemap use tiny" in imported.output
    with demo_copy.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM basemaps")).scalar_one() == 2
    # the finder would reload within 2 s of a change it follows: give it twice that, then
    # check it still answers from the city's network, with the same schools
    fresh_client.app.state.data_versions.join()  # type: ignore[attr-defined]
    assert fresh_client.get("/api/nearest", params=HOME).json() == before
    page = fresh_client.get("/data")
    assert 'id="basemap-in-use"' in page.text and "<strong>demo</strong>" in page.text
    listed = runner.invoke(cli, ["basemap", "list"])
    assert listed.exit_code == 0 and "* demo" in listed.output and "  tiny" in listed.output

    used = runner.invoke(cli, ["basemap", "use", "tiny", "--actor", "admin1"])
    assert used.exit_code == 0 and "basemap tiny is now in use (was: demo)" in used.output
    wait_for(lambda: fresh_client.get("/api/nearest", params=HOME).json()["basemap"] == "tiny")
    assert "<strong>tiny</strong>" in fresh_client.get("/data").text
    with demo_copy.connect() as conn:
        audit = conn.execute(sa.text("SELECT actor, target, details->>'previous' FROM audit_log"
                                     " WHERE action = 'basemap.use' ORDER BY id")).all()
    assert [tuple(row) for row in audit] == [("import", "demo", None), ("admin1", "tiny", "demo")]
    unknown = runner.invoke(cli, ["basemap", "use", "nowhere"])
    assert unknown.exit_code != 0 and "'nowhere' is not imported" in str(unknown.exception)


@pytest.mark.parametrize("path", ["/ogc/collections/roads/items?limit=5"])
def test_the_public_roads_are_those_in_use(fresh_client: TestClient, demo_copy: Engine,
                                           tmp_path: Path, path: str) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["import", "roads", str(three_features(tmp_path / "tiny.geojson")),
                        "--crs", "EPSG:4326"])
    features = fresh_client.get(path).json()["features"]
    assert {f["properties"]["basemap"] for f in features} == {"demo"}
