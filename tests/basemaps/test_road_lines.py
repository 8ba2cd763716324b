"""Road basemaps drawn as GIS lines (VN-2000 GeoPackage, Shapefile, GeoJSON): noded at their
junctions into the same network a graph source gives, bad features named by row and field."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.spatial import cKDTree
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from basemaps.road_layer import RoadLayer
from basemaps.road_lines import KNOWN_CLASSES, read_road_lines
from basemaps.roads import lengths_m, read_roads
from gis_service.crs import from_storage
from gis_service.errors import CRSError, InputError
from tests.conftest import database_env

LON, LAT = 106.70, 10.78  # District 1
M_LON, M_LAT = 111_320.0 * np.cos(np.radians(LAT)), 110_574.0


def to_vn2000(geom: shapely.Geometry) -> shapely.Geometry:
    """A WGS84 geometry in EPSG:9210 through the official transformation (EPSG:6960)."""
    return shapely.transform(geom, lambda c: np.column_stack(from_storage(c[:, 0], c[:, 1],
                                                                          "EPSG:9210")))


def write_lines(path: Path, rows: list[dict[str, object]], crs: str | None = "EPSG:9210") -> Path:
    """Rows with a WGS84 ``geometry`` written in ``crs`` (VN-2000 by default)."""
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    if crs == "EPSG:9210":
        frame = frame.set_geometry([to_vn2000(g) for g in frame.geometry], crs=crs)
    elif crs is None:
        frame = frame.set_crs(None, allow_override=True)
    frame.to_file(path)
    return path


def at(dx_m: float, dy_m: float) -> tuple[float, float]:
    return LON + dx_m / M_LON, LAT + dy_m / M_LAT


def street_lines(layer: RoadLayer) -> list[dict[str, object]]:
    """The two-way edges of ``layer`` merged into long streets (junctions become interior
    vertices, as in a GIS basemap); one-way edges kept as drawn."""
    edges = layer.edges
    rows: list[dict[str, object]] = []
    two_way = edges[~edges["oneway"]]
    for (name, highway), group in two_way.groupby(["name", "highway"]):
        merged = shapely.line_merge(shapely.union_all(group["geometry"].to_numpy()))
        rows += [{"highway": highway, "oneway": "no", "name": name, "geometry": part}
                 for part in getattr(merged, "geoms", [merged])]
    rows += [{"highway": r.highway, "oneway": "yes", "name": r.name, "geometry": r.geometry}
             for r in edges[edges["oneway"]].itertuples()]
    return rows


def geodesic_m(layer: RoadLayer) -> np.ndarray:
    """Each edge's length along its geometry on the ellipsoid (osmnx's own lengths are on a
    sphere, 0.2 % shorter)."""
    return lengths_m([shapely.get_coordinates(g) for g in layer.edges["geometry"]])


def directed(layer: RoadLayer) -> nx.DiGraph:
    g = nx.DiGraph()
    for r, metres in zip(layer.edges.itertuples(), geodesic_m(layer), strict=True):
        for a, b in ((r.u, r.v),) if r.oneway else ((r.u, r.v), (r.v, r.u)):
            if not g.has_edge(a, b) or g[a][b]["w"] > metres:
                g.add_edge(a, b, w=metres)
    return g


def test_a_vn2000_basemap_of_district1_nodes_into_the_same_network(quan1_layer: RoadLayer,
                                                                    tmp_path: Path) -> None:
    rows = street_lines(quan1_layer)
    assert len(rows) < quan1_layer.edge_count  # streets run through junctions
    layer, stats, problems = read_road_lines(write_lines(tmp_path / "q1.gpkg", rows))
    assert problems == [] and stats.ways_kept == len(rows)
    assert (layer.node_count, layer.edge_count) == (quan1_layer.node_count, quan1_layer.edge_count)
    np.testing.assert_allclose(layer.edges["length_m"], geodesic_m(layer))  # stored as drawn
    assert layer.edges["length_m"].sum() == pytest.approx(geodesic_m(quan1_layer).sum(), rel=1e-6)
    # the same junctions (to a few cm after the VN-2000 round trip) ...
    ours = layer.nodes[["lon", "lat"]].to_numpy()
    theirs = quan1_layer.nodes[["lon", "lat"]].to_numpy()
    gap, match = cKDTree(theirs * [M_LON, M_LAT]).query(ours * [M_LON, M_LAT])
    assert gap.max() < 0.05 and len(set(match)) == len(match)
    # ... joined by the same one-way and two-way roads: equal shortest paths
    same = dict(zip(layer.nodes["node_id"], quan1_layer.nodes["node_id"].to_numpy()[match],
                    strict=True))
    g_ours, g_theirs = directed(layer), directed(quan1_layer)
    rng = np.random.default_rng(3)
    for source in rng.choice(layer.nodes["node_id"].to_numpy(), 20, replace=False):
        want = nx.single_source_dijkstra_path_length(g_theirs, same[source], weight="w")
        got = nx.single_source_dijkstra_path_length(g_ours, source, weight="w")
        assert {same[k]: v for k, v in got.items()}.keys() == want.keys()
        for node, metres in got.items():
            assert metres == pytest.approx(want[same[node]], abs=0.05)


def test_junctions_crossings_tolerance_and_direction(tmp_path: Path) -> None:
    rows = [
        # a street west-east through a vertex at (0, 0) ...
        {"highway": "primary", "oneway": "no", "geometry": shapely.LineString(
            [at(-100, 0), at(0, 0), at(100, 0)])},
        # ... which a side street ends on (a T junction) 0.3 m off the vertex
        {"highway": "residential", "oneway": "-1", "geometry": shapely.LineString(
            [at(0.3, 0), at(0, -100)])},
        # a flyover crossing the street with no shared vertex
        {"highway": "trunk", "oneway": "yes", "geometry": shapely.LineString(
            [at(50, -50), at(50, 50)])},
        # an alley ending 2 m from the street: not joined
        {"highway": "service", "oneway": None, "geometry": shapely.LineString(
            [at(-50, 2), at(-50, 100)])},
    ]
    layer, _, problems = read_road_lines(write_lines(tmp_path / "t.gpkg", rows))
    assert problems == []
    edges = layer.edges
    assert sorted(edges["highway"]) == ["primary", "primary", "residential", "service", "trunk"]
    assert layer.node_count == 8  # street 3, side street 1 more, flyover 2, alley 2
    side = edges[edges["highway"] == "residential"].iloc[0]
    centre = edges[edges["highway"] == "primary"][["u", "v"]].to_numpy()
    junction = set(centre[:, 0]) & set(centre[:, 1])
    assert side["oneway"] and side["v"] in junction  # drawn away from it, one-way towards it
    g = directed(layer)
    assert nx.has_path(g, side["u"], side["v"]) and not nx.has_path(g, side["v"], side["u"])
    flyover = edges[edges["highway"] == "trunk"].iloc[0]
    assert {flyover["u"], flyover["v"]}.isdisjoint(set(centre.ravel()))


def test_dense_curves_keep_their_shape_and_only_the_column_sets_one_way(tmp_path: Path) -> None:
    # a quarter circle of 50 m radius digitised every 0.2 m (closer than the tolerance)
    angles = np.linspace(0, np.pi / 2, 393)
    curve = shapely.LineString([at(50 * np.cos(a), 50 * np.sin(a)) for a in angles])
    rows = [
        {"highway": "residential", "oneway": None, "geometry": curve},
        # a motorway with no one-way value (a basemap draws each carriageway as it is)
        {"highway": "motorway", "oneway": None, "geometry": shapely.LineString(
            [at(0, 50), at(0, 200)])},
        # an integer one-way column with gaps is read as floats: 1.0 is one-way
        {"highway": "primary", "oneway": 1, "geometry": shapely.LineString(
            [at(50, 0), at(200, 0)])},
        {"highway": "primary", "oneway": -1, "geometry": shapely.LineString(
            [at(200, 0), at(200, 150)])},
    ]
    layer, _, problems = read_road_lines(write_lines(tmp_path / "curve.gpkg", rows))
    assert problems == []
    edges = layer.edges.set_index("highway")
    residential = edges.loc["residential"]
    assert residential["length_m"] == pytest.approx(np.pi / 2 * 50, rel=1e-2)  # at(): ~metres
    # every vertex kept but the two at each end within 0.5 m of the other lines' ends
    assert len(shapely.get_coordinates(residential["geometry"])) == 393 - 4
    assert not edges.loc["motorway", "oneway"]
    primary = layer.edges[layer.edges["highway"] == "primary"]
    assert primary["oneway"].all() and len(primary) == 2
    start = primary.iloc[1]["geometry"].coords[0]  # the -1 line runs against its drawing
    assert start == pytest.approx(at(200, 150), abs=1e-7)


def test_classes_are_mapped_and_bad_features_named_by_row(tmp_path: Path) -> None:
    rows = [
        {"LOAI": "Quốc lộ", "maxspeed": "60", "geometry": shapely.LineString([at(0, 0), at(100, 0)])},
        {"LOAI": "Đường phố", "maxspeed": None, "geometry": shapely.LineString([at(100, 0), at(100, 90)])},
        {"LOAI": "Đường mòn lạ", "maxspeed": None, "geometry": shapely.LineString([at(0, 0), at(0, 90)])},
        {"LOAI": "Đường phố", "maxspeed": "nhanh", "geometry": shapely.LineString([at(0, 0), at(-90, 0)])},
        {"LOAI": "Đường phố", "maxspeed": None, "geometry": shapely.Point(at(5, 5)).buffer(1e-4)},
    ]
    path = write_lines(tmp_path / "classes.gpkg", rows)
    with pytest.raises(InputError, match="no road class column 'highway'"):
        read_road_lines(path)
    layer, stats, problems = read_road_lines(
        path, class_field="LOAI", class_map={"quốc lộ": "trunk", "Đường phố": "residential"})
    assert sorted(layer.edges["highway"]) == ["residential", "trunk"]
    assert layer.edges.loc[layer.edges["highway"] == "trunk", "maxspeed_kmh"].tolist() == [60.0]
    assert [(p.row, p.field) for p in problems] == [(3, "LOAI"), (4, "maxspeed"), (5, "geometry")]
    assert "Đường mòn lạ" in problems[0].reason and problems[0].reason_vi
    assert stats.ways_kept == 2
    with pytest.raises(InputError) as refused:
        read_roads(path)  # the strict reader refuses any bad feature
    assert "no road class column" in str(refused.value)


def test_a_layer_without_crs_or_with_a_wrong_one_is_refused(tmp_path: Path) -> None:
    line = {"highway": "primary", "geometry": shapely.LineString([at(0, 0), at(100, 0)])}
    grid = tmp_path / "grid.geojson"
    frame = gpd.GeoDataFrame([line], geometry=[to_vn2000(line["geometry"])])  # no CRS
    grid.write_text(json.dumps(json.loads(frame.to_json()) | {"crs": None}))
    with pytest.raises(CRSError, match="metres"):
        read_road_lines(grid)  # GeoJSON is CRS84 by definition: these are metres
    layer, _, _ = read_road_lines(grid, crs="EPSG:9210")
    lon, lat = layer.nodes[["lon", "lat"]].to_numpy().min(axis=0)
    assert lon == pytest.approx(LON, abs=1e-6) and lat == pytest.approx(LAT, abs=1e-6)
    with pytest.raises(CRSError, match="--crs says"):
        read_road_lines(write_lines(tmp_path / "vn.gpkg", [line]), crs="EPSG:3405")
    assert set(KNOWN_CLASSES) >= {"primary", "residential", "footway"}


def test_every_class_a_travel_mode_knows_is_importable() -> None:
    from routing.speeds import DEFAULT_PROFILES

    assert {c for p in DEFAULT_PROFILES.values() for c in p.speeds_kmh} <= KNOWN_CLASSES


def load_road_layer_or_none(engine: Engine, name: str) -> RoadLayer | None:
    import sqlalchemy as sa

    from basemaps.fetch import load_road_layer

    with engine.connect() as conn:
        known = conn.execute(sa.text("SELECT count(*) FROM basemaps WHERE name = :n"),
                             {"n": name}).scalar_one()
    return load_road_layer(engine, name) if known else None


def test_import_command_stores_the_basemap_and_routes_on_it(engine: Engine, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            quan1_layer: RoadLayer) -> None:
    import routing
    from web.cli import app

    rows = [dict(r, LOAI={"primary": "Đường chính"}.get(str(r["highway"]), r["highway"]))
            for r in street_lines(quan1_layer)]
    rows.append({"LOAI": "Đường lạ", "oneway": "no", "name": "",
                 "geometry": shapely.LineString([at(0, 0), at(10, 0)])})
    path = write_lines(tmp_path / "tnmt_roads.gpkg",
                       [{k: v for k, v in r.items() if k != "highway"} for r in rows])
    runner = CliRunner()
    with database_env(engine, monkeypatch):
        args = ["import", "roads", str(path), "--class-field", "LOAI",
                "--class-map", "Đường chính=primary", "--name", "tnmt"]
        refused = runner.invoke(app, args)
        assert isinstance(refused.exception, InputError)
        assert f"row {len(rows)}, field 'LOAI'" in str(refused.exception)
        assert load_road_layer_or_none(engine, "tnmt") is None  # nothing stored
        done = runner.invoke(app, [*args, "--skip-invalid"])
        assert done.exit_code == 0, done.output
        assert "skipped" in done.output
        stored = load_road_layer_or_none(engine, "tnmt")
    assert stored is not None
    assert (stored.node_count, stored.edge_count) == (quan1_layer.node_count, quan1_layer.edge_count)
    # routes on the stored basemap are those of the graph it was drawn from
    rng = np.random.default_rng(5)
    homes = [at(*rng.uniform(-600, 600, 2)) for _ in range(20)]
    schools = [at(*rng.uniform(-600, 600, 2)) for _ in range(5)]
    answers = [routing.nearest_schools(routing.build_graph(source, "motorbike", use_cache=False),
                                       homes, schools, list("ABCDE"), k=5, weight="distance")
               for source in (stored, quan1_layer)]
    assert len(answers[0]) == len(answers[1]) == 100
    np.testing.assert_array_equal(answers[0]["school_code"], answers[1]["school_code"])
    np.testing.assert_allclose(answers[0]["distance_m"], answers[1]["distance_m"], rtol=3e-3)
