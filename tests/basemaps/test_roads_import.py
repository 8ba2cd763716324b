"""Every HCMC road file imports with the counts of SOURCES.md; re-import changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps._osm_tags import parse_maxspeed
from basemaps.roads import directed_edge_count, read_roads
from basemaps.store import store_roads
from gis_service.errors import InputError


def test_quan1_graphml_matches_sources(hcmc: Path, engine: Engine) -> None:
    layer, _ = read_roads(hcmc / "roads" / "hcmc_quan1_osmnx_2025-03.graphml")
    assert layer.node_count == 1_000
    assert directed_edge_count(layer) == 2_116
    directed_km = (layer.edges["length_m"] * (2 - layer.edges["oneway"])).sum() / 1000
    assert directed_km == pytest.approx(170.2, abs=0.1)
    first = store_roads(engine, layer, "quan1")
    assert first.inserted == layer.edge_count
    again = store_roads(engine, layer, "quan1")
    assert again.unchanged == layer.edge_count and again.inserted == again.updated == 0
    with engine.connect() as conn:
        nodes, edges, oneway = conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM road_nodes), count(*), count(*) FILTER (WHERE oneway)"
            " FROM road_edges")).one()
    assert (nodes, edges) == (1_000, layer.edge_count)
    assert oneway + 2 * (edges - oneway) == 2_116


@pytest.mark.slow
def test_city_drive_graphml_gz_matches_sources(hcmc: Path, engine: Engine) -> None:
    layer, _ = read_roads(hcmc / "roads" / "hcmc_drive_2018-01-01.graphml.gz")
    assert layer.node_count == 30_971
    assert directed_edge_count(layer) == 79_591
    directed_km = (layer.edges["length_m"] * (2 - layer.edges["oneway"])).sum() / 1000
    assert directed_km == pytest.approx(12_379, abs=1)
    report = store_roads(engine, layer, "drive2018")
    assert report.inserted == layer.edge_count


@pytest.mark.slow
def test_city_pbf_imports_every_highway_way(hcmc: Path, engine: Engine) -> None:
    layer, stats = read_roads(hcmc / "roads" / "hcmc_osm_2018-01-01.osm.pbf")
    assert stats.ways_with_highway == 33_044
    assert stats.ways_kept + sum(stats.skipped.values()) == 33_044
    assert layer.node_count > 50_000
    edges = layer.edges
    assert {"residential", "primary", "footway", "service"} <= set(edges["highway"])
    assert edges["oneway"].any() and edges["maxspeed_kmh"].notna().any()
    assert (edges["length_m"] > 0).all()
    report = store_roads(engine, layer, "osm2018")
    assert report.inserted == layer.edge_count
    with engine.connect() as conn:
        stored_km = conn.execute(sa.text(
            "SELECT sum(ST_Length(geom::geography)) / 1000 FROM road_edges")).scalar_one()
    assert stored_km == pytest.approx(edges["length_m"].sum() / 1000, rel=1e-4)
    # Quốc lộ 1A is drawn against its direction (oneway=-1): the reader turned it round
    ql1a = edges[(edges["osm_id"] == 31096786)]
    assert ql1a["oneway"].all()


def test_osm_xml_keeps_tags_and_splits_at_junctions(tmp_path: Path) -> None:
    xml = tmp_path / "tiny.osm"
    xml.write_text(
        "<?xml version='1.0' encoding='UTF-8'?><osm version='0.6'>"
        "<node id='1' lat='10.770' lon='106.700'/><node id='2' lat='10.770' lon='106.701'/>"
        "<node id='3' lat='10.770' lon='106.702'/><node id='4' lat='10.771' lon='106.701'/>"
        "<way id='10'><nd ref='1'/><nd ref='2'/><nd ref='3'/><tag k='highway' v='primary'/>"
        "<tag k='oneway' v='-1'/><tag k='maxspeed' v='30 mph'/><tag k='name' v='Lê Lợi'/></way>"
        "<way id='11'><nd ref='2'/><nd ref='4'/><tag k='highway' v='service'/>"
        "<tag k='motor_vehicle' v='private'/></way>"
        "<way id='12'><nd ref='3'/><nd ref='4'/><tag k='highway' v='proposed'/></way>"
        "</osm>", encoding="utf-8")
    layer, stats = read_roads(xml)
    assert stats.ways_with_highway == 3 and stats.skipped == {"proposed": 1}
    edges = layer.edges.sort_values(["osm_id", "u"]).reset_index(drop=True)
    assert len(edges) == 3  # way 10 split at node 2, where way 11 joins
    main = edges[edges["osm_id"] == 10]
    assert set(zip(main["u"], main["v"], strict=True)) == {(3, 2), (2, 1)}  # reversed
    assert main["oneway"].all() and main["name"].eq("Lê Lợi").all()
    assert main["maxspeed_kmh"].iloc[0] == pytest.approx(48.28, abs=0.01)
    assert edges.loc[edges["osm_id"] == 11, "access"].item() == "private"
    assert main["length_m"].sum() == pytest.approx(218.8, abs=0.5)  # 0.002 deg of longitude


def test_maxspeed_parsing() -> None:
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed("40;60") == 40
    assert parse_maxspeed(["60", "80"]) == 60
    assert parse_maxspeed("walk") != parse_maxspeed("walk")  # NaN


def test_unknown_or_broken_road_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"this is not a pbf")
    with pytest.raises(InputError, match=r"broken\.osm\.pbf"):
        read_roads(broken)
    with pytest.raises(InputError, match="unknown road file type"):
        read_roads(tmp_path.joinpath("roads.txt").resolve().__class__(__file__))
