"""Over-long or out-of-range input is a 400/422 naming the field, never a 500 (issue 12.9):
an applicant id over 32 characters, a 1 MB cell, a 300-character file name, a page number
past any bigint. After each refusal the same client goes on working."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from admissions import service
from basemaps.boundaries import read_boundaries
from gis_service.errors import InputError
from tests.conftest import database_env, table_counts
from tests.support.officer_session import officer_session
from tests.support.web import csrf
from web.cli import app
from web.officer import MAX_FILENAME_BYTES, upload_name

FIRST = "DM-THPT-001"
HEADER = "applicant_id,score,choice1,choice2,choice3\n"


@pytest.fixture
def officer_round(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
                  ) -> Iterator[tuple[TestClient, str]]:
    """A signed-in officer's client and the page of their new grade-10 round (one applicant)."""
    with officer_session(demo_engine, monkeypatch) as (client, name):
        round_id = f"lim-{uuid.uuid4().hex[:8]}"
        service.create_round(demo_engine, round_id, 10, 2026, "da", 1, actor=name)
        done = client.post(f"/officer/rounds/{round_id}/applicants",
                           data={"csrf_token": csrf(client)},
                           files={"file": ("a.csv", f"{HEADER}KEEP-1,20,{FIRST},,\n".encode(),
                                           "text/csv")})
        assert done.status_code == 200
        yield client, f"/officer/rounds/{round_id}"


def _still_works(client: TestClient, base: str) -> None:
    """The client's next request is answered as usual (nothing was dropped or poisoned)."""
    page = client.get(base)
    assert page.status_code == 200 and "KEEP-1" in page.text


def test_a_long_applicant_id_is_a_row_problem(officer_round: tuple[TestClient, str]) -> None:
    client, base = officer_round
    long_id = "X" * 33
    body = f"{HEADER}OK-1,20,{FIRST},,\n{long_id},21,{FIRST},,\n".encode()
    refused = client.post(f"{base}/applicants?lang=en", data={"csrf_token": csrf(client)},
                          files={"file": ("hoso.csv", body, "text/csv")})
    assert refused.status_code == 422
    assert (f"<td>hoso.csv</td><td>3</td><td>{long_id[:32]}…</td><td>applicant_id</td>"
            "<td>applicant id of 33 characters, at most 32</td>") in refused.text
    _still_works(client, base)


def test_a_megabyte_cell_is_refused_by_row_and_field_without_echoing_it(
        officer_round: tuple[TestClient, str]) -> None:
    client, base = officer_round
    huge = "N" * 1_000_000
    body = f"{HEADER}OK-1,20,{FIRST},,\nOK-2,21,{huge},,\n".encode()
    refused = client.post(f"{base}/applicants?lang=en", data={"csrf_token": csrf(client)},
                          files={"file": ("hoso.csv", body, "text/csv")})
    assert refused.status_code == 422
    assert ("<td>hoso.csv</td><td>3</td><td>OK-2</td><td>choice1</td>"
            "<td>the cell holds 1000000 characters, at most 1000</td>") in refused.text
    assert huge[:2000] not in refused.text  # the page does not repeat the megabyte
    _still_works(client, base)


def test_a_300_character_file_name_is_cut(officer_round: tuple[TestClient, str],
                                          demo_engine: Engine) -> None:
    client, base = officer_round
    name = "hồ sơ tuyển sinh " * 18 + ".csv"  # 310 characters, 490 bytes in UTF-8
    assert len(name) > 300
    body = f"{HEADER}KEEP-1,20,{FIRST},,\nBAD,99,{FIRST},,\n".encode()
    refused = client.post(f"{base}/applicants", data={"csrf_token": csrf(client)},
                          files={"file": (name, body, "text/csv")})
    assert refused.status_code == 422  # the file's own problem, named by its (cut) name
    shown = upload_name(name, "applicants.csv")
    assert f"<td>{shown}</td><td>3</td><td>BAD</td><td>score</td>" in refused.text
    good = f"{HEADER}KEEP-1,20,{FIRST},,\n".encode()
    stored = client.post(f"{base}/applicants", data={"csrf_token": csrf(client)},
                         files={"file": (name, good, "text/csv")})
    assert stored.status_code == 200 and "Đã nhập: 1" in stored.text
    with demo_engine.connect() as conn:
        logged = conn.execute(sa.text(
            "SELECT details->>'file' FROM audit_log WHERE action = 'round.import_applicants'"
            " AND target = :r ORDER BY id DESC LIMIT 1"), {"r": base.rsplit("/", 1)[1]}).scalar_one()
    assert logged == shown
    _still_works(client, base)


