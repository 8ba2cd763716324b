"""The planners' ward queries read the wards of today, never the former ones (issue 11)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting import queries

_SQUARE = "ST_Multi(ST_MakeEnvelope(:x, 10.70, :x2, 10.71, 4326))"


def test_ward_points_and_road_nodes_leave_former_wards_out(engine: Engine) -> None:
    with engine.begin() as conn:
        for code, level, parent, valid_to, x in (
                ("79", "province", None, None, 106.60),
                ("D1", "district", "79", "2025-07-01", 106.60),
                ("W-OLD", "ward", "D1", "2025-07-01", 106.70),
                ("W-NEW", "ward", "79", None, 106.70)):
            conn.execute(sa.text(
                "INSERT INTO admin_units (code, name, level, parent_code, valid_to, geom)"
                f" VALUES (:c, :n, :l, :p, CAST(:t AS date), {_SQUARE})"),
                {"c": code, "n": code, "l": level, "p": parent, "t": valid_to, "x": x, "x2": x + 0.01})
        conn.execute(sa.text("INSERT INTO basemaps (name, version, source, node_count, edge_count)"
                             " VALUES ('b', '1', 'test', 1, 0)"))
        conn.execute(sa.text("INSERT INTO road_nodes (basemap, node_id, geom)"
                             " VALUES ('b', 1, ST_SetSRID(ST_MakePoint(106.705, 10.705), 4326))"))
    assert queries.ward_points(engine)["ward_code"].tolist() == ["W-NEW"]
    nodes = queries.road_nodes_in(engine, ["W-OLD", "W-NEW"], "b")
    assert nodes["ward_code"].tolist() == ["W-NEW"]
