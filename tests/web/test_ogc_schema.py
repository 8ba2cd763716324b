"""Typed properties for GIS clients (issue 13.11): each collection publishes its queryables
and its schema with JSON Schema types read from the database, and GDAL's OAPIF driver reads
capacities and times as numbers whatever the first page holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from gis_service.collections import COLLECTIONS
from tests.support.browser import LiveServer

SCHEMA_JSON = "application/schema+json"


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether a GeoJSON property value has the schema's type (null always fits)."""
    if value is None:
        return True
    kind = schema["type"]
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list) and all(_fits(v, schema["items"]) for v in value)
    if schema.get("format") == "date":
        return isinstance(value, str) and dt.date.fromisoformat(value) is not None
    return isinstance(value, str)


@pytest.mark.parametrize("cid", list(COLLECTIONS))
def test_schema_types_match_every_value_of_the_first_page(client: TestClient, cid: str) -> None:
    answer = client.get(f"/ogc/collections/{cid}/schema")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(SCHEMA_JSON)
    schema = answer.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"http://testserver/ogc/collections/{cid}/schema"
    properties = schema["properties"]
    assert properties.pop("geometry")["x-ogc-role"] == "primary-geometry"
    assert list(properties) == list(COLLECTIONS[cid].properties)
    page = client.get(f"/ogc/collections/{cid}/items", params={"limit": 200}).json()
    for feature in page["features"]:
        for name, value in feature["properties"].items():
            assert _fits(value, properties[name]), (cid, name, value, properties[name])


def test_types_are_the_databases_and_queryables_are_the_filters(client: TestClient) -> None:
    schools = client.get("/ogc/collections/schools/schema").json()["properties"]
    assert schools["capacity_grade10"]["type"] == "integer"
    assert schools["name"]["type"] == "string"
    assert schools["geometry"]["format"] == "geometry-point"
    roads = client.get("/ogc/collections/roads/schema").json()["properties"]
    assert roads["geometry"]["format"] == "geometry-linestring"
    assert any(p.get("type") == "number" for p in roads.values())
    wards = client.get("/ogc/collections/wards/schema").json()["properties"]
    assert wards["valid_from"] == {"title": "valid_from", "type": "string", "format": "date",
                                   "x-ogc-role": "primary-interval-start"}
    queryables = client.get("/ogc/collections/schools/queryables").json()
    assert set(queryables["properties"]) == {"geometry", *COLLECTIONS["schools"].filters}
    assert queryables["additionalProperties"] is False
    links = {link["rel"]: link["href"] for link in
             client.get("/ogc/collections/schools").json()["links"]}
    assert links["describedby"].endswith("/ogc/collections/schools/feature-schema")
    assert links["http://www.opengis.net/def/rel/ogc/1.0/schema"].endswith("/schools/schema")
    encoding = client.get("/ogc/collections/schools/feature-schema").json()
    assert encoding["properties"]["properties"]["properties"]["capacity_grade1"]["type"] == "integer"
    assert links["http://www.opengis.net/def/rel/ogc/1.0/queryables"].endswith("/queryables")
    assert client.get("/ogc/collections/nowhere/schema").status_code == 404


def test_gdal_reads_numbers_as_numbers_from_a_small_first_page(live: LiveServer) -> None:
    """GDAL's OAPIF driver (pyogrio) with a page of 2 features: capacities stay integers."""
    pyogrio = pytest.importorskip("pyogrio")
    info = pyogrio.read_info(f"OAPIF:{live.url}/ogc", layer="schools", PAGE_SIZE="2")
    fields = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert fields["capacity_grade10"].startswith("int"), fields
    assert fields["name"] == "object"
    assert info["geometry_type"] == "Point"
    assert info["features"] > 2  # counted over every page


GDAL_TILES = """
import json, sys
import pyogrio
url = "OGCAPI:" + sys.argv[1] + "/ogc/collections/schools"
layers = [name for name, _ in pyogrio.list_layers(url)]
frame = pyogrio.read_dataframe(url, layer="Zoom level 10")
print(json.dumps({"layers": layers, "codes": sorted(set(frame["code"]))}))
"""


