"""The real-HCMC bundle shipped in data/hcmc, loaded from scratch and walked (issue 11).

Never skipped: the bundle is in the repository. One load per module (~15 s), then the
public map by ward, the finder at Nguyễn Huệ / Bến Nghé, a real OSM house number found by
the geocoder, a grade-10 round, the cut-offs, the synthetic marks and a second load that
loads nothing; then the rest of issue 11's walk: the
grade-10 round with homes far from every road under da, hcmc and mincost (flagged, never
refused), cut-offs imported by name (the unmatched names reported), the enrolment forecast
from the imported synthetic population and enrolment history, and the capacity gaps and
sites from it, catchments with a school outside every ward, and the wards of today in the
OGC collections.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
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
from web.real_city import BUNDLE_DIR, POPULATION_FILE, bundle_version, load_real_city


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
        levels: dict[str, int] = dict(conn.execute(sa.text(
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
        years = conn.execute(sa.text("SELECT DISTINCT year FROM population ORDER BY 1")).scalars()
        assert list(years) == list(range(2019, 2025))
        enrolled = conn.execute(sa.text(
            "SELECT count(DISTINCT year), count(DISTINCT grade), count(DISTINCT school_code),"
            " min(headcount) FROM enrolment")).one()
        assert enrolled[:2] == (6, 12) and enrolled[2] > 300 and enrolled[3] >= 0
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


def test_geocoder_finds_a_real_osm_house_number(client: TestClient) -> None:
    """48 Nguyễn Huệ is an OSM address node of the 2018 extract, kept by the bundle."""
    places = client.get("/api/geocode", params={"q": "48 Nguyễn Huệ"}).json()["places"]
    first = places[0]
    print(f"48 Nguyễn Huệ: {first['label']} ({first['kind']}) at {first['lon']:.6f},"
          f" {first['lat']:.6f}, {first['detail']}")
    assert nfc(first["label"]) == nfc("48 Nguyễn Huệ") and first["kind"] == "address"
    assert (first["lon"], first["lat"]) == pytest.approx((106.703956, 10.774191), abs=1e-6)
    assert {p["kind"] for p in places[1:]} == {"street"}  # then the street's sections


def test_school_page_has_the_imported_cutoffs(client: TestClient,
                                              real_city: tuple[Engine, dict[str, Any]]) -> None:
    engine, _ = real_city
    with engine.connect() as conn:
        named = conn.execute(sa.text("SELECT code, name FROM schools WHERE code IN"
                                     " (SELECT school_code FROM cutoffs)")).all()
    code = next(c for c, name in named if nfc(name) == nfc("Trường THPT Trưng Vương"))
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


#: Points inside wards of the bundle and 800-1,400 m from every mapped road (fields and
#: marshes of Bình Chánh, Hóc Môn, Nhà Bè, Bình Tân and Quận 2): homes the roads cannot reach.
FAR_HOMES = {
    "Phường Phú Thuận": (106.760, 10.735), "Phường Tân Tạo A": (106.560, 10.745),
    "Phường Thạnh Mỹ Lợi": (106.765, 10.745), "Xã Phong Phú": (106.675, 10.670),
    "Xã Vĩnh Lộc B": (106.540, 10.795), "Xã Tân Hiệp": (106.590, 10.925),
    "Xã Thới Tam Thôn": (106.615, 10.910), "Xã Nhơn Đức": (106.680, 10.670),
}
OFFROAD_ROUND = "hcmc-synthetic-2026-g10-offroad"


@dataclass(frozen=True)
class OffroadRound:
    """The moved applicants' homes, and the applicants already off the motorbike roads."""

    moved: dict[str, tuple[float, float]]
    already: set[str]


