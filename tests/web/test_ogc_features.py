"""OGC API - Features Part 1 and Part 2, mirroring the abstract tests of the ETS one by one."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from sqlalchemy.engine import Engine

from gis_service.crs import from_storage
from tests.conftest import database_env
from web import ogc_features
from web.app import create_app

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG9210 = "http://www.opengis.net/def/crs/EPSG/0/9210"
REF_LON, REF_LAT = 106.7009, 10.7769
REF_E, REF_N = 603797.26, 1191942.30  # via EPSG:6960 (ARCHITECTURE.md §6)
REF_E_5194 = 603796.46  # what PROJ/PostGIS would give by default


def _path(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, kind, name = node["$ref"].lstrip("#/").split("/")
        node = doc["components"][kind][name]
    return node


def _schema_validator(doc: dict[str, Any], name: str) -> OAS30Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return OAS30Validator(schema)


def _db(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


# ---- landing page, API definition, conformance ---------------------------------------------


def test_req_core_root_success_links_service_desc_with_oas30_type(client: TestClient) -> None:
    response = client.get("/ogc")
    assert response.status_code == 200
    links = {link["rel"]: link for link in response.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"].replace(" ", "") == \
        "application/vnd.oai.openapi+json;version=3.0"
    for rel in ("service-desc", "conformance", "data"):
        assert client.get(_path(links[rel]["href"])).status_code == 200


def test_req_oas30_oas_definition_is_valid_openapi_30_with_real_server(client: TestClient) -> None:
    response = client.get("/ogc/api")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    doc = response.json()
    assert doc["openapi"].startswith("3.0.")
    validate(doc)
    assert doc["servers"][0]["url"] == "http://testserver/ogc"
    assert "$ref\": \"http" not in response.text  # self-contained: no remote references


def test_req_oas30_limit_and_bbox_parameter_definitions(client: TestClient) -> None:
    doc = client.get("/ogc/api").json()
    for cid in ("schools", "wards", "districts", "catchments", "capacity-gaps", "roads"):
        params = {p["name"]: p for p in (_resolve(doc, raw) for raw in
                                         doc["paths"][f"/collections/{cid}/items"]["get"]["parameters"])}
        limit, bbox = params["limit"], params["bbox"]
        assert (limit["in"], limit["required"], limit["style"], limit["explode"]) == \
            ("query", False, "form", False)
        assert limit["schema"]["type"] == "integer"
        assert limit["schema"]["minimum"] >= 0 and limit["schema"]["default"] >= 0
        assert (bbox["style"], bbox["explode"], bbox["schema"]["type"]) == ("form", False, "array")
        assert (bbox["schema"]["minItems"], bbox["schema"]["maxItems"]) == (4, 6)
        assert bbox["schema"]["items"]["type"] == "number"


def test_req_core_conformance_success_declares_core_geojson_html_oas30_crs(client: TestClient) -> None:
    conforms = set(client.get("/ogc/conformance").json()["conformsTo"])
    base = "http://www.opengis.net/spec/ogcapi-features-{}/1.0/conf/{}"
    assert {base.format(1, "core"), base.format(1, "geojson"), base.format(1, "html"),
            base.format(1, "oas30"), base.format(2, "crs")} <= conforms  # html: test_ogc_html


# ---- collections ---------------------------------------------------------------------------


def test_req_core_fc_md_success_extents_in_crs84_and_crs_lists(client: TestClient,
                                                                demo_engine: Engine) -> None:
    body = client.get("/ogc/collections").json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["schools", "wards", "districts", "former-wards", "catchments", "capacity-gaps",
                   "roads"]
    school_box = _db(demo_engine, "SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)]"
                                  " FROM (SELECT ST_Extent(geom) e FROM schools) x")
    for coll in body["collections"]:
        bbox = coll["extent"]["spatial"]["bbox"][0]
        assert coll["extent"]["spatial"]["crs"] == CRS84
        if coll["id"] == "former-wards":  # none in the demo city: the whole world
            assert bbox == [-180, -90, 180, 90]
        else:
            assert 106 < bbox[0] < bbox[2] < 108 and 10 < bbox[1] < bbox[3] < 12  # lon first
        assert CRS84 in coll["crs"] and EPSG9210 in coll["crs"] and coll["storageCrs"] == CRS84
        assert any(link["rel"] == "items" for link in coll["links"])
        assert any(link["rel"] == "license" for link in coll["links"])
    assert body["collections"][0]["extent"]["spatial"]["bbox"][0] == pytest.approx(school_box)


def test_req_core_sfc_md_success_and_unknown_collection_404(client: TestClient) -> None:
    assert client.get("/ogc/collections/wards").json()["id"] == "wards"
    assert client.get("/ogc/collections/applicants").status_code == 404
    assert client.get("/ogc/collections/applicants/items").status_code == 404


# ---- items ---------------------------------------------------------------------------------


def test_req_core_fc_response_counts_links_and_schema(client: TestClient, demo_engine: Engine) -> None:
    doc = client.get("/ogc/api").json()
    response = client.get("/ogc/collections/schools/items", params={"limit": 7})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    _schema_validator(doc, "featureCollectionGeoJSON").validate(body)
    assert body["numberMatched"] == _db(demo_engine, "SELECT count(*) FROM schools")
    assert body["numberReturned"] == len(body["features"]) == 7
    assert body["timeStamp"].endswith("Z")
    rels = {link["rel"] for link in body["links"]}
    assert {"self", "next", "collection"} <= rels


def test_req_core_fc_limit_default_and_maximum(client: TestClient) -> None:
    assert client.get("/ogc/collections/schools/items").json()["numberReturned"] == 10
    body = client.get("/ogc/collections/wards/items", params={"limit": 50_000}).json()
    assert body["numberReturned"] == body["numberMatched"]  # served as the maximum, not refused


def test_req_core_fc_next_links_page_through_every_feature_once(client: TestClient,
                                                                demo_engine: Engine) -> None:
    expected = _db(demo_engine, "SELECT array_agg(code ORDER BY code) FROM admin_units"
                                " WHERE level = 'ward'")
    seen: list[str] = []
    url: str | None = "/ogc/collections/wards/items?limit=20"
    pages = 0
    while url:
        body = client.get(url).json()
        assert body["numberReturned"] <= 20
        seen += [f["id"] for f in body["features"]]
        url = next((_path(link["href"]) for link in body["links"] if link["rel"] == "next"), None)
        pages += 1
    assert seen == expected and pages == -(-len(expected) // 20)


def test_req_core_fc_bbox_response_matches_postgis(client: TestClient, demo_engine: Engine) -> None:
    box = (106.60, 10.70, 106.65, 10.75)
    body = client.get("/ogc/collections/schools/items",
                      params={"bbox": ",".join(map(str, box)), "limit": 10_000}).json()
    expected = _db(demo_engine, "SELECT count(*) FROM schools WHERE ST_Intersects(geom,"
                                " ST_MakeEnvelope(:a, :b, :c, :d, 4326))",
                   a=box[0], b=box[1], c=box[2], d=box[3])
    assert 0 < body["numberMatched"] == expected == body["numberReturned"]
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def test_property_filter_level_returns_only_that_level(client: TestClient, demo_engine: Engine) -> None:
    body = client.get("/ogc/collections/schools/items",
                      params={"level": "upper_secondary", "limit": 1000}).json()
    assert {f["properties"]["level"] for f in body["features"]} == {"upper_secondary"}
    assert body["numberMatched"] == _db(demo_engine,
                                        "SELECT count(*) FROM schools WHERE level = 'upper_secondary'")


@pytest.mark.parametrize("query", [
    "foo=bar", "limit=0", "limit=abc", "limit=-3", "limit=5&limit=6", "offset=-1",
    "bbox=1,2,3", "bbox=a,b,c,d", "bbox=106,10,107", "bbox=1,2,3,4,5", "bbox=1,2,3,4,5,6,7",
    "bbox=106,10,inf,11", "crs=EPSG:9210", "crs=http://www.opengis.net/def/crs/EPSG/0/3857",
    "bbox=1,2,3,4&bbox-crs=urn:nope", "datetime=yesterday", "datetime=2023-02-29",
    "datetime=2026-01-01T24:00:00Z", "datetime=0000-01-01", "f=xml",
])
def test_req_core_query_param_invalid_or_unknown_is_400(client: TestClient, query: str) -> None:
    response = client.get(f"/ogc/collections/schools/items?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["code"] in ("InvalidParameterValue", "UnknownParameter")


def _matched(client: TestClient, collection: str, **params: Any) -> int:
    response = client.get(f"/ogc/collections/{collection}/items", params=params)
    assert response.status_code == 200, response.text
    return int(response.json()["numberMatched"])


def test_req_core_fc_bbox_crossing_the_antimeridian_covers_both_sides(client: TestClient,
                                                                     demo_engine: Engine) -> None:
    # west edge 106.7 east of the east edge -170: from 106.7 to 180 and from -180 to -170
    east_of = _db(demo_engine, "SELECT count(*) FROM schools WHERE ST_X(geom) >= 106.7"
                               " AND ST_Y(geom) BETWEEN 10 AND 11")
    assert 0 < _matched(client, "schools", bbox="106.7,10,-170,11") == east_of
    assert _matched(client, "schools", bbox="10,106.7,11,-170", **{"bbox-crs": EPSG4326}) == east_of


def test_every_schema_valid_bbox_and_datetime_has_a_meaning(client: TestClient,
                                                           demo_engine: Engine) -> None:
    """What OpenAPI 3.0 cannot say about a bbox or a datetime is answered, not refused."""
    schools = _db(demo_engine, "SELECT count(*) FROM schools")
    # beyond the poles and the antimeridian: taken at them
    assert _matched(client, "schools", bbox="-500,-100,500,100") == schools
    assert _matched(client, "schools", bbox="106,10,107,95") == _matched(client, "schools",
                                                                         bbox="106,10,107,90")
    # a lower corner above the upper one holds nothing, in any CRS
    assert _matched(client, "schools", bbox="106,11,107,10") == 0
    assert _matched(client, "schools", bbox="700000,1100000,500000,1300000",
                    **{"bbox-crs": EPSG9210}) == 0
    # projected coordinates far outside the CRS's area are taken at its edge (no 500, no
    # endless ST_Segmentize)
    assert _matched(client, "schools", bbox="-1e300,-1e300,1e300,1e300",
                    **{"bbox-crs": EPSG9210}) == schools
    # bbox-crs without bbox has nothing to apply to; 6 numbers carry heights, ignored
    assert _matched(client, "schools", **{"bbox-crs": EPSG4326}) == schools
    assert _matched(client, "schools", bbox="106,10,-5,107,11,5") == _matched(
        client, "schools", bbox="106,10,107,11")
    # an interval that ends before it starts holds no instant; a leap day is a day
    assert _matched(client, "wards", datetime="2026-05-01/2025-01-01") == 0
    assert _matched(client, "wards", datetime="2024-02-29") > 0


def test_req_core_fc_limit_above_a_collections_maximum_is_served_as_it(client: TestClient,
                                                                     demo_engine: Engine) -> None:
    """roads pages hold at most 1,000 features, as the document says; a larger limit is
    served as 1,000 with a next link that says so, and the pages cover every road once."""
    roads = _db(demo_engine, "SELECT count(*) FROM road_edges")
    assert roads > 2000
    document = client.get("/ogc/api").json()
    params = document["paths"]["/collections/roads/items"]["get"]["parameters"]
    limit = next(p for p in params if p.get("name") == "limit")
    assert limit["schema"]["maximum"] == 1000 and "1000" in limit["description"]
    body = client.get("/ogc/collections/roads/items", params={"limit": 10_000}).json()
    assert body["numberReturned"] == 1000 and body["numberMatched"] == roads
    next_href = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert "limit=1000" in next_href and "offset=1000" in next_href
    ids = [f["id"] for f in body["features"]]
    second = client.get(_path(next_href)).json()
    ids += [f["id"] for f in second["features"]]
    assert len(set(ids)) == 2000


def test_large_pages_are_written_one_at_a_time_and_small_ones_do_not_wait(
        demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three scripts asking for 1,000 roads at once are served one after the other (one
    thread of the worker); a small page asked while a large one is being written is answered
    without waiting for it. Events, not timings, order the requests."""
    running = {"large": 0, "peak": 0}
    lock = threading.Lock()
    writing, release = threading.Event(), threading.Event()
    real = ogc_features.query_features

    def watched(engine: Engine, collection: Any, request: Any) -> bytes:
        large = request.query_params.get("limit") == "1000"
        with lock:
            running["large"] += large
            running["peak"] = max(running["peak"], running["large"])
        try:
            if large:
                writing.set()
                assert release.wait(60), "the large page was never released"
            return real(engine, collection, request)
        finally:
            with lock:
                running["large"] -= large

    monkeypatch.setattr(ogc_features, "query_features", watched)
    monkeypatch.setenv("EDUGIS_RATE_LIMIT_PER_S", "0")  # one address asks for all of them
    with database_env(demo_engine, monkeypatch), TestClient(create_app()) as client, \
            ThreadPoolExecutor(4) as pool:
        large = [pool.submit(client.get, "/ogc/collections/roads/items?limit=1000") for _ in range(3)]
        assert writing.wait(60)  # one large page is being written and holds the gate
        small = pool.submit(client.get, "/ogc/collections/schools/items?limit=5")
        assert small.result(timeout=60).status_code == 200  # answered while the gate is held
        assert not any(f.done() for f in large)
        release.set()
        assert all(f.result(timeout=120).status_code == 200 for f in large)
    assert running["peak"] == 1


