"""OGC API - Tiles: vector tiles from ST_AsMVT decode to the rows PostGIS holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import database_env
from tests.support.web import tile_of, wait_for
from web.app import create_app

MVT = "application/vnd.mapbox-vector-tile"
CENTRE_LON, CENTRE_LAT = 106.64, 10.74  # inside the demo city


def _schools_in_tile(engine: Engine, z: int, x: int, y: int) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(
            "SELECT code FROM schools WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y,"
            " margin => 64.0 / 4096), 4326)"), {"z": z, "x": x, "y": y}).scalars())


def test_basemap_tile_has_roads_wards_schools_matching_postgis(client: TestClient,
                                                              demo_engine: Engine) -> None:
    x, y = tile_of(CENTRE_LON, CENTRE_LAT, 14)
    response = client.get(f"/ogc/tiles/WebMercatorQuad/14/{y}/{x}")
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    tile = mapbox_vector_tile.decode(response.content)
    assert set(tile) == {"roads", "wards", "schools"}
    codes = {f["properties"]["code"] for f in tile["schools"]["features"]}
    assert codes == _schools_in_tile(demo_engine, 14, x, y) and codes
    assert {f["properties"]["highway"] for f in tile["roads"]["features"]} & {"residential", "service"}


def test_low_zoom_tiles_keep_main_roads_only(client: TestClient) -> None:
    x, y = tile_of(CENTRE_LON, CENTRE_LAT, 11)
    tile = mapbox_vector_tile.decode(client.get(f"/ogc/tiles/WebMercatorQuad/11/{y}/{x}").content)
    classes = {f["properties"]["highway"] for f in tile["roads"]["features"]}
    assert classes and classes <= {"motorway", "trunk", "primary", "secondary"}


def test_collection_tile_has_one_layer_named_after_it(client: TestClient, demo_engine: Engine) -> None:
    x, y = tile_of(CENTRE_LON, CENTRE_LAT, 13)
    response = client.get(f"/ogc/collections/schools/tiles/WebMercatorQuad/13/{y}/{x}")
    tile = mapbox_vector_tile.decode(response.content)
    assert set(tile) == {"schools"}
    assert {f["properties"]["code"] for f in tile["schools"]["features"]} == \
        _schools_in_tile(demo_engine, 13, x, y)


def test_tile_far_from_the_city_is_empty(client: TestClient) -> None:
    response = client.get("/ogc/tiles/WebMercatorQuad/14/0/0")
    assert response.status_code == 200 and response.content == b""


@pytest.mark.parametrize("url", [
    "/ogc/tiles/WebMercatorQuad/23/0/0", "/ogc/tiles/WebMercatorQuad/2/4/0",
    "/ogc/tiles/WebMercatorQuad/2/0/-1", "/ogc/tiles/GNOSISGlobalGrid/2/0/0",
    "/ogc/tiles/WorldCRS84Quad/2/4/0", "/ogc/tiles/WorldCRS84Quad/2/0/8",
    "/ogc/collections/applicants/tiles/WebMercatorQuad/2/0/0", "/ogc/tileMatrixSets/Nope",
])
def test_unknown_tiles_are_404(client: TestClient, url: str) -> None:
    assert client.get(url).status_code == 404


def test_tileset_metadata_links_templated_tiles_and_osm_attribution(client: TestClient) -> None:
    meta = client.get("/ogc/tiles/WebMercatorQuad").json()
    assert meta["dataType"] == "vector" and "OpenStreetMap contributors" in meta["attribution"]
    item = next(link for link in meta["links"] if link["rel"] == "item")
    assert item["href"].endswith("/ogc/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    assert item["type"] == MVT
    assert [layer["id"] for layer in meta["layers"]] == ["roads", "wards", "schools"]
    wards = client.get("/ogc/collections/wards/tiles").json()
    assert wards["tilesets"][0]["dataType"] == "vector"


def test_web_mercator_quad_definition(client: TestClient) -> None:
    tms = client.get("/ogc/tileMatrixSets/WebMercatorQuad").json()
    zero = tms["tileMatrices"][0]
    assert zero["cellSize"] == pytest.approx(156543.03392804097)
    assert zero["scaleDenominator"] == pytest.approx(559082264.0287178)
    assert tms["tileMatrices"][14]["matrixWidth"] == 2**14


def test_world_crs84_quad_definition_and_tile_in_degrees(client: TestClient,
                                                        demo_engine: Engine) -> None:
    """WorldCRS84Quad (2 x 1 tiles at level 0, lon/lat): its definition is the standard's, and
    a school tile in it holds the schools PostGIS finds in that box of degrees."""
    tms = client.get("/ogc/tileMatrixSets/WorldCRS84Quad").json()
    assert tms["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    zero = tms["tileMatrices"][0]
    assert (zero["matrixWidth"], zero["matrixHeight"], zero["pointOfOrigin"]) == (2, 1, [-180, 90])
    assert zero["cellSize"] == pytest.approx(0.703125)
    assert zero["scaleDenominator"] == pytest.approx(279541132.0143589)
    z, span = 12, 180 / 2**12
    x, y = int((CENTRE_LON + 180) // span), int((90 - CENTRE_LAT) // span)
    response = client.get(f"/ogc/collections/schools/tiles/WorldCRS84Quad/{z}/{y}/{x}")
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    codes = {f["properties"]["code"] for f in
             mapbox_vector_tile.decode(response.content)["schools"]["features"]}
    margin = span * 64 / 4096
    west, north = -180 + x * span, 90 - y * span
    with demo_engine.connect() as conn:
        expected = set(conn.execute(sa.text(
            "SELECT code FROM schools WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"),
            {"w": west - margin, "s": north - span - margin, "e": west + span + margin,
             "n": north + margin}).scalars())
    assert codes == expected and codes
    sets = client.get("/ogc/collections/schools/tiles").json()["tilesets"]
    assert [t["tileMatrixSetURI"].rsplit("/", 1)[1] for t in sets] == ["WebMercatorQuad",
                                                                      "WorldCRS84Quad"]


def test_cached_tiles_come_back_with_the_same_bytes_and_headers(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import web.fastpath

    handler = web.fastpath.tile_fast
    answered: list[bool] = []

    async def spy(scope: Any, send: Any) -> bool:
        answered.append(await handler(scope, send))
        return answered[-1]

    monkeypatch.setattr(web.fastpath, "tile_fast", spy)
    x, y = tile_of(CENTRE_LON, CENTRE_LAT, 15)
    for url in (f"/ogc/tiles/WebMercatorQuad/15/{y}/{x}",
                f"/ogc/collections/roads/tiles/WebMercatorQuad/15/{y}/{x}"):
        rendered, cached = client.get(url), client.get(url)
        assert rendered.status_code == cached.status_code == 200
        assert rendered.content == cached.content and rendered.content
        for header in ("content-type", "content-length", "cache-control",
                       "content-security-policy", "x-content-type-options"):
            assert rendered.headers[header] == cached.headers[header], header
    assert answered == [False, True, False, True]
    # an unknown collection is never answered from the cache, even for a cached tile position
    assert client.get(f"/ogc/collections/applicants/tiles/WebMercatorQuad/15/{y}/{x}").status_code == 404
    # digits of other scripts ("²", Arabic-Indic zero) are not tile numbers, cached or not
    for odd in ("%C2%B2", "%D9%A0"):
        assert client.get(f"/ogc/tiles/WebMercatorQuad/15/{y}/{odd}").status_code == 400


def test_app_nodes_share_rendered_tiles_through_the_data_folder(
        demo_copy: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A node started later serves the tiles another rendered, until the data change (issue 14)."""
    import web.tiles

    rendered: list[tuple[int, int, int]] = []
    real = web.tiles.render_tile

    def counted(engine: Engine, layers: tuple[str, ...], z: int, x: int, y: int, *rest: Any) -> bytes:
        rendered.append((z, x, y))
        return real(engine, layers, z, x, y, *rest)

    monkeypatch.setattr(web.tiles, "render_tile", counted)
    monkeypatch.setenv("EDUGIS_CACHE_DIR", str(tmp_path))
    with demo_copy.connect() as conn:
        school, lon, lat = conn.execute(sa.text(
            "SELECT code, ST_X(geom), ST_Y(geom) FROM schools ORDER BY code LIMIT 1")).one()
    x, y = tile_of(lon, lat, 15)
    url = f"/ogc/tiles/WebMercatorQuad/15/{y}/{x}"
    with database_env(demo_copy, monkeypatch), TestClient(create_app()) as first:
        tile = first.get(url).content
        deep_x, deep_y = tile_of(CENTRE_LON, CENTRE_LAT, 17)
        assert first.get(f"/ogc/tiles/WebMercatorQuad/17/{deep_y}/{deep_x}").status_code == 200
        far = first.get("/ogc/tiles/WebMercatorQuad/15/0/0")  # the Arctic: no data, empty tile
        assert far.status_code == 200 and far.content == b""
    assert tile and len(rendered) == 3
    # one file: tiles deeper than z16 and empty tiles stay in each process's memory
    (shared,) = (tmp_path / "tiles").rglob("*.mvt")
    assert shared.parts[-3:] == ("15", str(x), f"{y}.mvt")
    with database_env(demo_copy, monkeypatch), TestClient(create_app()) as later:
        assert later.get(url).content == tile and len(rendered) == 3  # from disk, not rendered
        with demo_copy.begin() as conn:
            conn.execute(sa.text("UPDATE schools SET name = name || ' (mới)' WHERE code = :c"),
                         {"c": school})
        # the change is seen within the versions' refresh: rendered again, the file replaced
        wait_for(lambda: later.get(url).content != tile, timeout_s=20)
        assert len(rendered) == 4 and shared.read_bytes().endswith(later.get(url).content)
