"""Transport scenarios (issue 15): edits of the demo city's roads, applied to the compiled
graph without recompiling, give the costs a full recompile of the same network gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.demo_city import generate_road_layer
from basemaps.road_layer import RoadLayer
from gis_service.errors import CRSError, InputError, StateError
from routing import _kernels
from routing._grid import build_grid
from routing.graph import ModeGraph, compile_graph
from routing.matrix import od_matrix
from routing.scenario_edits import ClosureEdit, Edit, RoadEdit, edits_from_geojson
from routing.scenario_graph import _without, assemble, resolve_edits, resolved_of, scenario_graph
from routing.scenario_rebuild import full_rebuild
from routing.snap import snap_points
from tests.conftest import table_counts
from tests.support.scenarios import bridge_closure, bridge_edit, metro_edit


@pytest.fixture(scope="module")
def layer() -> RoadLayer:
    return generate_road_layer()


@pytest.fixture(scope="module")
def base(layer: RoadLayer) -> ModeGraph:
    return compile_graph(layer, "motorbike")


def node_costs(graph: ModeGraph, node_ids: list[int]) -> np.ndarray:
    """Time from each of ``node_ids`` to every node, columns ordered by node id."""
    index = {int(k): i for i, k in enumerate(graph.node_ids)}
    order = np.argsort(graph.node_ids)
    out = []
    for node in node_ids:
        n = graph.node_count
        d1, d2 = np.full(n, np.inf), np.full(n, np.inf)
        _kernels.dijkstra_into(
            graph.arc_indptr, graph.arc_head, np.arange(graph.arc_count, dtype=np.int32),
            graph.arc_time_s, graph.arc_length_m, np.array([index[node]], np.int32),
            np.zeros(1), np.zeros(1), np.inf, d1, d2, np.full(n, -1, np.int32),
            np.empty(n, np.int32))
        out.append(d1[order])
    return np.array(out)


def change(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``after - before`` where both are reachable, 0 elsewhere."""
    both = np.isfinite(before) & np.isfinite(after)
    return np.where(both, after - np.where(both, before, 0.0), 0.0)


def bank_nodes(layer: RoadLayer, edit: RoadEdit) -> list[int]:
    """A node 300 m south and one 300 m north of the new bridge's ends."""
    table = layer.nodes.set_index("node_id")[["lon", "lat"]]
    picks = []
    for (lon, lat), dlat in zip(edit.coords, (-0.0027, 0.0027), strict=True):
        d = np.hypot(table["lon"] - lon, table["lat"] - (lat + dlat))
        picks.append(int(d.idxmin()))
    return picks


def test_a_bridge_shortens_times_on_both_banks_exactly_as_a_full_recompile(
        layer: RoadLayer, base: ModeGraph) -> None:
    edit = bridge_edit(layer)
    resolved = resolve_edits(base, layer.edges, [edit])
    assert sorted(resolved.part) == ["piece"] * 4 + ["road"]  # both ends split a street
    incremental = assemble(resolved)
    rebuilt = full_rebuild(layer, resolved)
    sources = bank_nodes(layer, edit)
    after, again = node_costs(incremental, sources), node_costs(rebuilt, sources)
    np.testing.assert_array_equal(after, again)  # equal to the last bit
    before = node_costs(base, sources)
    n_base = base.node_count
    assert (after[:, :n_base] <= before).all()
    # the south source gains on the north bank and the north source on the south bank
    south, north = sources
    assert before[0, np.searchsorted(np.sort(base.node_ids), north)] - after[
        0, np.searchsorted(np.sort(base.node_ids), north)] > 120
    assert before[1, np.searchsorted(np.sort(base.node_ids), south)] - after[
        1, np.searchsorted(np.sort(base.node_ids), south)] > 120
    assert (change(before, after[:, :n_base]) < -1.0).sum(axis=1).min() > 1000

    rng = np.random.default_rng(3)
    points = np.vstack([edit.coords.mean(axis=0) + rng.normal(0, 0.004, (400, 2)),
                        base.node_lonlat[rng.integers(0, n_base, 400)]])
    schools = points[:25]
    m_inc, m_full = (od_matrix(g, points, schools, 3600.0) for g in (incremental, rebuilt))
    assert (m_inc.time_s != m_full.time_s).nnz == 0
    assert (m_inc.distance_m != m_full.distance_m).nnz == 0
    m_base = od_matrix(base, points, schools, 3600.0)
    assert (m_inc.time_s.toarray() < m_base.time_s.toarray() - 1.0).sum() > 50


