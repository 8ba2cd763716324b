"""A null cell of a GeoJSON boundary file is empty, not the text "nan" (pandas 3 reads it as NaN)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.boundaries import read_boundaries
from basemaps.store import store_boundaries


def _square(lon: float, lat: float) -> dict[str, object]:
    ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _write(path: Path, rows: list[tuple[str, str | None, str | None]]) -> Path:
    features = [{"type": "Feature", "geometry": _square(106.70 + 0.02 * i, 10.77),
                 "properties": {"code": code, "name": name, "level": "ward",
                                "parent_code": parent}}
                for i, (code, name, parent) in enumerate(rows)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    return path


def test_a_null_parent_code_is_no_parent(tmp_path: Path, engine: Engine) -> None:
    path = _write(tmp_path / "wards.geojson",
                  [("P1", "Phường Một", None), ("P2", "Phường Hai", "P1")])
    units, problems = read_boundaries(path)
    assert problems == []
    parents = dict(zip(units["code"], units["parent_code"], strict=True))
    assert pd.isna(parents["P1"]) and parents["P2"] == "P1"
    report = store_boundaries(engine, units, problems, "test")  # not "unknown parent nan"
    assert report.problems == [] and report.inserted == 2
    with engine.connect() as conn:
        stored: dict[str, str | None] = dict(conn.execute(sa.text(
            "SELECT code, parent_code FROM admin_units")).all())
    assert stored == {"P1": None, "P2": "P1"}


def test_a_null_name_falls_back_to_the_code(tmp_path: Path) -> None:
    path = _write(tmp_path / "wards.geojson", [("P1", None, None), ("P2", "Phường Hai", None)])
    units, _ = read_boundaries(path)
    assert dict(zip(units["code"], units["name"], strict=True)) == {"P1": "P1",
                                                                    "P2": "Phường Hai"}
