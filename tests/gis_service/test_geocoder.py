"""The finder's address search: street sections, street + ward, former units, case duplicates."""

from __future__ import annotations

import itertools
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import LineString, box
from sqlalchemy.engine import Engine

from basemaps.road_layer import RoadLayer
from basemaps.roads import read_roads
from basemaps.store import store_roads
from gis_service.geocoder import place_names, search
from tests.support.osm_xml import OsmXml

LAT = 10.775
#: (code, name, level, parent, valid_to, lon_min, lon_max): two wards of today in Quận 1,
#: the former Quận 2 (until 2020) east of them with its former ward Thủ Thiêm.
UNITS = [
    ("D1", "Quận 1", "district", None, None, 106.700, 106.720),
    ("W1", "Phường Bến Nghé", "ward", "D1", None, 106.700, 106.710),
    ("W2", "Phường Đa Kao", "ward", "D1", None, 106.710, 106.720),
    ("D2", "Quận 2", "district", None, "2020-12-31", 106.720, 106.750),
    ("W9", "Phường Thủ Thiêm", "ward", "D2", "2020-12-31", 106.720, 106.730),
]
#: Named roads as (name, [(node id, lon, lat), ...]) chains.
ROADS = [
    ("Nguyễn Huệ", [(1, 106.702, LAT), (2, 106.706, LAT), (3, 106.712, LAT), (4, 106.716, LAT)]),
    # one street in three pieces: two in Bến Nghé (one spelled in lower case in part), one
    # 1.5 km east of every ward of today, in the former Quận 2
    ("Đường Số 1", [(10, 106.701, 10.772), (11, 106.703, 10.772), (12, 106.705, 10.772)]),
    ("đường  số 1", [(12, 106.705, 10.772), (13, 106.707, 10.772)]),
    ("Đường Số 1", [(20, 106.7015, 10.778), (21, 106.7030, 10.778)]),
    ("Đường Số 1", [(30, 106.735, LAT), (31, 106.738, LAT)]),
    # a boulevard mapped as two one-way carriageways 33 m apart, sharing no node
    ("Lê Lợi", [(40, 106.7030, 10.7760), (41, 106.7040, 10.7760), (42, 106.7050, 10.7760)]),
    ("Lê Lợi", [(51, 106.7050, 10.7763), (50, 106.7030, 10.7763)]),
]


def _layer() -> RoadLayer:
    nodes: dict[int, tuple[float, float]] = {}
    rows = []
    for name, chain in ROADS:
        for (a, x1, y1), (b, x2, y2) in itertools.pairwise(chain):
            nodes[a], nodes[b] = (x1, y1), (x2, y2)
            rows.append({"u": a, "v": b, "osm_id": 0, "highway": "residential", "oneway": False,
                         "maxspeed_kmh": np.nan, "access": "", "name": name,
                         "length_m": abs(x2 - x1) * 109_000.0,
                         "geometry": LineString([(x1, y1), (x2, y2)])})
    frame = pd.DataFrame({"node_id": list(nodes), "lon": [p[0] for p in nodes.values()],
                          "lat": [p[1] for p in nodes.values()]})
    return RoadLayer(frame, pd.DataFrame(rows), source="test")


def _insert_units(engine: Engine) -> None:
    with engine.begin() as conn:
        for code, name, level, parent, valid_to, x1, x2 in UNITS:
            conn.execute(sa.text(
                "INSERT INTO admin_units (code, name, level, parent_code, valid_from, valid_to, geom)"
                " VALUES (:c, :n, :l, :p, CAST(:f AS date), CAST(:t AS date),"
                " ST_Multi(ST_GeomFromText(:g, 4326)))"),
                {"c": code, "n": name, "l": level, "p": parent, "t": valid_to,
                 "f": "1997-01-01" if valid_to else None,
                 "g": box(x1, 10.770, x2, 10.780).wkt})


@pytest.fixture
def places(engine: Engine) -> list[dict[str, object]]:
    store_roads(engine, _layer(), "streets")
    _insert_units(engine)
    return place_names(engine)