def test_the_edited_snapping_index_finds_what_a_new_index_finds(
        layer: RoadLayer, base: ModeGraph) -> None:
    graph = scenario_graph(base, layer.edges, [bridge_edit(layer), bridge_closure(layer),
                                               metro_edit(layer)])
    fresh = assemble(resolved_of(graph))
    snappable = np.concatenate([np.ones(graph.edge_count - len(resolved_of(fresh).u), bool),
                                resolved_of(fresh).snappable])
    fresh._cache["grid"] = _without(build_grid(fresh.edge_coords, fresh.edge_coord_offsets),
                                    snappable)
    rng = np.random.default_rng(5)
    points = np.vstack([base.node_lonlat[rng.integers(0, base.node_count, 3000)]
                        + rng.normal(0, 0.0004, (3000, 2)),
                        bridge_edit(layer).coords.mean(axis=0) + rng.normal(0, 0.002, (500, 2))])
    a = snap_points(graph, points[:, 0], points[:, 1])
    b = snap_points(fresh, points[:, 0], points[:, 1])
    np.testing.assert_array_equal(a.edge, b.edge)
    np.testing.assert_array_equal(a.frac, b.frac)
    assert snappable[a.edge].all()  # never onto a metro track or a station walk


def test_a_closure_lengthens_times_exactly_as_a_full_recompile(
        layer: RoadLayer, base: ModeGraph) -> None:
    closure = bridge_closure(layer)
    resolved = resolve_edits(base, layer.edges, [closure])
    assert resolved.closed.sum() == 1
    closed = int(np.flatnonzero(resolved.closed)[0])
    ends = [int(base.node_ids[base.edge_u[closed]]), int(base.node_ids[base.edge_v[closed]])]
    after = node_costs(assemble(resolved), ends)
    np.testing.assert_array_equal(after, node_costs(full_rebuild(layer, resolved), ends))
    before = node_costs(base, ends)
    assert (after >= before).all()
    assert (change(before, after) > 60).sum() > 1000  # the other bank is now a detour away


def test_a_closure_along_a_road_closes_that_road_only(layer: RoadLayer, base: ModeGraph) -> None:
    bridge = layer.edges[layer.edges["name"].str.startswith("Cầu")].iloc[0]["geometry"]
    touching = resolve_edits(base, layer.edges, [ClosureEdit(geometry=bridge)])
    along = resolve_edits(base, layer.edges, [ClosureEdit(geometry=bridge, along=True)])
    assert touching.closed.sum() > 1  # the streets meeting the bridge's ends too
    assert along.closed.sum() == 1
    closed = int(np.flatnonzero(along.closed)[0])
    assert layer.edges.iloc[int(base.edge_row[closed])]["name"].startswith("Cầu")