@pytest.mark.parametrize(("given", "kept"), [
    ("hoso.csv", "hoso.csv"), ("C:\\Users\\cb\\hoso.csv", "hoso.csv"), ("../../etc/x.csv", "x.csv"),
    ("", "applicants.csv"), ("..", "applicants.csv"), ("a\x00b\nc.csv", "abc.csv"),
])
def test_upload_names_keep_their_last_part_without_control_characters(given: str, kept: str) -> None:
    assert upload_name(given, "applicants.csv") == kept


def test_long_upload_names_are_cut_to_a_byte_budget_keeping_the_extension() -> None:
    for name in ("đ" * 300 + ".csv", "x" * 300, "y" * 300 + "." + "z" * 40):
        cut = upload_name(name, "applicants.csv")
        assert len(cut.encode()) <= MAX_FILENAME_BYTES
        assert cut.endswith("….csv" if name.endswith(".csv") else "…")


@pytest.mark.parametrize("page", ["99999999999999999999", "0", "-1", "1000001"])
def test_a_page_out_of_range_is_a_400_naming_the_page(officer_round: tuple[TestClient, str],
                                                      page: str) -> None:
    client, base = officer_round
    answer = client.get(f"{base}?page={page}", headers={"accept": "application/json"})
    assert answer.status_code == 400
    assert "page must be within 1..1000000" in answer.json()["description"]
    browser = client.get(f"{base}?page={page}", headers={"accept": "text/html"})
    assert browser.status_code == 400 and "page must be within 1..1000000" in browser.text
    _still_works(client, base)


def test_school_and_boundary_codes_longer_than_their_columns_are_row_problems(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schools = tmp_path / "truong.csv"
    schools.write_text("code,name,level,ownership,lon,lat,ward_code\n"
                       f"{'S' * 33},Trường A,primary,public,106.70,10.77,\n"
                       f"S2,Trường B,primary,public,106.71,10.78,{'W' * 17}\n"
                       f"S3,{'T' * 1001},primary,public,106.72,10.79,\n", encoding="utf-8")
    before = table_counts(engine)
    with database_env(engine, monkeypatch):
        refused = CliRunner().invoke(app, ["import", "schools", str(schools)])
    assert isinstance(refused.exception, InputError)
    found = {(p.row, p.field, p.reason) for p in refused.exception.problems}
    assert found == {(3, "name", "the cell holds 1001 characters, at most 1000")}
    schools.write_text("\n".join(schools.read_text(encoding="utf-8").splitlines()[:3]) + "\n",
                       encoding="utf-8")
    with database_env(engine, monkeypatch):
        refused = CliRunner().invoke(app, ["import", "schools", str(schools)])
    assert isinstance(refused.exception, InputError)
    found = {(p.row, p.field, p.reason) for p in refused.exception.problems}
    assert found == {(1, "code", "33 characters, at most 32"),
                     (2, "ward_code", "17 characters, at most 16")}
    assert table_counts(engine) == before

    wards = tmp_path / "phuong.geojson"
    gpd.GeoDataFrame({"ward_code": ["W" * 17], "ward_name": ["P"], "district_code": ["D1"]},
                     geometry=[shapely.box(106.70, 10.77, 106.71, 10.78)],
                     crs="EPSG:4326").to_file(wards, driver="GeoJSON")
    _, problems = read_boundaries(wards)
    assert [(p.row, p.field, p.reason) for p in problems] == [
        (1, "ward_code", "code of 17 characters, at most 16")]


@pytest.mark.parametrize("path", [
    "/ogc/collections/schools/items?limit=" + "9" * 5000,
    "/ogc/tiles/WebMercatorQuad/" + "1" * 5000 + "/0/0",
    "/ogc/collections/schools/tiles/WebMercatorQuad/0/" + "1" * 5000 + "/0",
])
def test_numbers_of_thousands_of_digits_are_a_client_error(fresh_client: TestClient, path: str) -> None:
    """int() refuses strings of over 4,300 digits with a ValueError, which was a 500."""
    answer = fresh_client.get(path)
    assert answer.status_code in (400, 404), answer.text[:200]
    assert fresh_client.get("/ogc/collections/schools/items?limit=2").status_code == 200