@pytest.fixture(scope="module")
def offroad_round(real_city: tuple[Engine, dict[str, Any]]) -> OffroadRound:
    """A copy of the grade-10 round whose first applicants live at :data:`FAR_HOMES`."""
    from admissions.service import load_problem

    engine, _ = real_city
    source = "hcmc-synthetic-2026-g10"
    before = load_problem(engine, source)
    assert before.offroad is not None
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO admission_rounds (id, grade, year, mechanism, seed, parameters, status)"
            " SELECT :c, grade, year, mechanism, seed, '{}', 'draft' FROM admission_rounds"
            " WHERE id = :r"), {"c": OFFROAD_ROUND, "r": source})
        conn.execute(sa.text(
            "INSERT INTO applicants (round_id, applicant_id, ward_code, residence_type, tier,"
            " score, bonus, choices, geom) SELECT :c, applicant_id, ward_code, residence_type,"
            " tier, score, bonus, choices, geom FROM applicants WHERE round_id = :r"),
            {"c": OFFROAD_ROUND, "r": source})
        conn.execute(sa.text(
            "INSERT INTO round_capacities (round_id, school_code, capacity)"
            " SELECT :c, school_code, capacity FROM round_capacities WHERE round_id = :r"),
            {"c": OFFROAD_ROUND, "r": source})
        moved = conn.execute(sa.text(
            "SELECT applicant_id FROM applicants WHERE round_id = :c ORDER BY applicant_id"
            " LIMIT :n"), {"c": OFFROAD_ROUND, "n": len(FAR_HOMES)}).scalars().all()
        for applicant, (ward, (lon, lat)) in zip(moved, FAR_HOMES.items(), strict=True):
            conn.execute(sa.text(
                "UPDATE applicants SET geom = ST_SetSRID(ST_Point(:x, :y), 4326), ward_code ="
                " (SELECT code FROM admin_units WHERE name = :w AND level = 'ward'"
                "  AND ST_Intersects(geom, ST_SetSRID(ST_Point(:x, :y), 4326)))"
                " WHERE round_id = :c AND applicant_id = :a"),
                {"x": lon, "y": lat, "w": ward, "c": OFFROAD_ROUND, "a": applicant})
    return OffroadRound({a: home for a, home in zip(moved, FAR_HOMES.values(), strict=True)},
                        set(before.applicant_ids[before.offroad]) - set(moved))


def test_the_far_homes_lie_in_their_wards_beyond_500_m_of_every_road(
        real_city: tuple[Engine, dict[str, Any]],
        offroad_round: OffroadRound) -> None:
    engine, _ = real_city
    with engine.connect() as conn:
        homes = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE a.ward_code IS NOT NULL), count(*) FILTER (WHERE"
            " EXISTS (SELECT 1 FROM road_edges e WHERE e.basemap = 'hcmc_osm_2018'"
            " AND ST_DWithin(e.geom, a.geom, 0.01)"
            " AND ST_DWithin(e.geom::geography, a.geom::geography, 500)))"
            " FROM applicants a WHERE round_id = :c AND applicant_id = ANY(:ids)"),
            {"c": OFFROAD_ROUND, "ids": list(offroad_round.moved)}).one()
    assert tuple(homes) == (len(FAR_HOMES), 0)  # each in its ward, none within 500 m of a road