def test_a_metro_line_helps_only_near_its_stations(layer: RoadLayer) -> None:
    walk = compile_graph(layer, "walk")
    metro = metro_edit(layer)
    graph = scenario_graph(walk, layer.edges, [metro])
    resolved = resolved_of(graph)
    table = layer.nodes.set_index("node_id")[["lon", "lat"]]

    def nearest(lon: float, lat: float) -> int:
        return int(np.hypot(table["lon"] - lon, table["lat"] - lat).idxmin())

    first, last = metro.stations[0], metro.stations[-1]
    near_first = nearest(*first)
    far_away = nearest(first[0], first[1] + 0.04)  # 4.4 km north of the line
    before = node_costs(walk, [near_first, far_away])
    after = node_costs(graph, [near_first, far_away])[:, :walk.node_count]
    sorted_ids = np.sort(walk.node_ids)
    at_last = np.searchsorted(sorted_ids, nearest(*last))
    # near a station: ride instead of walking 19 km, paying the walk, half the headway, the ride
    board = [k for k, p in enumerate(resolved.part) if p == "board"]
    ride = sum(t for t, p in zip(resolved.time_s, resolved.part, strict=True) if p == "metro")
    assert after[0, at_last] < before[0, at_last] / 3
    assert after[0, at_last] >= metro.headway_s / 2 + ride
    assert resolved.time_s[board[0]] > metro.headway_s / 2
    # far from every station: nothing within 1.5 km changes
    local = before[1] < 1500 / (5 / 3.6)
    np.testing.assert_array_equal(after[1, local], before[1, local])
    # and nobody is helped who would not pass a station: the line's middle is not an entrance
    middle = nearest(*(metro.stations[0] + metro.stations[1]) / 2)
    mid_before, mid_after = (node_costs(g, [middle])[0, :walk.node_count] for g in (walk, graph))
    near_mid = mid_before < 600 / (5 / 3.6)
    np.testing.assert_array_equal(mid_after[near_mid], mid_before[near_mid])


def test_the_base_graph_is_not_changed(layer: RoadLayer, base: ModeGraph) -> None:
    arrays = {k: v.copy() for k, v in base.array_fields().items()}
    scenario_graph(base, layer.edges, [bridge_edit(layer), bridge_closure(layer)])
    for name, values in base.array_fields().items():
        np.testing.assert_array_equal(values, arrays[name], err_msg=name)


def test_edits_that_cannot_apply_are_named(layer: RoadLayer, base: ModeGraph) -> None:
    far = RoadEdit(coords=np.array([[107.5, 11.5], [107.51, 11.5]]), highway="primary",
                   speed_kmh=40.0)
    nothing = ClosureEdit(geometry=shapely.Point(107.5, 11.5).buffer(0.001))
    with pytest.raises(InputError) as caught:
        resolve_edits(base, layer.edges, [bridge_edit(layer), far, nothing])
    problems = caught.value.problems
    assert [(p.row, p.field) for p in problems] == [(3, "geometry"), (2, "geometry")]
    assert "touches no road" in problems[0].reason and "connect to nothing" in problems[1].reason