def test_req_core_datetime_on_validity_period(client: TestClient, demo_engine: Engine) -> None:
    wards = _db(demo_engine, "SELECT count(*) FROM admin_units WHERE level = 'ward'"
                             " AND (valid_to IS NULL OR valid_to > DATE '2026-01-01')")
    body = client.get("/ogc/collections/wards/items",
                      params={"datetime": "2026-01-01T00:00:00Z", "limit": 1}).json()
    assert body["numberMatched"] == wards
    body = client.get("/ogc/collections/wards/items", params={"datetime": "../2026-01-01"}).json()
    assert body["numberMatched"] == wards


def test_req_core_f_success_and_unknown_feature_404(client: TestClient) -> None:
    response = client.get("/ogc/collections/schools/items/DM-THPT-001")
    assert response.status_code == 200
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == "DM-THPT-001"
    assert feature["properties"]["level"] == "upper_secondary"
    assert response.headers["content-crs"] == f"<{CRS84}>"
    assert client.get("/ogc/collections/schools/items/DM-NOPE-999").status_code == 404
    assert client.get("/ogc/collections/schools/items/DM-THPT-001?foo=1").status_code == 400


def test_capacity_gaps_fall_back_to_census_children_against_ward_places(client: TestClient,
                                                                       demo_engine: Engine) -> None:
    assert _db(demo_engine, "SELECT count(*) FROM capacity_gaps") == 0  # nothing computed here
    body = client.get("/ogc/collections/capacity-gaps/items",
                      params={"limit": 1000, "level": "primary"}).json()
    assert body["numberMatched"] == _db(demo_engine, "SELECT count(*) FROM admin_units"
                                                     " WHERE level = 'ward'")
    ward = body["features"][0]["properties"]
    assert ward["basis"] == "ward_census" and ward["threshold_min"] is None
    children = _db(demo_engine, "SELECT sum(count) FROM population WHERE ward_code = :w AND age = 6"
                                " AND year = (SELECT max(year) FROM population)", w=ward["code"])
    places = _db(demo_engine, "SELECT coalesce(sum(capacity_grade1), 0) FROM schools"
                              " WHERE ward_code = :w", w=ward["code"])
    assert (ward["demand"], ward["seats_within_threshold"]) == (children, places)
    assert ward["shortfall_seats"] == max(children - places, 0)
    both = client.get("/ogc/collections/capacity-gaps/items", params={"limit": 1}).json()
    assert both["numberMatched"] == 2 * body["numberMatched"]  # primary and lower secondary


