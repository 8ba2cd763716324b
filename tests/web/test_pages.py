"""HTML pages: Vietnamese first, English on request, list equal to the map, school page,
local assets only."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

VENDOR = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor"
PAGES = ["/", "/schools", "/schools/DM-THPT-001", "/finder", "/compare?schools=DM-TH-001,DM-TH-002",
         "/data", "/login"]


def test_pages_are_vietnamese_first_and_english_on_request(client: TestClient) -> None:
    html = client.get("/").text
    assert '<html lang="vi">' in html and "Bản đồ trường học TP.HCM" in html
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Ho Chi Minh City school map" in english.text
    assert client.cookies.get("lang") == "en"
    assert '<html lang="en">' in client.get("/schools").text  # the choice sticks
    assert '<html lang="vi">' in client.get("/schools?lang=vi").text


def test_list_view_holds_the_same_schools_as_the_map_data(client: TestClient) -> None:
    query = {"level": "lower_secondary", "district": "DM05", "q": "thcs"}
    html = client.get("/schools", params=query).text
    listed = re.findall(r'<a href="/schools/([^"]+)">', html)
    mapped = [f["id"] for f in client.get("/api/schools", params=query).json()["features"]]
    assert listed and sorted(listed) == sorted(mapped)


def test_school_page_shows_facts_and_cutoff_history(client: TestClient, demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        code, year, score = conn.execute(sa.text(
            "SELECT school_code, year, cutoff_score FROM cutoffs WHERE admission_round = 'NV1'"
            " ORDER BY school_code, year LIMIT 1")).one()
        name = conn.execute(sa.text("SELECT name FROM schools WHERE code = :c"), {"c": code}).scalar()
    html = client.get(f"/schools/{code}").text
    assert f"<h1>{name}</h1>" in html and "Điểm chuẩn lớp 10" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and "NV1" in html
    assert re.search(rf"<th scope=\"row\">{year}</th><td>{score}</td>", html)
    primary = client.get("/schools/DM-TH-001").text  # no grade 10: no empty grade-10 section
    assert 'id="grade10"' not in primary and "Điểm chuẩn lớp 10" not in primary
    with demo_engine.connect() as conn:
        code, programmes = conn.execute(sa.text(
            "SELECT code, programmes FROM schools WHERE 'Tích hợp' = ANY(programmes)"
            " AND level = 'upper_secondary' ORDER BY code LIMIT 1")).one()
    assert len(programmes) >= 2
    page = client.get(f"/schools/{code}").text
    assert f'<dd class="programmes">{", ".join(programmes)}</dd>' in page
    english = client.get(f"/schools/{code}", params={"lang": "en"}).text
    shown = re.search(r'<dd class="programmes">(.*?)</dd>', english)
    assert shown and "Integrated (Vietnamese and English curricula)" in shown.group(1)
    assert "Tích hợp" not in shown.group(1) and "Thường" not in shown.group(1)


def test_unknown_school_is_a_404_page(client: TestClient) -> None:
    response = client.get("/schools/DM-NOPE", headers={"accept": "text/html"})
    assert response.status_code == 404 and "<html" in response.text
    assert client.get("/api/schools/DM-NOPE").json()["code"] == "NotFound"


def test_pages_load_assets_from_this_app_only(client: TestClient) -> None:
    for url in PAGES:
        html = client.get(url).text
        sources = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith("/static/") for s in sources), (url, sources)
        assert "<script>" not in html and " style=" not in html  # CSP: no inline code or styles
    for asset in ("leaflet/leaflet.js", "leaflet/leaflet.css", "leaflet/images/marker-icon.png",
                  "leaflet.markercluster/leaflet.markercluster.js",
                  "leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"):
        assert client.get(f"/static/vendor/{asset}").status_code == 200


def test_vendored_packages_are_pinned_with_licences() -> None:
    readme = (VENDOR / "README.md").read_text()
    for pin in ("leaflet | 1.9.4", "leaflet.markercluster | 1.5.3", "leaflet.vectorgrid | 1.3.0"):
        assert pin in readme
    assert (VENDOR / "leaflet" / "LICENSE").exists()
    assert (VENDOR / "leaflet.markercluster" / "MIT-LICENCE.txt").exists()
    assert "BEER-WARE" in (VENDOR / "leaflet.vectorgrid" / "LICENSE.txt").read_text()
    assert "Leaflet 1.9.4," in (VENDOR / "leaflet" / "leaflet.js").read_text()[:200]


def test_forms_carry_a_csrf_token_matching_the_cookie(client: TestClient) -> None:
    html = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token and client.cookies.get("edugis_csrf") == token.group(1)
