"""The officers' workspace through the app on the demo city: create, import (refused whole,
then accepted), run, compare, explain, override with a reason, export, publish, refusals.

Writes only a round with a unique id (and a uniquely named user) to the shared demo database.
"""

from __future__ import annotations

import csv
import io
import random
import re
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from admissions import service
from gis_service.accounts import create_user
from tests.support.web import FIRST, PASSWORD, SECOND, csrf, grade10_rows, login


@pytest.fixture
def officer(client: TestClient, demo_engine: Engine) -> str:
    name = f"officer_{uuid.uuid4().hex[:6]}"
    create_user(demo_engine, name, PASSWORD, "officer")
    login(client, name)
    return name


def _new_grade10_round(client: TestClient) -> str:
    """Create a grade-10 round through the form as the signed-in officer; its page's path."""
    round_id = f"web-{uuid.uuid4().hex[:8]}"
    created = client.post("/officer/rounds", data={"round_id": round_id, "grade": "10",
                                                   "year": "2026", "csrf_token": csrf(client)})
    assert created.status_code == 200, created.text  # followed to the round page
    return f"/officer/rounds/{round_id}"


def _actions(engine: Engine, round_id: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT action FROM audit_log WHERE target = :r ORDER BY id"),
                                 {"r": round_id}).scalars())