def test_catchments_one_outline_per_school_covering_its_wards(client: TestClient,
                                                              demo_engine: Engine) -> None:
    body = client.get("/ogc/collections/catchments/items",
                      params={"limit": 1000, "level": "primary"}).json()
    assert body["numberMatched"] == _db(demo_engine, "SELECT count(DISTINCT c.school_code) FROM"
                                        " catchments c JOIN schools s ON s.code = c.school_code"
                                        " WHERE s.level = 'primary'") > 0
    covered = set()
    for feature in body["features"]:
        props = feature["properties"]
        assert (props["level"], props["grade"]) == ("primary", 1)
        assert feature["geometry"]["type"] == "MultiPolygon" and feature["id"] == props["school_code"]
        covered |= set(props["ward_codes"].split(","))
    wards = _db(demo_engine, "SELECT count(*) FROM admin_units WHERE level = 'ward'")
    assert len(covered) == wards  # every ward is in some primary school's catchment
    one = body["features"][0]["properties"]
    area = _db(demo_engine, "SELECT sum(ST_Area(geom::geography)) FROM admin_units"
                            " WHERE code = ANY(:w)", w=one["ward_codes"].split(","))
    single = client.get(f"/ogc/collections/catchments/items/{one['school_code']}").json()
    assert single["properties"] == one
    outline = _db(demo_engine, "SELECT ST_Area(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326)::geography)",
                  g=json.dumps(single["geometry"]))
    assert outline == pytest.approx(area, rel=1e-4)


