"""Real HCMC districts with stand-in ward polygons, for tests that need wards.

No ward polygons of HCMC are in the shared data (SOURCES.md), so each district (2021, 22
units) is cut into the Voronoi cells of the 2020 ward points inside it: real ward codes and
names, real district shapes, approximate ward shapes. Test use only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.boundaries import read_boundaries
from basemaps.store import store_boundaries


def load_districts_and_wards(engine: Engine, hcmc: Path) -> int:
    """Store the 22 districts and a Voronoi ward under each; return the number of wards."""
    units, problems = read_boundaries(hcmc / "admin" / "hcmc_districts_2021_22units.geojson")
    store_boundaries(engine, units, problems, "districts")
    points = pd.read_csv(hcmc / "admin" / "hcmc_wards_2020_points.csv", dtype=str)
    located = shapely.points(points["lon"].astype(float), points["lat"].astype(float))
    rows = []
    for code, district in zip(units["code"], units.geometry, strict=True):
        inside = [i for i, p in enumerate(located) if district.contains(p)]
        cells = shapely.voronoi_polygons(shapely.multipoints(located[inside]), extend_to=district)
        for cell in shapely.get_parts(cells):
            ward = next(i for i in inside if cell.contains(located[i]))
            clipped = shapely.make_valid(cell.intersection(district))
            rows.append({"code": points["ward_code"][ward], "name": points["ward_name"][ward],
                         "parent": code, "wkt": shapely.to_wkt(clipped)})
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO admin_units (code, name, level, parent_code, source, geom) VALUES"
            " (:code, :name, 'ward', :parent, 'voronoi of 2020 ward points (tests)',"
            "  ST_Multi(ST_CollectionExtract(ST_GeomFromText(:wkt, 4326), 3)))"), rows)
    return len(rows)