def test_a_street_spread_over_pieces_and_wards_gives_one_place_per_section(
    places: list[dict[str, object]],
) -> None:
    found = search(places, "duong so 1")
    assert [p["label"] for p in found] == ["Đường Số 1"] * 3  # the lower-case spelling merged
    assert [p["detail"] for p in found] == [
        "", "Phường Bến Nghé, Quận 1", "đoạn 2 / section 2, Phường Bến Nghé, Quận 1"]
    longest = found[1]  # the piece with the lower-case road is the longer one in Bến Nghé
    assert longest["ward"] == "Phường Bến Nghé" and longest["lat"] == pytest.approx(10.772)
    assert found[0]["ward"] is None and found[0]["lon"] > 106.73  # beyond every ward of today
    streets = search(places, "Nguyễn Huệ")
    assert sorted(p["ward"] for p in streets) == ["Phường Bến Nghé", "Phường Đa Kao"]
    boulevard = search(places, "le loi")
    assert len(boulevard) == 1 and boulevard[0]["detail"] == "Phường Bến Nghé, Quận 1"


@pytest.mark.parametrize("query", ["Nguyễn Huệ, Bến Nghé", "nguyen hue ben nghe",
                                   "Nguyễn Huệ, Phường Bến Nghé, Quận 1"])
def test_street_and_ward_find_the_section_in_that_ward(places: list[dict[str, object]],
                                                       query: str) -> None:
    first = search(places, query)[0]
    assert first["label"] == "Nguyễn Huệ" and first["ward"] == "Phường Bến Nghé"
    assert 106.700 <= float(first["lon"]) <= 106.710


def test_street_and_a_ward_it_does_not_cross_give_the_nearest_section(
    places: list[dict[str, object]],
) -> None:
    first = search(places, "Nguyễn Huệ, Thủ Thiêm")[0]  # a former ward, east of Đa Kao
    assert first["ward"] == "Phường Đa Kao"
    assert "gần Phường Thủ Thiêm" in str(first["detail"]) and "near" in str(first["detail"])
    in_former = search(places, "Đường số 1, Quận 2")  # the piece inside the former district
    assert len(in_former) == 1 and float(in_former[0]["lon"]) > 106.73


def test_wards_and_former_districts_are_found_and_former_ones_labelled(
    places: list[dict[str, object]],
) -> None:
    former = search(places, "quan 2")
    assert former[0]["label"] == "Quận 2 (cũ)" and former[0]["kind"] == "district"
    assert former[0]["former"] is True and "until 2020-12-31" in str(former[0]["detail"])
    assert search(places, "Thủ Thiêm")[0]["label"] == "Phường Thủ Thiêm, Quận 2 (cũ)"
    today = search(places, "Quận 1")
    assert today[0]["label"] == "Quận 1" and today[0]["former"] is False
    ward = search(places, "ben nghe")
    assert ward[0]["kind"] == "ward" and ward[0]["label"] == "Phường Bến Nghé, Quận 1"
    assert search(places, "bến nghe") and not search(places, "bèn nghé")  # marks typed count


def test_the_demo_city_index_finds_street_sections_and_their_wards(demo_engine: Engine) -> None:
    index = place_names(demo_engine)
    streets = [p for p in index if p["kind"] == "street"]
    assert len({p["label"] for p in streets}) < len(streets)  # long streets are cut in sections
    found = search(index, "Đường Mẫu Dọc 3")
    assert found[0]["label"] == "Đường Mẫu Dọc 3" and found[0]["ward"]
    ward = found[0]["ward"]
    again = search(index, f"Đường Mẫu Dọc 3, {ward}")
    assert again[0]["ward"] == ward


def _osm(path: Path, addresses: list[tuple[float, float, dict[str, str]]]) -> Path:
    """Write the roads of :data:`ROADS` and these address nodes (lon, lat, tags) as OSM XML."""
    osm = OsmXml()
    for way, (name, chain) in enumerate(ROADS, start=1000):
        osm.nodes += [f'<node id="{n}" version="1" lat="{y}" lon="{x}"/>' for n, x, y in chain]
        nds = "".join(f'<nd ref="{n}"/>' for n, _, _ in chain)
        osm.ways.append(f'<way id="{way}" version="1">{nds}{_tags(highway="residential", name=name)}'
                        "</way>")
    for node, (x, y, tags) in enumerate(addresses, start=5000):
        osm.nodes.append(f'<node id="{node}" version="1" lat="{y}" lon="{x}">{_tags(**tags)}</node>')
    return osm.write(path)


