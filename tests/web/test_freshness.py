"""The published data follows the database: tiles and the finder see a committed change
within seconds, whoever wrote it, and never a change that was rolled back."""

from __future__ import annotations

import re

import mapbox_vector_tile
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from gis_service.changes import WATCHED_TABLES, DataVersions, read_versions
from tests.support.web import tile_of, wait_for
from web.collections import COLLECTIONS

HOME = (106.65, 10.75)  # inside the demo city, on its roads
NEW_SCHOOL = "DM-NEW-0001"


def test_every_watched_table_moves_its_version_on_commit_only(engine: Engine) -> None:
    with engine.connect() as reader:
        assert set(read_versions(reader)) == set(WATCHED_TABLES)
    for table in WATCHED_TABLES:
        with engine.connect() as reader:
            before = read_versions(reader)[table]
        with engine.begin() as conn:
            conn.execute(sa.text(f"DELETE FROM {table} WHERE false"))  # a statement, no rows
            with engine.connect() as reader:
                assert read_versions(reader)[table] == before, f"{table}: seen before commit"
        with engine.connect() as reader:
            assert read_versions(reader)[table] == before + 1, table
        with engine.connect() as conn, conn.begin() as transaction:
            conn.execute(sa.text(f"DELETE FROM {table}"))
            transaction.rollback()
        with engine.connect() as reader:
            assert read_versions(reader)[table] == before + 1, f"{table}: moved by a rollback"


def test_versions_are_read_again_only_when_old(engine: Engine) -> None:
    versions = DataVersions(max_age_s=3600)
    (first,) = versions.stamp(engine, ("schools",))
    assert versions.stamp(engine, ("schools", "no_such_table")) == (first, 0)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM schools WHERE false"))
    assert versions.stamp(engine, ("schools",)) == (first,)  # read less than an hour ago
    assert versions.stamp(engine, ("schools",), fresh=True) == (first + 1,)


def test_old_versions_are_read_again_in_the_background(engine: Engine) -> None:
    versions = DataVersions(max_age_s=0.0)
    (first,) = versions.stamp(engine, ("schools",))
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM schools WHERE false"))
    wait_for(lambda: versions.stamp(engine, ("schools",)) == (first + 1,), timeout_s=10)
    versions.join()


@pytest.mark.parametrize("collection", sorted(COLLECTIONS))
def test_each_collection_names_every_table_it_reads(collection: str) -> None:
    """A table missing from ``tables`` would leave that collection's tiles stale."""
    found = COLLECTIONS[collection]
    read = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)", found.source))
    assert read == set(found.tables)
    assert set(found.tables) <= set(WATCHED_TABLES)


def add_school(engine: Engine, code: str, lon: float, lat: float) -> None:
    """A primary school written straight to the table (as psql would), not by an import."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO schools (code, name, level, ownership, geom) VALUES (:c,"
            " 'Trường Tiểu học Mới', 'primary', 'public', ST_SetSRID(ST_Point(:x, :y), 4326))"),
            {"c": code, "x": lon, "y": lat})


def tile_codes(client: TestClient, path: str) -> set[str]:
    response = client.get(path)
    assert response.status_code == 200
    layer = mapbox_vector_tile.decode(response.content).get("schools", {"features": []})
    return {f["properties"]["code"] for f in layer["features"]}


def test_a_cached_tile_shows_a_new_school_and_forgets_a_deleted_one(
        fresh_client: TestClient, demo_copy: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import web.tiles
    from gis_service.tile_matrix_sets import TileMatrixSet

    rendered: list[tuple[str, ...]] = []
    render = web.tiles.render_tile

    def counting(engine: Engine, layers: tuple[str, ...], z: int, x: int, y: int,
                 tms: TileMatrixSet) -> bytes:
        rendered.append(layers)
        return render(engine, layers, z, x, y, tms)

    monkeypatch.setattr(web.tiles, "render_tile", counting)
    x, y = tile_of(*HOME, 15)
    basemap = f"/ogc/tiles/WebMercatorQuad/15/{y}/{x}"
    schools = f"/ogc/collections/schools/tiles/WebMercatorQuad/15/{y}/{x}"
    roads = f"/ogc/collections/roads/tiles/WebMercatorQuad/15/{y}/{x}"
    before = {path: tile_codes(fresh_client, path) for path in (basemap, schools)}
    road_tile = fresh_client.get(roads).content
    add_school(demo_copy, NEW_SCHOOL, *HOME)
    for path in (basemap, schools):
        wait_for(lambda p=path: tile_codes(fresh_client, p) == before[p] | {NEW_SCHOOL})
    with demo_copy.begin() as conn:
        conn.execute(sa.text("DELETE FROM schools WHERE code = :c"), {"c": NEW_SCHOOL})
    for path in (basemap, schools):
        wait_for(lambda p=path: tile_codes(fresh_client, p) == before[p])
    # the roads did not change: their tile is answered from the cache, never rendered again
    assert fresh_client.get(roads).content == road_tile
    assert rendered.count(("roads",)) == 1
    assert rendered.count(("schools",)) >= 3  # rendered for each state of the schools


def test_the_finder_ranks_a_new_school_first_once_stored(fresh_client: TestClient,
                                                         demo_copy: Engine) -> None:
    params = {"lon": HOME[0], "lat": HOME[1], "level": "primary", "k": 3}

    def first() -> str:
        response = fresh_client.get("/api/nearest", params=params)
        assert response.status_code == 200  # answered from the old data while it reloads
        return str(response.json()["schools"][0]["code"])

    old_first = first()
    fresh_client.get("/api/geocode", params={"q": "Phường"})  # the place names are loaded too
    add_school(demo_copy, NEW_SCHOOL, *HOME)
    wait_for(lambda: first() == NEW_SCHOOL)
    body = fresh_client.get("/api/nearest", params=params).json()
    assert body["schools"][0]["name"] == "Trường Tiểu học Mới"
    assert body["schools"][0]["time_s"] < 60  # a few metres off the road from home
    with demo_copy.begin() as conn:
        conn.execute(sa.text("DELETE FROM schools WHERE code = :c"), {"c": NEW_SCHOOL})
    wait_for(lambda: first() == old_first)