def test_roads_feature_ids_round_trip(client: TestClient) -> None:
    first = client.get("/ogc/collections/roads/items?limit=1").json()["features"][0]
    again = client.get(f"/ogc/collections/roads/items/{first['id']}").json()
    assert again["properties"] == first["properties"]


def test_applicants_are_not_published_anywhere(client: TestClient) -> None:
    text = client.get("/ogc/collections").text + client.get("/ogc/api").text
    assert "applicant" not in text.lower()


# ---- Part 2: CRS by reference --------------------------------------------------------------


def test_req_crs_content_crs_header_on_items(client: TestClient) -> None:
    for crs in (CRS84, EPSG4326, EPSG9210):
        response = client.get("/ogc/collections/districts/items", params={"crs": crs, "limit": 1})
        assert response.status_code == 200
        assert response.headers["content-crs"] == f"<{crs}>"


def test_req_crs_epsg4326_is_latitude_first(client: TestClient) -> None:
    plain = client.get("/ogc/collections/schools/items/DM-TH-001").json()
    flipped = client.get("/ogc/collections/schools/items/DM-TH-001", params={"crs": EPSG4326}).json()
    lon, lat = plain["geometry"]["coordinates"]
    assert flipped["geometry"]["coordinates"] == pytest.approx([lat, lon])