def _tags(**tags: str) -> str:
    return "".join(f"<tag k={quoteattr(k.replace('_', ':'))} v={quoteattr(v)}/>"
                   for k, v in tags.items())


def _house(number: str, street: str) -> dict[str, str]:
    return {"addr_housenumber": number, "addr_street": street}


def test_osm_house_numbers_are_imported_and_found_first(tmp_path: Path, engine: Engine) -> None:
    path = _osm(tmp_path / "city.osm", [
        (106.703, 10.7752, _house("12", "Nguyễn Huệ")),  # in Bến Nghé
        (106.713, 10.7752, _house("12A", "Nguyễn Huệ")),  # in Đa Kao
        (106.704, 10.7760, _house("14;16", "nguyễn huệ")),  # two numbers, street in lower case
        (106.705, 10.7750, {"addr_housenumber": "5"}),  # no street: no address
    ])
    osm = OsmXml()  # a building mapped as a closed way: found at its centroid
    osm._next = 9000  # ids apart from those of the roads
    building = osm.ring(106.7032, 10.7762, 106.7036, 10.7766)
    osm.ways[-1] = osm.ways[-1].replace("</way>", _tags(building="yes", **_house("7", "Lê Lợi"))
                                        + "</way>")
    text = path.read_text(encoding="utf-8").replace(
        "</osm>", "\n".join(osm.nodes + osm.ways) + "\n</osm>")
    path.write_text(text, encoding="utf-8")
    assert building

    layer, _ = read_roads(path)
    assert layer.addresses is not None and len(layer.addresses) == 4
    report = store_roads(engine, layer, "streets")
    assert report.details["address_points"] == 4
    again = store_roads(engine, layer, "streets")  # unchanged roads: addresses replaced
    assert again.unchanged == layer.edge_count and again.details["address_points"] == 4
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM address_points")).scalar_one() == 4
    _insert_units(engine)
    index = place_names(engine)

    for query in ("12 Nguyễn Huệ", "số 12 nguyen hue", "12 Nguyễn Huệ, Bến Nghé"):
        found = search(index, query)
        assert found[0]["label"] == "12 Nguyễn Huệ" and found[0]["kind"] == "address", query
        assert found[0]["lon"] == pytest.approx(106.703) and found[0]["lat"] == pytest.approx(10.7752)
        assert found[0]["ward"] == "Phường Bến Nghé"
        assert {p["kind"] for p in found[1:]} == {"street"}  # then the street's sections
    assert search(index, "12a Nguyễn Huệ, Đa Kao")[0]["label"] == "12A Nguyễn Huệ"
    assert search(index, "16 Nguyễn Huệ")[0]["label"] == "14;16 nguyễn huệ"
    seven = search(index, "7 Lê Lợi")[0]
    assert seven["kind"] == "address" and seven["lon"] == pytest.approx(106.7034)
    assert seven["lat"] == pytest.approx(10.7764)


def test_a_house_number_not_mapped_gives_the_street_and_claims_nothing(
    tmp_path: Path, engine: Engine,
) -> None:
    layer, _ = read_roads(_osm(tmp_path / "city.osm", [
        (106.713, 10.7752, _house("12A", "Nguyễn Huệ")),
        (106.705, 10.7750, {"addr_housenumber": "5"})]))
    store_roads(engine, layer, "streets")
    _insert_units(engine)
    index = place_names(engine)
    assert search(index, "99 Nguyễn Huệ") == search(index, "Nguyễn Huệ")
    assert search(index, "5 Nguyễn Huệ") == search(index, "Nguyễn Huệ")  # its street unknown
    in_ben_nghe = search(index, "12A Nguyễn Huệ, Bến Nghé")  # 12A lies in Đa Kao
    assert "address" not in {p["kind"] for p in in_ben_nghe}
    assert in_ben_nghe[0]["label"] == "Nguyễn Huệ" and in_ben_nghe[0]["ward"] == "Phường Bến Nghé"
    assert search(index, "12") == [] and search(index, "số 1")[0]["label"] == "Đường Số 1"
