"""Ward defects: a school outside every ward no longer breaks the catchment derivation, and
address checks say when there are no wards of today to check homes against."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from admissions.address_checks import NO_WARDS, address_flags, ward_check_note
from admissions.catchments import assign_wards, derive_catchments, import_catchments
from basemaps.admin_mapping import read_admin_mapping, store_admin_mapping
from gis_service.accounts import create_user
from gis_service.errors import InputError
from tests.conftest import database_env
from tests.support.two_tier import store_history, store_today
from tests.support.web import PASSWORD, login, settle
from web.app import create_app
from web.cli import app as cli_app

ROUND = "demo-2026-g1"


def _rows(engine: Engine, sql: str, **params: object) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params).all()]


def test_assign_wards_takes_a_missing_ward_as_pandas_reads_it() -> None:
    rows = assign_wards(["W1", "W2"], {"A": "W1", "B": float("nan"), "C": None}, {"W2": "B"})
    assert rows.to_dict("records") == [{"school_code": "A", "ward_code": "W1"},
                                       {"school_code": "B", "ward_code": "W2"}]


def test_a_school_outside_every_ward_does_not_break_the_derivation(demo_copy: Engine) -> None:
    (code, lon, lat), = _rows(demo_copy, (
        "SELECT code, ST_X(geom), ST_Y(geom) FROM schools WHERE level = 'primary'"
        " AND ownership = 'public' AND capacity_grade1 > 0 ORDER BY ST_X(geom), code LIMIT 1"))
    (west,), = _rows(demo_copy, "SELECT ST_XMin(ST_Extent(geom)) FROM admin_units"
                                " WHERE level = 'ward' AND valid_to IS NULL")
    with demo_copy.begin() as conn:  # just west of the city's edge, near its roads
        conn.execute(sa.text("UPDATE schools SET geom = ST_SetSRID(ST_Point(:x, :y), 4326)"
                             " WHERE code = :c"), {"x": float(str(west)) - 0.0003, "y": lat, "c": code})
    rows = derive_catchments(demo_copy, "primary")
    wards = {w for (w,) in _rows(demo_copy, "SELECT code FROM admin_units WHERE level = 'ward'"
                                            " AND valid_to IS NULL")}
    assert set(rows["ward_code"]) == wards
    assert all(isinstance(w, str) for w in rows["ward_code"])
    assert float(str(lon)) > float(str(west))  # the school was inside before it was moved


@pytest.fixture
def no_wards(demo_copy: Engine) -> Engine:
    """The demo city whose wards are all history: no ward of today to check against."""
    with demo_copy.begin() as conn:
        conn.execute(sa.text("UPDATE admin_units SET valid_from = NULL, valid_to = DATE '2025-07-01'"
                             " WHERE level = 'ward'"))
    return demo_copy


def test_address_checks_say_there_are_no_wards_to_check_against(
        no_wards: Engine, demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ward_check_note(demo_engine) is None
    assert ward_check_note(no_wards) == NO_WARDS
    assert "no wards loaded to check against" in NO_WARDS[1] and "phường/xã" in NO_WARDS[0]
    assert "ward_mismatch" not in set(address_flags(no_wards, ROUND)["check"])
    with database_env(no_wards, monkeypatch):
        done = CliRunner().invoke(cli_app, ["admissions", "check-addresses", "--round", ROUND])
        assert done.exit_code == 0, done.output
        assert "no wards loaded to check against" in done.output
        assert "Chưa có ranh giới phường/xã nào để đối chiếu" in done.output
        create_user(no_wards, "checker", PASSWORD, "admin")
        with TestClient(create_app()) as client:
            login(client, "checker")
            page = client.get(f"/officer/rounds/{ROUND}").text
            english = client.get(f"/officer/rounds/{ROUND}?lang=en").text
            settle(client.app)
    assert re.search(r'<p class="flag-count" id="no-wards">Chưa có ranh giới phường/xã', page)
    assert 'id="no-wards">no wards loaded to check against' in english


def test_with_wards_the_note_is_not_shown(demo_copy: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with database_env(demo_copy, monkeypatch):
        done = CliRunner().invoke(cli_app, ["admissions", "check-addresses", "--round", ROUND])
    assert done.exit_code == 0 and "no wards loaded" not in done.output


def test_a_catchment_list_by_former_wards_carries_over_to_the_wards_of_today(
        engine: Engine, tmp_path: Path) -> None:
    store_history(engine)
    store_today(engine)
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("old_code,new_code,share\nW1a,N1,1\nW2,N1,0.6\nW2,N2,0.4\n",
                       encoding="utf-8")
    store_admin_mapping(engine, *read_admin_mapping(mapping), str(mapping))
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO schools (code, name, level, ownership, capacity_grade1, ward_code, geom)"
            " VALUES ('S1', 'Trường Một', 'primary', 'public', 100, 'N1',"
            " ST_SetSRID(ST_Point(106.65, 10.75), 4326))"))
    listed = tmp_path / "catchments.csv"
    listed.write_text("school_code,ward_code\nS1,W1a\nS1,W2\nS1,N1\n", encoding="utf-8")
    rows = import_catchments(engine, listed)
    assert rows.to_dict("records") == [{"school_code": "S1", "ward_code": "N1"},
                                       {"school_code": "S1", "ward_code": "N2"}]
    assert _rows(engine, "SELECT ward_code FROM catchments ORDER BY 1") == [("N1",), ("N2",)]
    listed.write_text("school_code,ward_code\nS1,W1b\nS1,ZZ\n", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        import_catchments(engine, listed)
    reasons = {p.row: p.reason for p in refused.value.problems}
    assert "no longer exists since 1 July 2025 and is not mapped" in reasons[1]
    assert reasons[2] == "unknown ward 'ZZ'"