def feature(geometry: Any, **props: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def test_geojson_errors_name_the_feature_and_the_field() -> None:
    line = {"type": "LineString", "coordinates": [[106.7, 10.77], [106.71, 10.78]]}
    with pytest.raises(InputError) as caught:
        edits_from_geojson({"type": "FeatureCollection", "features": [
            feature(line, speed_kmh=40), feature(line),
            feature({"type": "LineString", "coordinates": [[603797, 1191942], [603900, 1192000]]},
                    speed_kmh=30)]}, "road", "new.geojson")
    assert [(p.file, p.row, p.field) for p in caught.value.problems] == [
        ("new.geojson", 3, "geometry"), ("new.geojson", 2, "speed_kmh")]
    with pytest.raises(CRSError, match="crs"):
        edits_from_geojson({"type": "FeatureCollection", "crs": {"type": "name", "properties": {
            "name": "urn:ogc:def:crs:EPSG::9210"}}, "features": [feature(line, speed_kmh=4)]},
            "road")
    with pytest.raises(InputError) as caught:
        edits_from_geojson({"type": "FeatureCollection", "features": [
            feature(line, speed_kmh=35, headway_s=300),
            feature({"type": "Point", "coordinates": [106.7, 10.77]}, name="A"),
            feature({"type": "Point", "coordinates": [106.705, 10.79]}, name="off")]}, "metro")
    assert [(p.row, p.field) for p in caught.value.problems] == [(3, "geometry")]
    assert "off the line" in caught.value.problems[0].reason


def test_scenarios_are_stored_and_never_touch_the_basemap_in_use(
        demo_copy: Engine, tmp_path: Path) -> None:
    from basemaps.fetch import current_basemap, load_road_layer
    from routing.scenario_store import (
        add_edits,
        create_scenario,
        delete_scenario,
        list_scenarios,
        load_scenario,
        scenario_graph_for,
    )

    layer = load_road_layer(demo_copy)
    counts, basemap = table_counts(demo_copy), current_basemap(demo_copy)
    with demo_copy.connect() as conn:
        roads_before = conn.execute(sa.text(
            "SELECT md5(string_agg(ST_AsText(geom), ',' ORDER BY basemap, edge_id))"
            " FROM road_edges")).scalar_one()
    create_scenario(demo_copy, "cau-moi", "a bridge and a closure", actor="planner1")
    bridge = bridge_edit(layer)
    path = tmp_path / "bridge.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature(
        {"type": "LineString", "coordinates": bridge.coords.tolist()}, speed_kmh=40,
        highway="primary", name="Cầu mới")]}), encoding="utf-8")
    from routing.scenario_edits import read_geojson

    add_edits(demo_copy, "cau-moi", edits_from_geojson(read_geojson(path), "road", path.name))
    add_edits(demo_copy, "cau-moi", [bridge_closure(layer)])
    stored = load_scenario(demo_copy, "cau-moi")
    assert [e.kind for e in stored.edits] == ["road", "closure"]
    assert stored.edits[0].label == "Cầu mới"
    np.testing.assert_allclose(stored.edits[0].coords, bridge.coords)  # type: ignore[union-attr]
    assert list_scenarios(demo_copy)[["name", "edits"]].values.tolist() == [["cau-moi", 2]]
    base, graph = scenario_graph_for(demo_copy, "cau-moi")
    assert graph.edge_count == base.edge_count + 5 - 2 - 1  # road + 4 pieces, 2 split, 1 closed
    with pytest.raises(InputError, match="touches no road"):
        add_edits(demo_copy, "cau-moi", [ClosureEdit(geometry=shapely.Point(107.5, 11.5))])
    with demo_copy.connect() as conn:
        bridge_id = conn.execute(sa.text(
            "SELECT edge_id FROM road_edges WHERE name LIKE 'Cầu%' ORDER BY edge_id LIMIT 1"
            " OFFSET 1")).scalar_one()

    def by_ids(*ids: int) -> list[Edit]:
        return edits_from_geojson({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": None, "properties": {"edge_ids": list(ids)}}]},
            "closure", "ids.geojson")

    with pytest.raises(InputError) as caught:
        add_edits(demo_copy, "cau-moi", by_ids(bridge_id, 987654321))
    assert [(p.row, p.field) for p in caught.value.problems] == [(1, "edge_ids")]
    assert "987654321" in caught.value.problems[0].reason
    add_edits(demo_copy, "cau-moi", by_ids(bridge_id))
    stored = load_scenario(demo_copy, "cau-moi")
    assert stored.edits[-1].edge_ids == (bridge_id,)  # type: ignore[union-attr]
    _, closed_too = scenario_graph_for(demo_copy, "cau-moi")
    assert closed_too.edge_count == graph.edge_count - 1
    assert table_counts(demo_copy) == counts and current_basemap(demo_copy) == basemap
    with demo_copy.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT md5(string_agg(ST_AsText(geom), ',' ORDER BY basemap, edge_id))"
            " FROM road_edges")).scalar_one() == roads_before
        conn.execute(sa.text("INSERT INTO basemaps (name, version, source, node_count, edge_count)"
                             " VALUES ('other', 'x', 'x', 0, 0)"))
        conn.execute(sa.text("UPDATE app_settings SET value = 'other' WHERE key = 'basemap'"))
        conn.commit()
    with pytest.raises(StateError, match="basemap"):
        scenario_graph_for(demo_copy, "cau-moi")
    delete_scenario(demo_copy, "cau-moi")
    assert list_scenarios(demo_copy).empty
