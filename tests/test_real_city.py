"""The real-HCMC bundle shipped in data/hcmc, loaded from scratch and walked (issue 11).

Never skipped: the bundle is in the repository. One load per module (~15 s), then the
public map by ward, the finder at Nguyễn Huệ / Bến Nghé, a grade-10 round, the cut-offs, the
synthetic marks and a second load that loads nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from basemaps import hcmc_bundle
from gis_service import db
from tests.conftest import _clone, database_env
from web.real_city import BUNDLE_DIR, bundle_version, load_real_city


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


#: A point on Nguyễn Huệ boulevard, Bến Nghé ward, Quận 1.
NGUYEN_HUE = (106.7031, 10.7745)
BUNDLE_LIMIT_BYTES = 15_000_000


@pytest.fixture(scope="module")
def real_city(template_url: str) -> Iterator[tuple[Engine, dict[str, Any]]]:
    """A fresh database with the bundle loaded, and what the load returned."""
    url = _clone(template_url)
    engine = db.create_engine(url)
    result = load_real_city(engine)
    yield engine, result
    engine.dispose()
    db.drop_database(url)


@pytest.fixture(scope="module")
def client(real_city: tuple[Engine, dict[str, Any]]) -> Iterator[TestClient]:
    from web.app import create_app

    engine, _ = real_city
    with pytest.MonkeyPatch.context() as patch, database_env(engine, patch), \
            TestClient(create_app()) as test_client:
        yield test_client


def test_bundle_is_small_and_every_file_has_its_sources_entry() -> None:
    sources = (BUNDLE_DIR / "SOURCES.md").read_text()
    sizes = {name: (BUNDLE_DIR / name).stat().st_size for name in hcmc_bundle.BUNDLE_FILES}
    assert sum(sizes.values()) < BUNDLE_LIMIT_BYTES
    for name, size in sizes.items():
        assert f"## {name} ({size:,} bytes)" in sources
    assert "ODbL 1.0" in sources and "© OpenStreetMap contributors" in sources
    assert "UNVERIFIED" in sources


def test_load_stores_the_real_layers_and_marks_the_generated_ones(
        real_city: tuple[Engine, dict[str, Any]]) -> None:
    engine, result = real_city
    assert result["version"] == bundle_version()
    with engine.connect() as conn:
        levels = dict(conn.execute(sa.text(
            "SELECT level, count(*) FROM admin_units GROUP BY level")).all())
        assert levels["district"] == 22 and levels["ward"] > 250
        assert conn.execute(sa.text(
            "SELECT count(*) FROM admin_units WHERE source NOT LIKE 'OpenStreetMap 2018-01-01%'"
        )).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM schools WHERE code LIKE 'OSM-%'")
                            ).scalar_one() > 500
        multi = conn.execute(sa.text(
            "SELECT levels FROM schools WHERE name = 'Trường THCS - THPT Tân Phú'")).scalar_one()
        assert multi == ["lower_secondary", "upper_secondary"]
        methods = conn.execute(sa.text("SELECT DISTINCT method FROM population")).scalars().all()
        assert methods and all("synthetic" in m for m in methods)
        rounds = conn.execute(sa.text("SELECT id FROM admission_rounds ORDER BY grade")).scalars()
        assert list(rounds) == [f"hcmc-synthetic-2026-g{g}" for g in (1, 6, 10)]
        assert conn.execute(sa.text("SELECT count(*) FROM applicants WHERE applicant_id NOT LIKE"
                                    " 'SYN-%'")).scalar_one() == 0
        in_use = conn.execute(sa.text("SELECT value FROM app_settings WHERE key = 'basemap'"))
        assert in_use.scalar_one() == "hcmc_osm_2018"


def test_a_second_load_loads_nothing(real_city: tuple[Engine, dict[str, Any]]) -> None:
    engine, _ = real_city
    assert load_real_city(engine) == {"skipped": bundle_version()}


def test_homes_lie_on_residential_roads_inside_their_wards(
        real_city: tuple[Engine, dict[str, Any]]) -> None:
    engine, _ = real_city
    with engine.connect() as conn:
        far = conn.execute(sa.text(
            "SELECT count(*) FROM (SELECT geom FROM applicants WHERE round_id LIKE '%g10'"
            " ORDER BY applicant_id LIMIT 300) a WHERE NOT EXISTS (SELECT 1 FROM road_edges e"
            " WHERE e.basemap = 'hcmc_osm_2018' AND ST_DWithin(e.geom::geography,"
            " a.geom::geography, 300))")).scalar_one()
        outside = conn.execute(sa.text(
            "SELECT count(*) FROM applicants a JOIN admin_units w ON w.code = a.ward_code"
            " WHERE NOT ST_DWithin(w.geom::geography, a.geom::geography, 20)")).scalar_one()
    assert far == 0 and outside == 0


def test_public_map_lists_real_schools_by_ward(client: TestClient,
                                               real_city: tuple[Engine, dict[str, Any]]) -> None:
    engine, _ = real_city
    with engine.connect() as conn:
        ben_nghe = conn.execute(sa.text(
            "SELECT code FROM admin_units WHERE name = 'Phường Bến Nghé'")).scalar_one()
    features = client.get("/api/schools", params={"ward": ben_nghe}).json()["features"]
    names = {nfc(f["properties"]["name"]) for f in features}  # OSM mixes Unicode forms
    assert {nfc("Trường THPT Trưng Vương"), nfc("Trường THPT Chuyên Trần Đại Nghĩa")} <= names
    assert all(f["id"].startswith("OSM-") for f in features)
    page = nfc(client.get("/schools", params={"ward": ben_nghe}).text)
    assert nfc("Trường THPT Trưng Vương") in page and "Dữ liệu mô phỏng / synthetic" in page


def test_finder_at_nguyen_hue_ranks_real_schools_by_motorbike_time(client: TestClient) -> None:
    lon, lat = NGUYEN_HUE
    answer = client.get("/api/nearest", params={"lon": lon, "lat": lat, "mode": "motorbike",
                                                 "level": "upper_secondary", "k": 5}).json()
    schools = answer["schools"]
    assert answer["basemap"] == "hcmc_osm_2018" and len(schools) == 5
    assert all(s["code"].startswith("OSM-") for s in schools)
    times = [s["time_s"] for s in schools]
    assert times == sorted(times) and times[0] < 600  # a THPT within 10 minutes of Nguyễn Huệ


def test_school_page_has_the_imported_cutoffs(client: TestClient) -> None:
    cutoffs = pd.read_csv(BUNDLE_DIR / hcmc_bundle.CUTOFFS_FILE)
    code = cutoffs.loc[cutoffs["school_name"] == "THPT Trưng Vương", "school_code"].iloc[0]
    history = client.get(f"/api/schools/{code}").json()["cutoffs"]
    assert {str(year) for year in (2022, 2023, 2024)} <= {str(c["year"]) for c in history}


def test_grade10_round_runs_on_the_real_roads(real_city: tuple[Engine, dict[str, Any]]) -> None:
    from admissions.service import run_round

    engine, _ = real_city
    metrics = run_round(engine, "hcmc-synthetic-2026-g10", actor="test")
    with engine.connect() as conn:
        placed, total = conn.execute(sa.text(
            "SELECT count(school_code), count(*) FROM allocations"
            " WHERE round_id = 'hcmc-synthetic-2026-g10'")).one()
    assert total == 5_000 and 0.5 * total < placed < total
    assert metrics


def test_synthetic_scores_follow_the_exam_histogram(real_city: tuple[Engine, dict[str, Any]]) -> None:
    engine, _ = real_city
    with engine.connect() as conn:
        scores = np.array(conn.execute(sa.text(
            "SELECT score FROM applicants WHERE round_id = 'hcmc-synthetic-2026-g10'")).scalars().all())
    histogram = pd.read_csv(BUNDLE_DIR / hcmc_bundle.HISTOGRAM_FILE)
    mean = np.average(histogram["total_score_3_subjects"], weights=histogram["n_candidates"])
    assert abs(scores.mean() - mean) < 0.3 and set(scores * 4) <= set(np.arange(0, 121))


def test_removing_the_real_city_leaves_none_of_its_rows(
        real_city: tuple[Engine, dict[str, Any]]) -> None:
    from web.real_city import loaded_version, remove_real_city

    engine, _ = real_city  # the last test of the module: it empties the shared database
    remove_real_city(engine)
    with engine.connect() as conn:
        left = conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM schools) + (SELECT count(*) FROM admin_units)"
            " + (SELECT count(*) FROM population) + (SELECT count(*) FROM cutoffs)"
            " + (SELECT count(*) FROM admission_rounds) + (SELECT count(*) FROM catchments)"
        )).scalar_one()
    assert left == 0 and loaded_version(engine) is None