def test_gdal_finds_the_vector_tiles_without_a_bbox(live: LiveServer, demo_engine: Engine) -> None:
    """GDAL's OGCAPI driver given only a collection's URL (no MINX/MINY/...): it lists a layer
    per zoom level and the tiles of level 10 it reads hold every school (issue 13.13).

    GDAL places vector tiles by the collection's CRS84 extent without reprojecting it, so it
    finds them through the WorldCRS84Quad tileset; with WebMercatorQuad alone it listed levels
    0 and 1 only, and level 1 came back empty. GDAL runs in a child process: it blocks the
    GIL while it downloads, and the server answering it runs in this one.
    """
    import json
    import subprocess
    import sys

    pytest.importorskip("pyogrio")
    done = subprocess.run([sys.executable, "-c", GDAL_TILES, live.url], capture_output=True,
                          text=True, timeout=120, check=True)
    found = json.loads(done.stdout.splitlines()[-1])
    assert [f"Zoom level {z}" for z in range(23)] == found["layers"]
    with demo_engine.connect() as conn:
        codes = sorted(conn.exec_driver_sql("SELECT code FROM schools").scalars())
    assert found["codes"] == codes


def test_tileset_limits_and_bounding_box_hold_the_data_and_no_more(client: TestClient,
                                                                   demo_engine: Engine) -> None:
    """Every school's tile lies inside the limits of its zoom, and the limits are tight: at
    zoom 14 they span the city's few dozen tiles, not the 2^28 of the world (issue 13.13)."""
    import math

    from web.tiles import mercator

    meta = client.get("/ogc/collections/schools/tiles/WebMercatorQuad").json()
    with demo_engine.connect() as conn:
        points = conn.exec_driver_sql("SELECT ST_X(geom), ST_Y(geom) FROM schools").all()
    limits = {int(entry["tileMatrix"]): entry for entry in meta["tileMatrixSetLimits"]}
    for z in (0, 5, 10, 14, 18):
        n = 2**z
        for lon, lat in points:
            col = math.floor((lon + 180) / 360 * n)
            row = math.floor((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
            assert limits[z]["minTileCol"] <= col <= limits[z]["maxTileCol"], (z, lon)
            assert limits[z]["minTileRow"] <= row <= limits[z]["maxTileRow"], (z, lat)
    span = limits[14]
    assert (span["maxTileCol"] - span["minTileCol"] + 1) * (span["maxTileRow"] - span["minTileRow"] + 1) < 400
    box = meta["boundingBox"]
    assert box["crs"].endswith("EPSG/0/3857")
    west = min(p[0] for p in points)
    assert box["lowerLeft"][0] == pytest.approx(mercator(west, 0)[0])
    kinds = {p["id"]: p for p in meta["layers"]}["schools"]["propertiesSchema"]["properties"]
    assert kinds["capacity_grade10"]["type"] == "integer" and kinds["name"]["type"] == "string"


def test_collections_with_validity_advertise_their_temporal_extent(fresh_client: TestClient,
                                                                   demo_copy: Engine) -> None:
    """Issue 13.16: where ``datetime`` filters, the collection says which interval it covers."""
    import sqlalchemy as sa

    assert "temporal" not in fresh_client.get("/ogc/collections/schools").json()["extent"]
    with demo_copy.connect() as conn:
        ends = conn.execute(sa.text("SELECT DISTINCT valid_to FROM admin_units"
                                    " WHERE level = 'district'")).scalars().all()
    districts = fresh_client.get("/ogc/collections/districts").json()["extent"]["temporal"]
    assert districts["trs"].endswith("ISO-8601/0/Gregorian")
    assert districts["interval"][0][1] == (None if None in ends else max(ends).isoformat())
    with demo_copy.begin() as conn:
        conn.execute(sa.text("UPDATE admin_units SET valid_from = DATE '2025-07-01'"
                             " WHERE level = 'ward'"))
    wards = fresh_client.get("/ogc/collections/wards").json()["extent"]["temporal"]
    assert wards["interval"] == [["2025-07-01", None]]  # in force since the reform, still valid
