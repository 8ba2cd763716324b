"""Pages and the school API by the wards of today; the former districts only as history."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine


def _select(html: str, name: str) -> list[str]:
    block = re.search(rf'<select name="{name}">(.*?)</select>', html, re.S)
    assert block is not None, f"no select {name}"
    return [v for v in re.findall(r'<option value="([^"]*)"', block.group(1)) if v]


def test_filters_offer_the_wards_of_today_and_the_former_districts(
        client: TestClient, demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        today = set(conn.execute(sa.text(
            "SELECT code FROM admin_units WHERE level = 'ward' AND valid_to IS NULL")).scalars())
        districts = set(conn.execute(sa.text(
            "SELECT code FROM admin_units WHERE level = 'district'")).scalars())
    html = client.get("/schools").text
    assert "Phường/xã" in html and "Quận/huyện cũ (trước 1/7/2025)" in html
    assert set(_select(html, "ward")) == today and set(_select(html, "district")) == districts
    english = client.get("/schools?lang=en").text
    assert "Ward or commune" in english and "Former district (before 1 July 2025)" in english


def test_a_ward_filter_lists_the_schools_of_that_ward(client: TestClient,
                                                     demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        ward, name, expected = conn.execute(sa.text(
            "SELECT w.code, w.name, array_agg(s.code) FROM schools s JOIN admin_units w"
            " ON w.code = s.ward_code GROUP BY w.code, w.name ORDER BY w.code LIMIT 1")).one()
    html = client.get("/schools", params={"ward": ward}).text
    listed = re.findall(r'<a href="/schools/([^"]+)">', html)
    assert sorted(listed) == sorted(expected) and f"<td data-label=\"Phường/xã\">{name}</td>" in html
    api = client.get("/api/schools", params={"ward": ward}).json()["features"]
    assert sorted(f["id"] for f in api) == sorted(expected)
    assert {f["properties"]["ward_name"] for f in api} == {name}
    assert client.get("/api/schools", params={"ward": "X" * 17}).status_code in (400, 422)


def test_school_page_shows_its_ward_and_its_former_district_as_history(
        client: TestClient, demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        code, ward, district = conn.execute(sa.text(
            "SELECT s.code, w.name, d.name FROM schools s JOIN admin_units w ON w.code = s.ward_code"
            " JOIN admin_units d ON d.code = s.district_code WHERE s.level = 'primary'"
            " ORDER BY s.code LIMIT 1")).one()
    html = client.get(f"/schools/{code}").text
    assert f"<dt>Phường/xã</dt><dd>{ward}</dd>" in html
    assert re.search(r'<dt class="history">Quận/huyện cũ \(trước 1/7/2025\)</dt>'
                     rf'<dd class="history">{district}</dd>', html)


#: Ward names of HCMC as of 1 July 2025 (and two numbered ones), in Vietnamese dictionary order:
#: numbers as numbers, then a ă â b c d đ e ê ... o ô ơ ... u ư (code points put "Đ" after "X"
#: and "Bình" before "Bến").
WARDS_IN_ORDER = ["Phường 2", "Phường 10", "Phường An Đông", "Phường An Khánh", "Phường Bàn Cờ",
                  "Phường Bảy Hiền", "Phường Bến Thành", "Phường Bình Tây", "Phường Chợ Lớn",
                  "Phường Đông Hưng Thuận", "Phường Hiệp Bình", "Phường Tân Định",
                  "Xã An Nhơn Tây", "Xã Đông Thạnh", "Xã Xuân Thới Sơn"]


def add_wards(engine: Engine, names: list[str]) -> dict[str, str]:
    """Store ``names`` as wards of today in a shuffled code order; return name -> code."""
    codes = {name: f"W{(7 * i) % len(names):02d}" for i, name in enumerate(names)}
    with engine.begin() as conn:
        for i, name in enumerate(names):
            conn.execute(sa.text(
                "INSERT INTO admin_units (code, name, level, geom) VALUES (:c, :n, 'ward',"
                " ST_Multi(ST_MakeEnvelope(106.6 + :x, 10.7, 106.61 + :x, 10.71, 4326)))"),
                {"c": codes[name], "n": name, "x": i / 100})
    return codes


def test_ward_menu_is_in_vietnamese_natural_order(empty_client: TestClient, engine: Engine) -> None:
    codes = add_wards(engine, sorted(WARDS_IN_ORDER))  # code-point order first
    html = empty_client.get("/schools").text
    assert _select(html, "ward") == [codes[name] for name in WARDS_IN_ORDER]