def test_officer_round_from_create_to_publish(client: TestClient, demo_engine: Engine,
                                             officer: str) -> None:
    round_id = f"web-{uuid.uuid4().hex[:8]}"
    base = f"/officer/rounds/{round_id}"
    created = client.post("/officer/rounds", data={
        "round_id": round_id, "grade": "10", "year": "2026", "mechanism": "da", "seed": "5",
        "csrf_token": csrf(client)}, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == base
    again = client.post("/officer/rounds", data={"round_id": round_id, "grade": "10", "year": "2026",
                                                 "csrf_token": csrf(client)})
    assert again.status_code == 400 and f"mã đợt &#39;{round_id}&#39; đã có" in again.text

    rows = grade10_rows(demo_engine)
    header = "applicant_id,score,choice1,choice2,choice3\n"
    bad = header + "\n".join([*rows[:3], "X1,31.5,DM-THPT-001,,", "X2,20,NOPE,,"]) + "\n"
    refused = client.post(f"{base}/applicants", data={"csrf_token": csrf(client)},
                          files={"file": ("hoso.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 422
    # the spreadsheet's line (the header is line 1) and the applicant's id
    assert re.search(r"<td>hoso.csv</td><td>5</td><td>X1</td><td>score</td><td>điểm 31.5 nằm ngoài"
                     r" khoảng 0..30<", refused.text)
    assert re.search(r"<td>hoso.csv</td><td>6</td><td>X2</td><td>choice1</td><td>không có trường nào"
                     r" mã &#39;NOPE&#39;<", refused.text)
    assert "Tệp bị từ chối" in refused.text
    english = client.post(f"{base}/applicants?lang=en", data={"csrf_token": csrf(client)},
                          files={"file": ("hoso.csv", bad.encode(), "text/csv")})
    assert english.status_code == 422
    assert re.search(r"<td>hoso.csv</td><td>5</td><td>X1</td><td>score</td><td>31.5 is outside 0..30<",
                     english.text)
    assert re.search(r"<td>hoso.csv</td><td>6</td><td>X2</td><td>choice1</td><td>unknown school code",
                     english.text)
    assert "Spreadsheet line" in english.text and "The header is line 1." in english.text
    client.cookies.delete("lang")  # the rest of the test reads the Vietnamese pages
    with demo_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM applicants WHERE round_id = :r"),
                            {"r": round_id}).scalar_one() == 0

    good = header + "\n".join(rows) + "\n"
    imported = client.post(f"{base}/applicants", data={"csrf_token": csrf(client)},
                           files={"file": ("hoso.csv", good.encode(), "text/csv")})
    assert imported.status_code == 200 and f"Đã nhập: {len(rows)}" in imported.text

    ran = client.post(f"{base}/run", data={"mechanism": "hcmc", "csrf_token": csrf(client)})
    assert ran.status_code == 200
    assert re.search(rf"<th scope=\"row\">Số hồ sơ</th><td>{len(rows)}</td>", ran.text)
    assert "lần xét tuyển gần nhất (Xét theo vòng nguyện vọng (cách làm hiện nay))" in ran.text
    assert f"{FIRST} " in ran.text and "Kết quả theo trường" in ran.text
    ran = client.post(f"{base}/run", data={"mechanism": "da", "max_offroad_m": "750",
                                           "csrf_token": csrf(client)})
    assert "lần xét tuyển gần nhất (Chấp nhận trì hoãn (DA))" in ran.text
    # the limit for homes far from roads reaches the run, is kept with it and shown again
    with demo_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT parameters->>'max_offroad_m' FROM admission_rounds"
                                    " WHERE id = :r"), {"r": round_id}).scalar_one() == "750.0"
    assert 'name="max_offroad_m" min="0" max="50000" step="50" value="750.0"' in ran.text
    negative = client.post(f"{base}/run", data={"mechanism": "da", "max_offroad_m": "-5",
                                                "csrf_token": csrf(client)})
    assert negative.status_code == 400 and "max_offroad_m" in negative.text

    compared = client.get(f"{base}/compare?lang=en")
    assert compared.status_code == 200
    assert re.search(r'<th scope="col">Figure</th><th scope="col" data-mechanism="da">Deferred acceptance'
                     r' \(DA\)</th><th scope="col" data-mechanism="hcmc">Rounds by choice', compared.text)
    assert re.search(rf'<th scope="row">Applicants</th><td>{len(rows)}</td><td>{len(rows)}</td>',
                     compared.text)
    # no homes in the file: min-cost flow cannot run, and the page says why instead of failing
    assert "<strong>Least total travel</strong>: mincost needs distance_m" in compared.text
    no_homes = client.post(f"{base}/run", data={"mechanism": "mincost", "csrf_token": csrf(client)})
    assert no_homes.status_code == 400 and "give home coordinates" in no_homes.text  # lang=en stuck
    no_homes_vi = client.post(f"{base}/run?lang=vi", data={"mechanism": "mincost",
                                                           "csrf_token": csrf(client)})
    assert "cần tọa độ nhà (lon, lat)" in no_homes_vi.text and "mincost needs" not in no_homes_vi.text
    client.get(f"{base}?lang=en")

    moved = f"W{len(rows) - 1:04d}"  # worst score: FIRST is full, admitted at NV2
    explained = client.get(f"{base}/applicants/{moved}")
    assert explained.status_code == 200
    assert "đã đủ chỉ tiêu" in explained.text and "trúng tuyển NV2" in explained.text
    assert "full: last admitted score" in explained.text and "admitted at NV2" in explained.text

    no_reason = client.post(f"{base}/applicants/{moved}/override",
                            data={"school_code": FIRST, "reason": "  ", "csrf_token": csrf(client)})
    assert no_reason.status_code == 400 and "A written reason is required." in no_reason.text
    overridden = client.post(f"{base}/applicants/{moved}/override", data={
        "school_code": FIRST, "reason": "Hồ sơ khiếu nại 3/2026", "force": "true",
        "csrf_token": csrf(client)})
    assert overridden.status_code == 200 and "Hồ sơ khiếu nại 3/2026" in overridden.text
    assert f"{FIRST} " in overridden.text.split('class="school">')[1][:40]

    export = client.get(f"{base}/results.csv")
    assert export.status_code == 200 and export.headers["cache-control"] == "no-store"
    records = {r["applicant_id"]: r for r in csv.DictReader(io.StringIO(export.text))}
    assert len(records) == len(rows) and records[moved]["school_code"] == FIRST

    unconfirmed = client.post(f"{base}/publish", data={"csrf_token": csrf(client)})
    assert unconfirmed.status_code == 400 and "tick the confirmation box to publish" in unconfirmed.text
    # the box says what is frozen: every allocation and the one override
    assert f"I confirm publication: {len(rows)} allocations and 1 officer overrides" in unconfirmed.text
    published = client.post(f"{base}/publish", data={"csrf_token": csrf(client), "confirm": "true"})
    assert published.status_code == 200 and "This round is published" in published.text  # ?lang=en stuck
    assert f'action="{base}/run"' not in published.text
    assert f'action="{base}/applicants"' not in published.text
    assert client.post(f"{base}/run", data={"csrf_token": csrf(client)}).status_code == 409
    refused_import = client.post(f"{base}/applicants", data={"csrf_token": csrf(client)},
                                 files={"file": ("hoso.csv", good.encode(), "text/csv")})
    assert refused_import.status_code == 409
    late = client.post(f"{base}/applicants/{moved}/override", data={
        "school_code": SECOND, "reason": "late", "csrf_token": csrf(client)})
    assert late.status_code == 409 and f'action="{base}/applicants/{moved}/override"' not in late.text
    assert _actions(demo_engine, round_id) == [
        "round.create", "round.import_refused", "view_applicants", "round.import_refused",
        "view_applicants", "round.import_applicants",
        "view_applicants", "round.run", "view_applicants", "round.run", "view_applicants",
        "round.compare", "view_applicants", "view_applicants", "view_applicants", "view_explanation",
        "view_explanation",
        "round.override", "view_explanation", "export_results", "view_applicants", "round.publish",
        "view_applicants", "view_applicants", "view_applicants", "view_explanation"]


def test_officer_forms_need_csrf_and_the_officer_role(client: TestClient, demo_engine: Engine,
                                                      officer: str) -> None:
    round_id = f"web-{uuid.uuid4().hex[:8]}"
    forged = client.post("/officer/rounds", data={"round_id": round_id, "grade": "10", "year": "2026"})
    assert forged.status_code == 403
    for action in ("run", "publish"):
        assert client.post(f"/officer/rounds/demo-2026-g1/{action}").status_code == 403
    planner = f"planner_{uuid.uuid4().hex[:6]}"
    create_user(demo_engine, planner, PASSWORD, "planner")
    login(client, planner)
    assert client.post("/officer/rounds", data={"round_id": round_id, "grade": "10", "year": "2026",
                                                "csrf_token": csrf(client)}).status_code == 403
    assert client.get("/officer/rounds/demo-2026-g1/results.csv").status_code == 403
    with demo_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM admission_rounds WHERE id = :r"),
                            {"r": round_id}).scalar_one() == 0