@pytest.mark.parametrize("mechanism", ["da", "hcmc", "mincost"])
def test_grade10_round_flags_homes_far_from_roads_and_places_on_merit(
        real_city: tuple[Engine, dict[str, Any]],
        offroad_round: OffroadRound, mechanism: str) -> None:
    from admissions import haversine_m
    from admissions.explain import OFFROAD_NOTE
    from admissions.service import results_frame, run_round

    engine, _ = real_city
    moved, offroad = offroad_round.moved, sorted({*offroad_round.moved, *offroad_round.already})
    assert len(offroad_round.already) < 5  # the synthetic homes lie on roads, a few on paths
    figures = run_round(engine, OFFROAD_ROUND, mechanism, actor="test")
    assert figures["mechanism"] == mechanism and figures["applicants"] == 5_000
    assert figures["offroad_homes"] == len(offroad) and figures["without_home"] == 0
    assert 0.5 * 5_000 < figures["placed"] < 5_000
    if mechanism == "da":  # stable: no one with a better claim lost a seat to a far home
        assert figures["justified_envy"] == 0
    results = results_frame(engine, OFFROAD_ROUND).set_index("applicant_id")
    assert len(results) == 5_000  # every applicant has an outcome, none refused
    assert figures["offroad_placed"] == int((results.loc[offroad, "school_code"] != "").sum())
    assert sorted(results.index[results["reason_en"].str.endswith(OFFROAD_NOTE[1])]) == offroad
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT parameters FROM admission_rounds WHERE id = :r"),
                              {"r": OFFROAD_ROUND}).scalar_one()
        schools = pd.DataFrame(conn.execute(sa.text(
            "SELECT code, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM schools")).all(),
            columns=["code", "lon", "lat"]).set_index("code")
    assert stored["offroad_homes"] == len(offroad) and stored["max_offroad_m"] == 500.0
    for applicant, (lon, lat) in moved.items():
        school = results.at[applicant, "school_code"]
        if school:  # placed: the distance is the straight line from the far home
            straight = float(haversine_m(np.array(lon), np.array(lat),
                                         np.array(schools.at[school, "lon"]),
                                         np.array(schools.at[school, "lat"])))
            assert results.at[applicant, "distance_m"] == pytest.approx(straight, abs=0.05)


#: Names of the city's grade-10 list that the OSM 2018 points lack (Gia Định, Củ Chi) or hold
#: twice (two points named "THPT Hiep binh" in two wards).
NAMES_NOT_MATCHED = {"THPT Gia Định": "unmatched", "THPT Củ Chi": "unmatched",
                     "THPT Hiệp Bình": "ambiguous"}


def test_bundle_cutoffs_are_the_published_list_the_importer_reads() -> None:
    from forecasting.cutoff_import import read_cutoffs

    rows = read_cutoffs(BUNDLE_DIR / hcmc_bundle.CUTOFFS_FILE)  # refuses any bad row
    bundle = pd.read_csv(BUNDLE_DIR / hcmc_bundle.CUTOFFS_FILE)
    assert list(bundle.columns) == hcmc_bundle.CUTOFF_COLUMNS and "school_code" not in bundle
    over_30 = bundle["cutoff_score"] > 30
    assert over_30.sum() > 0 and (bundle.loc[over_30, "max_score"] == 50).all()
    assert set(rows.loc[bundle["max_score"].to_numpy() == 30, "programme"]) == {"regular"}
    assert set(NAMES_NOT_MATCHED) <= set(rows["school_name"])


def test_load_imports_the_cutoffs_by_name_and_reports_the_names_left(
        real_city: tuple[Engine, dict[str, Any]]) -> None:
    from forecasting._matching import school_key
    from forecasting.cutoff_import import read_cutoffs

    engine, result = real_city
    unmatched = dict(result["cutoffs"]["unmatched"])
    assert {name: unmatched.get(name) for name in NAMES_NOT_MATCHED} == NAMES_NOT_MATCHED
    rows = read_cutoffs(BUNDLE_DIR / hcmc_bundle.CUTOFFS_FILE)
    expected = rows[~rows["school_name"].isin(unmatched)]
    with engine.connect() as conn:
        stored = pd.DataFrame(conn.execute(sa.text(
            "SELECT c.school_code, s.name, c.year, c.admission_round, c.programme, c.cutoff_score"
            " FROM cutoffs c JOIN schools s ON s.code = c.school_code")).all(),
            columns=["school_code", "name", "year", "admission_round", "programme", "cutoff_score"])
    # every row of every matched name is stored once, under one school per proper name
    # ("THCS-THPT Trần Đại Nghĩa" and "THPT Chuyên Trần Đại Nghĩa" are one school)
    expected = expected.assign(school=expected["school_name"].map(
        lambda name: school_key(name, drop_chuyen=True)))
    expected = expected.drop_duplicates(["school", "year", "admission_round", "programme"])
    assert len(stored) == len(expected)
    assert 50 < stored["school_code"].nunique() == expected["school"].nunique()
    key = ["year", "admission_round", "programme", "cutoff_score"]
    assert set(stored[key].itertuples(index=False, name=None)) == set(
        expected[key].itertuples(index=False, name=None))
    assert (stored["cutoff_score"] > 30).sum() == (expected["cutoff_score"] > 30).sum() > 0
    # the one name the loader maps (OSM holds the school twice in one ward)
    assert "OSM-W516933019" in set(stored["school_code"])
    assert result["cutoffs"]["details"].startswith(f"{expected['school_name'].nunique() - 1}"
                                                   " matched")