@pytest.fixture
def reference_school(empty_client: TestClient, engine: Engine) -> TestClient:
    """One school exactly on the VN-2000 reference point, in an otherwise empty database."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO schools (code, name, level, ownership, geom) VALUES ('REF', 'Điểm chuẩn',"
            " 'primary', 'public', ST_SetSRID(ST_Point(:lon, :lat), 4326))"),
            {"lon": REF_LON, "lat": REF_LAT})
    return empty_client


def test_req_crs_vn2000_reference_point_via_epsg_6960(reference_school: TestClient) -> None:
    for url in ("/ogc/collections/schools/items", "/ogc/collections/schools/items/REF"):
        body = reference_school.get(url, params={"crs": EPSG9210}).json()
        feature = body["features"][0] if "features" in body else body
        easting, northing = feature["geometry"]["coordinates"]  # EPSG:9210 axes are E, N
        assert abs(easting - REF_E) < 0.01 and abs(northing - REF_N) < 0.01
        assert abs(easting - REF_E_5194) > 0.5  # not PROJ's default operation
        py_e, py_n = from_storage(REF_LON, REF_LAT, "EPSG:9210")
        assert abs(easting - float(py_e)) < 0.005 and abs(northing - float(py_n)) < 0.005


def test_req_crs_bbox_crs_in_vn2000(reference_school: TestClient) -> None:
    def matched(e0: float, n0: float) -> int:
        bbox = f"{e0 - 10},{n0 - 10},{e0 + 10},{n0 + 10}"
        body = reference_school.get("/ogc/collections/schools/items",
                                    params={"bbox": bbox, "bbox-crs": EPSG9210}).json()
        return int(body["numberMatched"])

    assert matched(REF_E, REF_N) == 1
    assert matched(REF_E + 30, REF_N) == 0


def test_req_crs_bbox_crs_epsg4326_is_latitude_first(reference_school: TestClient) -> None:
    bbox = f"{REF_LAT - 0.001},{REF_LON - 0.001},{REF_LAT + 0.001},{REF_LON + 0.001}"
    body = reference_school.get("/ogc/collections/schools/items",
                                params={"bbox": bbox, "bbox-crs": EPSG4326}).json()
    assert body["numberMatched"] == 1


# ---- the cost of a page: one statement, counts reused while the data is unchanged ---------


def test_number_matched_follows_a_write_at_once_though_counts_are_reused(
        client: TestClient, demo_copy: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full page reuses the count of the same filter while the tables' versions, read in
    the same statement, are unchanged; a write moves them, so the next page counts again
    (no 2 s delay as with the cached tiles)."""
    del client  # the shared demo city is not written; its copy is
    url = "/ogc/collections/schools/items?limit=5&level=primary"
    with database_env(demo_copy, monkeypatch), TestClient(create_app()) as fresh:
        primary = _db(demo_copy, "SELECT count(*) FROM schools WHERE level = 'primary'")
        first, again = (fresh.get(url).json() for _ in range(2))
        assert first["numberMatched"] == again["numberMatched"] == primary
        with demo_copy.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO schools (code, name, level, ownership, geom) VALUES ('DM-NEW-OGC',"
                " 'Trường mới', 'primary', 'public', ST_SetSRID(ST_MakePoint(106.65, 10.75), 4326))"))
        after = fresh.get(url).json()
        assert after["numberMatched"] == primary + 1 and after["numberReturned"] == 5
        partial = fresh.get(f"{url}&offset={primary - 1}").json()  # last page: no count needed
        assert partial["numberReturned"] == 2 and partial["numberMatched"] == primary + 1
        assert not any(link["rel"] == "next" for link in partial["links"])