def test_bad_round_id_and_unknown_applicant(client: TestClient, demo_engine: Engine,
                                            officer: str) -> None:
    bad = client.post("/officer/rounds", data={"round_id": "a b/c", "grade": "10", "year": "2026",
                                               "csrf_token": csrf(client)})
    assert bad.status_code == 400
    service.grant_round(demo_engine, "demo-2026-g1", officer)
    assert client.get("/officer/rounds/demo-2026-g1/applicants/NOBODY").status_code == 404
    assert client.get("/officer/rounds/NO-SUCH-ROUND").status_code == 404


def test_officers_see_only_their_rounds_until_an_admin_adds_them(client: TestClient,
                                                                 demo_engine: Engine,
                                                                 officer: str) -> None:
    base = _new_grade10_round(client)
    round_id = base.rsplit("/", 1)[1]
    header = "applicant_id,score,choice1,choice2,choice3\n"
    imported = client.post(f"{base}/applicants", data={"csrf_token": csrf(client)}, files={
        "file": ("hoso.csv", (header + f"SECRET-1,25,{FIRST},,\n").encode(), "text/csv")})
    assert imported.status_code == 200
    assert round_id in client.get("/officer").text  # the creator is one of its officers

    other = f"officer_{uuid.uuid4().hex[:6]}"
    create_user(demo_engine, other, PASSWORD, "officer")
    client.cookies.clear()
    login(client, other)
    assert round_id not in client.get("/officer").text
    for url in (base, f"{base}/applicants.csv", f"{base}/applicants/SECRET-1", f"{base}/compare"):
        response = client.get(url)
        assert response.status_code == 403 and "SECRET-1" not in response.text, url
    for action in ("run", "publish"):
        assert client.post(f"{base}/{action}", data={"csrf_token": csrf(client)}).status_code == 403

    admin = f"admin_{uuid.uuid4().hex[:6]}"
    create_user(demo_engine, admin, PASSWORD, "admin")
    client.cookies.clear()
    login(client, admin)
    assert round_id in client.get("/officer").text  # admins see every round
    assert client.post(f"{base}/officers", data={"username": "nobody-here",
                                                 "csrf_token": csrf(client)}).status_code == 400
    granted = client.post(f"{base}/officers", data={"username": other, "csrf_token": csrf(client)},
                          follow_redirects=False)
    assert granted.status_code == 303
    client.cookies.clear()
    login(client, other)
    assert "SECRET-1" in client.get(base).text
    assert service.round_officers(demo_engine, round_id) == sorted([officer, other])
    assert "round.grant" in _actions(demo_engine, round_id)


def test_results_map_shows_schools_and_unplaced_homes_to_round_officers(
        client: TestClient, demo_engine: Engine, officer: str) -> None:
    service.run_round(demo_engine, "demo-2026-g6", actor="test")
    url = "/officer/rounds/demo-2026-g6/results.geojson"
    assert client.get(url).status_code == 403  # not yet an officer of the round
    service.grant_round(demo_engine, "demo-2026-g6", officer)
    body = client.get(url).json()
    schools = [f for f in body["features"] if f["properties"]["kind"] == "school"]
    homes = [f for f in body["features"] if f["properties"]["kind"] == "unplaced"]
    with demo_engine.connect() as conn:
        placed = dict(conn.execute(sa.text(
            "SELECT school_code, count(*) FROM allocations WHERE round_id = 'demo-2026-g6'"
            " AND school_code IS NOT NULL GROUP BY 1")).all())
        unplaced = conn.execute(sa.text("SELECT count(*) FROM allocations WHERE round_id = 'demo-2026-g6'"
                                        " AND school_code IS NULL")).scalar_one()
    assert {f["id"]: f["properties"]["placed"] for f in schools if f["properties"]["placed"]} == placed
    assert len(homes) == unplaced > 0
    assert all(f["properties"]["placed"] <= f["properties"]["places"] for f in schools)
    assert "view_results_map" in _actions(demo_engine, "demo-2026-g6")
    client.cookies.clear()
    assert client.get(url).status_code == 401


