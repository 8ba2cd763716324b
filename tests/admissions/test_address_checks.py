"""Address checks on a copy of the demo city: a home moved into another ward and a home
shared by six applicants are flagged, boundary noise within the tolerance is not, and the
flags reach the round's officers only (page, CSV, CLI), audited."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from admissions.address_checks import CheckLimits, address_flags
from gis_service.accounts import create_user
from tests.conftest import database_env
from tests.support.web import PASSWORD, login, settle
from web.app import create_app
from web.cli import app as cli_app

ROUND = "demo-2026-g1"
MOVED, UNKNOWN_WARD = "G1-000001", "G1-000002"
SHARED = [f"G1-0000{i}" for i in range(10, 16)]  # six applicants at one home


@pytest.fixture
def doctored(demo_copy: Engine) -> Engine:
    """The demo round with one home moved into another ward, one record naming an unknown
    ward and six homes put at one point."""
    with demo_copy.begin() as conn:
        conn.execute(sa.text(
            "UPDATE applicants a SET geom = (SELECT ST_PointOnSurface(w.geom) FROM admin_units w"
            " WHERE w.level = 'ward' AND w.code <> a.ward_code ORDER BY w.code LIMIT 1)"
            " WHERE round_id = :r AND applicant_id = :a"), {"r": ROUND, "a": MOVED})
        conn.execute(sa.text("UPDATE applicants SET ward_code = 'ZZ9999' WHERE round_id = :r"
                             " AND applicant_id = :a"), {"r": ROUND, "a": UNKNOWN_WARD})
        conn.execute(sa.text(
            "UPDATE applicants SET geom = (SELECT geom FROM applicants WHERE round_id = :r"
            " AND applicant_id = :first) WHERE round_id = :r AND applicant_id = ANY(:ids)"),
            {"r": ROUND, "first": SHARED[0], "ids": SHARED})
    return demo_copy


def test_the_moved_home_the_unknown_ward_and_the_shared_home_are_flagged(doctored: Engine) -> None:
    flags = address_flags(doctored, ROUND)
    by_check = {check: sorted(group["applicant_id"]) for check, group in flags.groupby("check")}
    assert by_check["ward_mismatch"] == sorted([MOVED, UNKNOWN_WARD])
    assert by_check["shared_home"] == SHARED
    moved = flags[flags["applicant_id"] == MOVED].iloc[0]
    with doctored.connect() as conn:
        declared, home_ward, outside = conn.execute(sa.text(
            "SELECT a.ward_code, h.code, ST_Distance(d.geom::geography, a.geom::geography)"
            " FROM applicants a JOIN admin_units d ON d.code = a.ward_code"
            " JOIN admin_units h ON h.level = 'ward' AND ST_Contains(h.geom, a.geom)"
            " WHERE a.round_id = :r AND a.applicant_id = :a"), {"r": ROUND, "a": MOVED}).one()
    assert moved["home_ward_code"] == home_ward != declared
    assert moved["outside_m"] == pytest.approx(outside, abs=0.1) and outside > 50
    assert f"phường {home_ward}" in moved["reason_vi"] and f"ward {home_ward}" in moved["reason_en"]
    assert set(flags.loc[flags["check"] == "shared_home", "shared_count"]) == {6}
    # the thresholds decide: just beyond the moved home's distance it is no longer flagged
    relaxed = address_flags(doctored, ROUND, CheckLimits(tolerance_m=outside + 1, shared_limit=6))
    assert sorted(relaxed["applicant_id"]) == [UNKNOWN_WARD]


def test_the_demo_round_has_no_flags_and_limits_are_checked(demo_engine: Engine) -> None:
    # every demo home lies within 50 m of its declared ward (some just over a boundary)
    assert address_flags(demo_engine, ROUND).empty
    with demo_engine.connect() as conn:
        over_boundary = conn.execute(sa.text(
            "SELECT count(*) FROM applicants a JOIN admin_units w ON w.code = a.ward_code"
            " WHERE a.round_id = :r AND NOT ST_Contains(w.geom, a.geom)"), {"r": ROUND}).scalar_one()
    assert over_boundary > 0  # ... which a zero tolerance would flag
    assert len(address_flags(demo_engine, ROUND, CheckLimits(tolerance_m=0))) == over_boundary
    with pytest.raises(ValueError, match="at least 1"):
        CheckLimits(shared_limit=0)
    with pytest.raises(ValueError, match=">= 0"):
        CheckLimits(tolerance_m=float("nan"))


@pytest.fixture
def web(doctored: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    create_user(doctored, "checker", PASSWORD, "admin")
    create_user(doctored, "other_officer", PASSWORD, "officer")
    with database_env(doctored, monkeypatch), TestClient(create_app()) as client:
        yield client
        settle(client.app)


def test_round_officers_see_and_export_the_flags_others_do_not(web: TestClient,
                                                               doctored: Engine) -> None:
    base = f"/officer/rounds/{ROUND}"
    assert web.get(f"{base}/address-checks.csv", follow_redirects=False).status_code in (303, 401)
    login(web, "other_officer")
    assert web.get(f"{base}/address-checks.csv").status_code == 403
    login(web, "checker")
    page = web.get(base).text
    assert "Kiểm tra địa chỉ" in page
    table = re.search(r'<table class="list address-flags">(.*?)</table>', page, re.S)
    assert table is not None
    listed = re.findall(r'<tr><th scope="row">(?:<a href="[^"]+">)?([^<]+)', table.group(1))
    assert sorted(listed) == sorted([MOVED, UNKNOWN_WARD, *SHARED])
    assert "6 hồ sơ có cùng vị trí nhà" in page
    exported = list(csv.DictReader(io.StringIO(web.get(f"{base}/address-checks.csv").text)))
    assert sorted(r["applicant_id"] for r in exported) == sorted(listed)
    with doctored.connect() as conn:
        actions = list(conn.execute(sa.text(
            "SELECT action FROM audit_log WHERE target = :r AND actor = 'checker' ORDER BY id"),
            {"r": ROUND}).scalars())
    assert actions[-2:] == ["view_applicants", "export_address_checks"]


def test_cli_writes_the_flags_and_refuses_an_unknown_round(doctored: Engine,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: object) -> None:
    out = f"{tmp_path}/flags.csv"
    with database_env(doctored, monkeypatch):
        runner = CliRunner()
        done = runner.invoke(cli_app, ["admissions", "check-addresses", "--round", ROUND,
                                       "--out", out])
        assert done.exit_code == 0, done.output
        assert "8 flag(s)" in done.output and "2 home(s) outside" in done.output
        with open(out, encoding="utf-8") as handle:
            assert len(list(csv.DictReader(handle))) == 8
        unknown = runner.invoke(cli_app, ["admissions", "check-addresses", "--round", "nope"])
        assert unknown.exit_code != 0


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as dicts with None for every missing value (whatever the column's dtype)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")  # type: ignore[return-value]


def test_one_applicants_flags_are_those_of_the_round(doctored: Engine) -> None:
    everyone = address_flags(doctored, ROUND)
    for applicant in (MOVED, SHARED[2], "G1-000500"):
        alone = address_flags(doctored, ROUND, applicant_id=applicant)
        expected = everyone[everyone["applicant_id"] == applicant].reset_index(drop=True)
        assert records(alone) == records(expected), applicant
    assert address_flags(doctored, ROUND, applicant_id="G1-000500").empty


def test_the_explanation_page_shows_the_applicants_flag(web: TestClient, doctored: Engine) -> None:
    from admissions import service

    service.run_round(doctored, ROUND)
    login(web, "checker")
    page = web.get(f"/officer/rounds/{ROUND}/applicants/{MOVED}").text
    flags = re.findall(r'<dd class="address-flag">([^<]+)</dd>', page)
    assert len(flags) == 1 and flags[0].startswith("Nhà ngoài phường khai báo: Nhà nằm ở phường")
    other = web.get(f"/officer/rounds/{ROUND}/applicants/G1-000500").text
    assert 'class="address-flag"' not in other