@pytest.fixture(scope="module")
def forecast(real_city: tuple[Engine, dict[str, Any]]) -> pd.DataFrame:
    """The product's enrolment forecast (3 years) on the real city, stored."""
    from forecasting.service import forecast_and_store

    engine, _ = real_city
    frame, _ = forecast_and_store(engine, horizon_years=3)
    return frame


def test_enrolment_forecast_runs_on_the_real_city(real_city: tuple[Engine, dict[str, Any]],
                                                  forecast: pd.DataFrame) -> None:
    engine, _ = real_city
    assert set(forecast["level"]) == {"primary", "lower_secondary", "upper_secondary"}
    assert sorted(set(forecast["year"])) == [2025, 2026, 2027]
    for column in ("predicted", "lower", "upper"):
        assert np.isfinite(forecast[column]).all() and (forecast[column] >= 0).all()
    assert (forecast["lower"] <= forecast["predicted"]).all()
    assert (forecast["predicted"] <= forecast["upper"]).all()
    with engine.connect() as conn:
        wards = set(conn.execute(sa.text(
            "SELECT code FROM admin_units WHERE level = 'ward' AND valid_to IS NULL")).scalars())
        enrolled_wards = set(conn.execute(sa.text(
            "SELECT DISTINCT s.ward_code FROM enrolment e JOIN schools s ON s.code = e.school_code"
            )).scalars())
        history = conn.execute(sa.text(
            "SELECT sum(headcount) FROM enrolment e WHERE year = 2024 AND grade = 10")).scalar_one()
        stored = conn.execute(sa.text("SELECT count(*) FROM enrolment_forecasts")).scalar_one()
    assert enrolled_wards <= set(forecast["ward_code"]) <= wards  # per ward of today
    assert stored == len(forecast)
    entry = forecast[(forecast["level"] == "upper_secondary") & (forecast["measure"] == "entry")]
    by_year = entry.groupby("year")["predicted"].sum()
    # the synthetic history grows 2 % a year: next year's grade 10 is near this year's
    assert 0.9 * history < by_year[2025] < 1.2 * history