def test_officer_uploads_the_rounds_places(client: TestClient, demo_engine: Engine,
                                           officer: str) -> None:
    base = _new_grade10_round(client)
    round_id = base.rsplit("/", 1)[1]
    bad = "school_code,capacity\nDM-THPT-001,40\nDM-TH-001,12\n"
    refused = client.post(f"{base}/capacities", data={"csrf_token": csrf(client)},
                          files={"file": ("chitieu.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 422
    assert re.search(r"<td>chitieu.csv</td><td>3</td><td>DM-TH-001</td><td>school_code</td>", refused.text)
    good = "school_code,capacity\nDM-THPT-001,40\n"
    stored = client.post(f"{base}/capacities", data={"csrf_token": csrf(client)},
                         files={"file": ("chitieu.csv", good.encode(), "text/csv")})
    assert stored.status_code == 200 and "Đã nhập: 1" in stored.text
    with demo_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT capacity FROM round_capacities WHERE round_id = :r"),
                            {"r": round_id}).scalar_one() == 40
    assert "round.import_capacities_refused" in _actions(demo_engine, round_id)


def test_forms_refuse_unknown_grades_and_mechanisms_naming_the_known_ones(
        client: TestClient, demo_engine: Engine, officer: str) -> None:
    round_id = f"web-{uuid.uuid4().hex[:8]}"
    for field, value in (("grade", "7"), ("grade", "ten"), ("mechanism", "gale")):
        form = {"round_id": round_id, "grade": "10", "year": "2026", "csrf_token": csrf(client),
                field: value}
        refused = client.post("/officer/rounds", data=form)
        assert refused.status_code == 400 and field in refused.json()["description"]
    with demo_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM admission_rounds WHERE id = :r"),
                            {"r": round_id}).scalar_one() == 0
    base = _new_grade10_round(client)
    refused = client.post(f"{base}/run", data={"mechanism": "gale", "csrf_token": csrf(client)})
    assert refused.status_code == 400 and "'da', 'hcmc' or 'mincost'" in refused.text
    # a round without applicants cannot run yet: its page again with why, a 409 (a state)
    empty = client.post(f"{base}/run", data={"mechanism": "da", "csrf_token": csrf(client)})
    assert empty.status_code == 409 and "chưa có hồ sơ: hãy nhập tệp hồ sơ trước" in empty.text
    assert client.get(f"{base}/compare").status_code == 400  # nothing to compare either


def test_round_page_of_a_large_round_is_paged(
        client: TestClient, demo_engine: Engine, officer: str, tmp_path: Path) -> None:
    """A run grade-10 round of 2,000 applicants with homes (issue 13.8): the first page holds 100
    applicants, the pager, the round's figures and every school's cut-off.

    Its speed is not a test's business (timed tests fail on a loaded machine): it answered in
    0.3-0.4 s for 20,000 applicants when this test built such a round (session 6).
    """
    with demo_engine.connect() as conn:
        codes = conn.execute(sa.text(
            "SELECT code FROM schools WHERE level = 'upper_secondary'"
            " AND capacity_grade10 IS NOT NULL ORDER BY code")).scalars().all()
        west, south, east, north = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT ST_Extent(geom) AS e FROM schools) s")).one()
    draw = random.Random(13)
    lines = ["applicant_id,score,choice1,choice2,choice3,lon,lat"]
    for i in range(2_000):
        first, second, third = draw.sample(codes, 3)
        lines.append(f"P{i:05d},{draw.uniform(10, 30):.2f},{first},{second},{third},"
                     f"{draw.uniform(west, east):.5f},{draw.uniform(south, north):.5f}")
    path = tmp_path / "hoso.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    round_id = f"web-big-{uuid.uuid4().hex[:6]}"
    service.create_round(demo_engine, round_id, 10, 2026, "da", 0, actor=officer)
    service.import_applicants(demo_engine, round_id, path, actor=officer)
    service.run_round(demo_engine, round_id, actor=officer)
    url = f"/officer/rounds/{round_id}"
    page = client.get(url)
    assert page.status_code == 200
    assert page.text.count('<td class="applicant_id">') == 100
    assert "Trang 1/20 · 2.000 hồ sơ" in page.text
    assert page.text.count("<td class=\"cutoff\">") == len(codes)
    assert '<th scope="row">Số hồ sơ</th><td>2.000</td>' in page.text
