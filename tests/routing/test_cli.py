"""``edugis route ...`` in file mode, end to end through typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from gis_service.settings import get_settings
from routing.cli import app
from tests.conftest import database_env

runner = CliRunner()


@pytest.fixture
def graph_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The settings' graph cache folder (``EDUGIS_ROUTING_CACHE``) in ``tmp_path``."""
    monkeypatch.setenv("EDUGIS_ROUTING_CACHE", str(tmp_path / "cache"))
    get_settings.cache_clear()
    yield tmp_path / "cache"
    get_settings.cache_clear()


@pytest.fixture
def files(tmp_path: Path, hcmc: Path, graph_cache: Path) -> dict[str, Path]:
    rng = np.random.default_rng(1)
    lon = rng.uniform(106.690, 106.705, 8)
    lat = rng.uniform(10.770, 10.785, 8)
    schools = pd.DataFrame({
        "code": [f"Q1-{i}" for i in range(8)], "name": [f"Trường {i}" for i in range(8)],
        "level": ["primary", "lower_secondary"] * 4, "ownership": ["public"] * 8,
        "lon": lon, "lat": lat,
    })
    origins = pd.DataFrame({"id": ["a", "b", "c"], "lon": [106.695, 106.700, 106.698],
                            "lat": [10.775, 10.780, 10.783]})
    paths = {"schools": tmp_path / "schools.csv", "origins": tmp_path / "origins.csv",
             "roads": hcmc / "roads" / "hcmc_quan1_osmnx_2025-03.graphml"}
    schools.to_csv(paths["schools"], index=False)
    origins.to_csv(paths["origins"], index=False)
    return paths


def test_nearest_writes_the_contract_columns(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "nearest.csv"
    result = runner.invoke(app, [
        "nearest", "--origins", str(files["origins"]), "--k", "2", "--mode", "motorbike",
        "--level", "primary", "--roads", str(files["roads"]), "--schools", str(files["schools"]),
        "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["origin_id", "rank", "school_code", "distance_m", "time_s"]
    assert len(table) == 6
    assert set(table["school_code"]) <= {"Q1-0", "Q1-2", "Q1-4", "Q1-6"}
    assert (table["distance_m"] > 0).all()
    # the second run reads the compiled graph from the cache
    assert list((tmp_path / "cache").glob("*.npz"))


def test_matrix_isochrone_and_path(files: dict[str, Path], tmp_path: Path) -> None:
    common = ["--roads", str(files["roads"]), "--mode", "walk"]
    out = tmp_path / "matrix.csv"
    result = runner.invoke(app, ["matrix", "--origins", str(files["origins"]), "--schools",
                                 str(files["schools"]), "--cutoff", "900", "--out", str(out),
                                 *common])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["origin_id", "school_code", "distance_m", "time_s"]
    assert (table["time_s"] <= 900).all() and len(table) > 0

    iso = tmp_path / "iso.geojson"
    result = runner.invoke(app, ["isochrone", "--lon", "106.70", "--lat", "10.778",
                                 "--minutes", "5,10", "--out", str(iso), *common])
    assert result.exit_code == 0, result.output
    assert [f["properties"]["minutes"] for f in json.loads(iso.read_text())["features"]] == [
        10.0, 5.0]

    line = tmp_path / "route.geojson"
    result = runner.invoke(app, ["path", "--from", "106.695,10.775", "--to", "106.703,10.785",
                                 "--out", str(line), *common])
    assert result.exit_code == 0, result.output
    assert json.loads(line.read_text())["properties"]["distance_m"] > 1000


def test_without_files_the_imported_basemap_and_schools_are_used(
        demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with demo_engine.connect() as conn:
        code, lon, lat = conn.execute(sa.text(
            "SELECT code, ST_X(geom), ST_Y(geom) FROM schools WHERE level = 'primary'"
            " ORDER BY code LIMIT 1")).one()
    origins = tmp_path / "o.csv"
    origins.write_text(f"id,lon,lat\nhome,{lon + 0.0002},{lat}\n", encoding="utf-8")
    with database_env(demo_engine, monkeypatch):
        out = tmp_path / "n.csv"
        result = runner.invoke(app, ["nearest", "--origins", str(origins), "--k", "3",
                                     "--level", "primary", "--out", str(out)])
        assert result.exit_code == 0, result.output
        table = pd.read_csv(out)
        assert list(table["rank"]) == [1, 2, 3]
        assert table["school_code"].iloc[0] == code and table["distance_m"].iloc[0] < 200


def test_a_far_origin_is_reported_with_its_row(files: dict[str, Path], tmp_path: Path) -> None:
    far = tmp_path / "far.csv"
    far.write_text("id,lon,lat\nok,106.70,10.78\nboat,106.80,10.70\n", encoding="utf-8")
    result = runner.invoke(app, ["nearest", "--origins", str(far), "--k", "1",
                                 "--roads", str(files["roads"]), "--schools",
                                 str(files["schools"]), "--out", str(tmp_path / "n.csv")])
    assert result.exit_code == 2
    assert "row 2" in result.output and "'boat'" in result.output


def test_bad_origin_rows_are_listed(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat\n,106.70,10.78\nx,abc,10.78\n", encoding="utf-8")
    result = runner.invoke(app, ["nearest", "--origins", str(bad), "--k", "1",
                                 "--roads", str(files["roads"]), "--schools",
                                 str(files["schools"]), "--out", str(tmp_path / "n.csv")])
    assert result.exit_code == 2
    assert "row 1, field 'id'" in result.output and "row 2, field 'lon'" in result.output