def test_features_are_written_by_postgis_as_python_wrote_them(client: TestClient,
                                                               demo_engine: Engine) -> None:
    """Each feature: id, geometry, properties in the collection's order (dates as ISO text,
    numbers as numbers) and its two links, as the GeoJSON the page used to build in Python."""
    body = client.get("/ogc/collections/wards/items?limit=3").json()
    feature = body["features"][0]
    assert list(feature) == ["type", "id", "geometry", "properties", "links"]
    assert list(feature["properties"]) == ["code", "name", "parent_code", "valid_from", "valid_to"]
    valid_from = _db(demo_engine, "SELECT valid_from FROM admin_units WHERE code = :c",
                     c=feature["id"])
    assert feature["properties"]["valid_from"] == (valid_from.isoformat() if valid_from else None)
    base = "http://testserver/ogc/collections/wards"
    assert feature["links"] == [
        {"href": f"{base}/items/{feature['id']}", "rel": "self",
         "type": "application/geo+json", "title": "this feature"},
        {"href": base, "rel": "collection", "type": "application/json", "title": "the collection"}]
    one = client.get(f"/ogc/collections/wards/items/{feature['id']}").json()
    assert one == feature
    roads = client.get("/ogc/collections/roads/items?limit=2").json()["features"]
    assert all(isinstance(f["properties"]["length_m"], float) for f in roads)
    assert all(isinstance(f["properties"]["edge_id"], int) for f in roads)


def test_a_collections_extent_follows_a_write_at_once_though_it_is_reused(
        client: TestClient, demo_copy: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    del client  # the shared demo city is not written; its copy is
    with database_env(demo_copy, monkeypatch), TestClient(create_app()) as fresh:
        before, again = (fresh.get("/ogc/collections/schools").json()["extent"]["spatial"]["bbox"][0]
                         for _ in range(2))
        assert before == again and before[2] < 107.5
        with demo_copy.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO schools (code, name, level, ownership, geom) VALUES ('DM-FAR-OGC',"
                " 'Trường xa', 'primary', 'public', ST_SetSRID(ST_MakePoint(107.6, 10.75), 4326))"))
        after = fresh.get("/ogc/collections/schools").json()["extent"]["spatial"]["bbox"][0]
        assert after[2] == pytest.approx(107.6) and after[:2] == before[:2]


def test_wards_are_those_of_today_and_a_retired_ward_moves_to_former_wards(
        fresh_client: TestClient, demo_copy: Engine) -> None:
    """A ward given an end date leaves ``wards`` and appears in ``former-wards``, with its
    former district; the wards of today have the province as parent (two tiers)."""
    before = fresh_client.get("/ogc/collections/wards/items", params={"limit": 1000}).json()
    parents = {f["properties"]["parent_code"] for f in before["features"]}
    province = _db(demo_copy, "SELECT code FROM admin_units WHERE level = 'province'")
    assert parents == {province}
    assert _matched(fresh_client, "former-wards") == 0
    code = before["features"][0]["id"]
    district = _db(demo_copy, "SELECT d.code FROM admin_units d, admin_units w WHERE w.code = :c"
                              " AND d.level = 'district' AND ST_Contains(d.geom, ST_PointOnSurface(w.geom))",
                   c=code)
    with demo_copy.begin() as conn:
        conn.execute(sa.text("UPDATE admin_units SET valid_to = DATE '2025-07-01', parent_code = :d"
                             " WHERE code = :c"), {"c": code, "d": district})
    after = fresh_client.get("/ogc/collections/wards/items", params={"limit": 1000}).json()
    assert after["numberMatched"] == before["numberMatched"] - 1
    assert code not in {f["id"] for f in after["features"]}
    former = fresh_client.get("/ogc/collections/former-wards/items").json()
    assert [(f["id"], f["properties"]["district_code"], f["properties"]["valid_to"])
            for f in former["features"]] == [(code, district, "2025-07-01")]