def test_gaps_and_sites_from_the_forecast(real_city: tuple[Engine, dict[str, Any]],
                                          forecast: pd.DataFrame) -> None:
    from forecasting.service import gaps_and_store, sites_and_store

    engine, _ = real_city
    with engine.connect() as conn:
        methods = conn.execute(sa.text("SELECT DISTINCT method FROM population")).scalars().all()
    assert methods and all(POPULATION_FILE in m for m in methods)
    entry = forecast[(forecast["level"] == "upper_secondary") & (forecast["measure"] == "entry")
                     & (forecast["year"] == 2026)]
    demand = entry.set_index("ward_code")["predicted"]
    gaps = gaps_and_store(engine, "upper_secondary", 2026)
    # enrolment counts where the schools are: the wards with a THPT have a forecast and a gap
    assert set(gaps["ward_code"]) == set(demand.index) and len(gaps) > 100
    assert gaps["demand"].sum() == pytest.approx(demand.reindex(gaps["ward_code"]).sum())
    for column in ("demand", "seats_within_threshold", "accessible_seats", "shortfall_seats"):
        assert np.isfinite(gaps[column]).all() and (gaps[column] >= 0).all()
    assert 0 < (gaps["shortfall_seats"] > 0).sum() < len(gaps)  # some wards short, not all
    # p-median over the default 2,000 candidate nodes (the bundle's footpath nodes, far from
    # any motorbike road, are no candidates)
    run = sites_and_store(engine, "upper_secondary", 2026, p=3)
    assert len(run.sites) == 3 and np.isfinite(run.summary.select_dtypes("number")).all().all()
    with engine.connect() as conn:
        inside = conn.execute(sa.text(
            "SELECT count(*) FROM proposed_sites p JOIN admin_units w ON w.code = p.ward_code"
            " AND w.level = 'ward' AND ST_Intersects(w.geom, p.geom) WHERE p.run_id = :r"),
            {"r": run.run_id}).scalar_one()
    assert inside == 3  # each site on a road node inside an under-served ward of the city


#: A road node of the bundle more than 1 km outside every ward (north of Thủ Đức).
OUTSIDE_WARDS = (106.8720646, 10.8943345)


@pytest.mark.parametrize("level", ["primary", "lower_secondary"])
def test_catchments_derived_with_a_school_outside_every_ward(
        real_city: tuple[Engine, dict[str, Any]], level: str) -> None:
    from admissions.catchments import GRADE_OF_LEVEL, derive_catchments

    engine, _ = real_city
    places = f"capacity_grade{GRADE_OF_LEVEL[level]}"
    with engine.begin() as conn:
        conn.execute(sa.text(
            f"INSERT INTO schools (code, name, level, ownership, {places}, geom) VALUES"
            " ('TEST-OUT', 'Trường ngoài phường', :l, 'public', 40,"
            " ST_SetSRID(ST_Point(:x, :y), 4326))"),
            {"l": level, "x": OUTSIDE_WARDS[0], "y": OUTSIDE_WARDS[1]})
    try:
        rows = derive_catchments(engine, level, actor="test")
        with engine.connect() as conn:
            own: dict[str, str] = dict(conn.execute(sa.text(
                "SELECT s.code, w.code FROM schools s JOIN admin_units w ON w.level = 'ward'"
                f" AND ST_Intersects(w.geom, s.geom) WHERE s.level = :l AND s.ownership = 'public'"
                f" AND s.{places} > 0"), {"l": level}).all())
            wards = set(conn.execute(sa.text(
                "SELECT code FROM admin_units WHERE level = 'ward' AND valid_to IS NULL")).scalars())
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM schools WHERE code = 'TEST-OUT'"))
    pairs = set(rows.itertuples(index=False, name=None))
    assert "TEST-OUT" not in own and len(own) > 100
    assert all((school, ward) in pairs for school, ward in own.items())  # each serves its ward
    assert set(rows["ward_code"]) == wards  # and every ward is served


def test_ogc_collections_serve_the_wards_of_today(client: TestClient,
                                                  real_city: tuple[Engine, dict[str, Any]]) -> None:
    engine, _ = real_city
    collections = client.get("/ogc/collections", params={"f": "json"}).json()["collections"]
    assert "wards" in {c["id"] for c in collections}
    page = client.get("/ogc/collections/wards/items", params={"limit": 5, "f": "json"}).json()
    names = [f["properties"]["name"] for f in page["features"]]
    with engine.connect() as conn:
        wards = set(conn.execute(sa.text(
            "SELECT name FROM admin_units WHERE level = 'ward' AND valid_to IS NULL")).scalars())
    assert len(names) == 5 and set(names) <= wards
    assert all(name.startswith(("Phường", "Xã", "Thị trấn")) for name in names)


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
