"""Catchments: derived from wards and road times, imported from the district's list, and
turned into residence priority per (applicant, school) for grades 1 and 6."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import routing
from admissions import service
from admissions.catchments import (
    assign_wards,
    catchment_tiers,
    derive_catchments,
    import_catchments,
    load_catchments,
)
from basemaps.fetch import load_road_layer
from gis_service.errors import InputError


def _rows(engine: Engine, sql: str, **params: object) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params).all()]


def test_assign_wards_gives_every_ward_a_school() -> None:
    rows = assign_wards(["W1", "W2", "W3"], {"A": "W1", "B": "W1", "C": "W2", "D": None},
                        {"W1": "C", "W2": "A", "W3": "C"})
    pairs = set(map(tuple, rows.to_numpy().tolist()))
    # own wards kept, the nearest school only for the ward without one, a school off the
    # wards serves nothing by itself
    assert pairs == {("A", "W1"), ("B", "W1"), ("C", "W2"), ("C", "W3")}


def test_demo_catchments_cover_every_ward_and_each_school_serves_its_own(demo_engine: Engine) -> None:
    for level in ("primary", "lower_secondary"):
        uncovered = _rows(demo_engine, "SELECT w.code FROM admin_units w WHERE w.level = 'ward'"
                          " AND NOT EXISTS (SELECT 1 FROM catchments c JOIN schools s"
                          " ON s.code = c.school_code WHERE c.ward_code = w.code AND s.level = :l)",
                          l=level)
        assert uncovered == []
        strays = _rows(demo_engine, "SELECT s.code FROM schools s JOIN admin_units w ON w.level = 'ward'"
                       " AND ST_Intersects(w.geom, s.geom) WHERE s.level = :l AND s.ownership = 'public'"
                       " AND NOT EXISTS (SELECT 1 FROM catchments c WHERE c.school_code = s.code"
                       " AND c.ward_code = w.code)", l=level)
        assert strays == []
    private = _rows(demo_engine, "SELECT count(*) FROM catchments c JOIN schools s"
                    " ON s.code = c.school_code WHERE s.ownership = 'private'")
    assert private == [(0,)]


def test_a_ward_without_a_school_goes_to_the_school_nearest_by_road(demo_copy: Engine) -> None:
    ward, lon, lat = _rows(demo_copy, "SELECT w.code, ST_X(p), ST_Y(p) FROM (SELECT code, geom,"
                           " ST_PointOnSurface(geom) p FROM admin_units WHERE level = 'ward') w"
                           " ORDER BY w.code LIMIT 1")[0]
    with demo_copy.begin() as conn:  # the ward loses its primary schools
        conn.execute(sa.text("DELETE FROM schools s USING admin_units w WHERE w.code = :w"
                             " AND s.level = 'primary' AND ST_Intersects(w.geom, s.geom)"), {"w": ward})
    rows = derive_catchments(demo_copy, "primary")
    chosen = rows.loc[rows["ward_code"] == ward, "school_code"].tolist()
    assert len(chosen) == 1
    schools = _rows(demo_copy, "SELECT code, ST_X(geom), ST_Y(geom) FROM schools WHERE level = 'primary'"
                    " AND ownership = 'public' AND capacity_grade1 > 0 ORDER BY code")
    graph = routing.build_graph(load_road_layer(demo_copy), "motorbike")
    matrix = routing.od_matrix(graph, np.array([[lon, lat]]),
                               np.array([[x, y] for _, x, y in schools]), np.inf, "time")
    times = matrix.time_s.toarray()[0]
    times[times == 0] = np.inf  # sparse zeros are "not reached"
    assert schools[int(np.argmin(times))][0] == chosen[0]
    assert _rows(demo_copy, "SELECT DISTINCT source FROM catchments") == [("derived",)]


def test_import_refuses_bad_rows_by_row_and_field_and_stores_nothing(demo_copy: Engine,
                                                                     tmp_path: Path) -> None:
    before = _rows(demo_copy, "SELECT school_code, ward_code, source FROM catchments ORDER BY 1, 2")
    bad = tmp_path / "catchments.csv"
    bad.write_text("school_code,ward_code\nDM-TH-001,DM0101\nDM-NOPE,DM0101\nDM-THPT-001,DM0101\n"
                   "DM-TH-001,DM9999\nDM-TH-001,DM0101\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        import_catchments(demo_copy, bad)
    found = {(p.row, p.field) for p in caught.value.problems}
    assert found == {(2, "school_code"), (3, "school_code"), (4, "ward_code"), (5, "ward_code")}
    assert "DM-NOPE" in str(caught.value) and "listed twice" in str(caught.value)
    assert "được ghi hai lần" in str(caught.value)  # Vietnamese too
    assert _rows(demo_copy, "SELECT school_code, ward_code, source FROM catchments ORDER BY 1, 2") == before
    missing = tmp_path / "missing.csv"
    missing.write_text("school,ward\nA,B\n", encoding="utf-8")
    with pytest.raises(InputError, match="school_code"):
        import_catchments(demo_copy, missing)


def test_import_replaces_only_the_schools_it_names(demo_copy: Engine, tmp_path: Path) -> None:
    others = _rows(demo_copy, "SELECT school_code, ward_code FROM catchments"
                   " WHERE school_code <> 'DM-TH-001' ORDER BY 1, 2")
    good = tmp_path / "catchments.csv"
    good.write_text("school_code,ward_code\nDM-TH-001,DM0101\nDM-TH-001,DM0102\n", encoding="utf-8")
    import_catchments(demo_copy, good, actor="officer1")
    assert _rows(demo_copy, "SELECT ward_code, source FROM catchments WHERE school_code = 'DM-TH-001'"
                 " ORDER BY 1") == [("DM0101", "imported"), ("DM0102", "imported")]
    assert _rows(demo_copy, "SELECT school_code, ward_code FROM catchments"
                 " WHERE school_code <> 'DM-TH-001' ORDER BY 1, 2") == others
    actors = _rows(demo_copy, "SELECT actor FROM audit_log WHERE action = 'catchments.import'")
    assert actors == [("officer1",)]


def test_round_gives_residence_priority_only_inside_the_catchment(demo_copy: Engine) -> None:
    problem = service.load_problem(demo_copy, "demo-2026-g1")
    assert problem.tier is not None
    with demo_copy.connect() as conn:
        catchments = load_catchments(conn, "primary")
        applicants = dict(conn.execute(sa.text(
            "SELECT applicant_id, ward_code || ':' || tier FROM applicants"
            " WHERE round_id = 'demo-2026-g1'")).all())
    inside = outside = 0
    for a in range(0, problem.n_applicants, 97):
        ward, tier = applicants[str(problem.applicant_ids[a])].split(":")
        for c, school in enumerate(problem.choices[a]):
            if school < 0:
                continue
            if ward in catchments[str(problem.school_codes[school])]:
                assert problem.tier[a, c] == int(tier)
                inside += 1
            else:
                assert problem.tier[a, c] == 3
                outside += 1
    assert inside > 0 and outside > 0
    # without stored catchments the residence tier holds at every school (file semantics)
    with demo_copy.begin() as conn:
        conn.execute(sa.text("DELETE FROM catchments"))
    plain = service.load_problem(demo_copy, "demo-2026-g1")
    assert plain.tier is not None
    tiers = np.array([int(applicants[str(i)].split(":")[1]) for i in plain.applicant_ids])
    assert np.array_equal(plain.tier[:, 0], tiers.astype(np.int8))


def test_catchment_tiers_ignore_unlisted_choices() -> None:
    from admissions.problem import AdmissionProblem

    problem = AdmissionProblem(
        grade=1, applicant_ids=np.array(["a", "b"]), school_codes=np.array(["S1", "S2"]),
        school_names=np.array(["One", "Two"]), capacity=np.array([1, 1]),
        choices=np.array([[0, 1], [1, -1]], np.int32), distance_m=np.ones((2, 2)),
        time_s=np.ones((2, 2)), distance_kind="road", preference_kind="nearest",
        tier=np.ones((2, 2), np.int8))
    tiers = catchment_tiers(problem, np.array([2, 1], np.int8), ["W1", None],
                            {"S1": frozenset({"W1"}), "S2": frozenset({"W2"})})
    assert tiers.tolist() == [[2, 3], [3, 3]]


def test_cli_derives_and_imports(demo_copy: Engine, monkeypatch: pytest.MonkeyPatch,
                                 tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tests.conftest import database_env
    from web.cli import app

    with database_env(demo_copy, monkeypatch):
        runner = CliRunner()
        derived = runner.invoke(app, ["admissions", "catchments", "derive", "--level", "primary"])
        assert derived.exit_code == 0, derived.output
        assert "primary:" in derived.output and "48 wards" in derived.output
        bad = tmp_path / "bad.csv"
        bad.write_text("school_code,ward_code\nDM-NOPE,DM0101\n", encoding="utf-8")
        refused = runner.invoke(app, ["admissions", "catchments", "import", str(bad)])
        assert refused.exit_code != 0
        assert isinstance(refused.exception, InputError)
        assert "row 1" in str(refused.exception) and "'school_code'" in str(refused.exception)
