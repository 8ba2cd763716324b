"""Parents compare up to four schools: facts from the database, the road trip from home equal
to the route the finder draws, clear errors for unknown schools and bad input."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

HOME = {"lon": 106.65, "lat": 10.75}


def cells(html: str, row_id: str) -> list[str]:
    """The text of the data cells of one table row."""
    row = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html, re.S)
    assert row, row_id
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]


def test_compare_lists_each_schools_facts_and_the_trip_from_home(client: TestClient) -> None:
    nearest = client.get("/api/nearest", params={**HOME, "level": "primary", "k": 3}).json()
    codes = [s["code"] for s in nearest["schools"]]
    html = client.get("/compare", params={"schools": ",".join(codes), **HOME}).text
    assert "<h1>So sánh trường</h1>" in html
    assert re.findall(r'<th scope="col" data-code="([^"]+)">', html) == codes
    for school in nearest["schools"]:
        assert f">{school['name']}</a></th>" in html
    trips = cells(html, "compare-trip")
    for school, trip in zip(nearest["schools"], trips, strict=True):
        route = client.get("/api/route", params={**HOME, "school": school["code"]}).json()
        minutes = max(1, round(route["properties"]["time_s"] / 60))
        assert trip == f"{route['properties']['distance_m'] / 1000:.2f} km, {minutes} phút"
        # the ranking and the trip are the same road answer (the ranking rounds to 0.1 s)
        assert abs(route["properties"]["time_s"] - school["time_s"]) <= 0.05 + 1e-9
    assert "Khả năng" not in html  # no score given: no chance row
    assert 'id="compare-cutoffs"' not in html  # primary schools have no grade-10 cut-offs


def test_compare_grade10_shows_cutoffs_forecast_and_chance(client: TestClient,
                                                           demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        codes = list(conn.execute(sa.text(
            "SELECT DISTINCT school_code FROM cutoffs WHERE admission_round = 'NV1'"
            " AND programme = 'regular' ORDER BY school_code LIMIT 2")).scalars())
        first = conn.execute(sa.text(
            "SELECT year, cutoff_score FROM cutoffs WHERE school_code = :c AND admission_round = 'NV1'"
            " AND programme = 'regular' ORDER BY year"), {"c": codes[0]}).all()
    outlook = client.get("/api/cutoff-outlook", params={"schools": ",".join(codes), "score": 24}).json()
    html = client.get("/compare", params={"schools": ",".join(codes), "score": 24, "lang": "en"}).text
    assert "<h1>Compare schools</h1>" in html
    assert cells(html, "compare-cutoffs")[0] == "; ".join(f"{y}: {s}" for y, s in first)
    assert cells(html, "compare-chance") == [s["chance"]["label_en"] for s in outlook["schools"]]
    band = outlook["schools"][0]["forecast"]  # every band shows its backtest coverage
    assert (f"(80 %; backtest: such bands held {band['backtest_coverage'] * 100:.0f} %,"
            f" n = {band['backtest_n']})") in cells(html, "compare-forecast")[0]
    assert 'id="compare-trip"' not in html  # no home given


@pytest.mark.parametrize(("query", "status", "says"), [
    ({"schools": "DM-TH-001,DM-NOPE"}, 404, "DM-NOPE"),
    ({"schools": "DM-TH-001", "mode": "plane"}, 400, "mode"),
    ({"schools": "DM-TH-001", "lon": 500, "lat": 10}, 400, "out of range"),
    ({"schools": "DM-TH-001", "lon": 107.5, "lat": 10.0}, 400, "too far"),
    ({"schools": "DM-TH-001", "score": 99}, 400, "score"),
    ({"schools": "DM-TH-001", "lon": 106.65}, 400, "both lon and lat"),
])
def test_compare_refuses_bad_input_with_the_reason(client: TestClient, query: dict[str, object],
                                                   status: int, says: str) -> None:
    response = client.get("/compare", params=query)  # type: ignore[arg-type]
    assert response.status_code == status
    assert says in response.json()["description"]


def test_the_same_school_twice_is_compared_once(client: TestClient) -> None:
    html = client.get("/compare", params={"schools": "DM-TH-001, DM-TH-001,DM-TH-002"}).text
    assert re.findall(r'data-code="([^"]+)"', html) == ["DM-TH-001", "DM-TH-002"]


def test_the_list_page_form_sends_its_ticked_rows(client: TestClient) -> None:
    listed = client.get("/schools", params={"level": "primary"}).text
    form = re.search(r'<form id="compare-form" method="get" action="/compare">(.*?)</form>', listed, re.S)
    assert form is not None
    boxes = re.findall(r'<input type="checkbox" name="pick" value="([^"]+)"', form.group(1))
    assert boxes == re.findall(r'<tr><th scope="row"><a href="/schools/([^"]+)">', form.group(1))
    html = client.get("/compare", params=[("pick", boxes[0]), ("pick", boxes[1])]).text
    assert re.findall(r'data-code="([^"]+)"', html) == boxes[:2]
    too_many = client.get("/compare", params=[("pick", code) for code in boxes[:5]],
                          headers={"accept": "text/html"})
    assert too_many.status_code == 400 and "Bạn đã chọn 5 trường" in too_many.text
    # the five come back ticked, to untick one and compare
    assert re.findall(r'name="pick" value="([^"]+)" checked', too_many.text) == boxes[:5]


@pytest.mark.parametrize(("picks", "lang", "says"), [
    ([], "vi", "Bạn chưa chọn trường nào"),
    ([], "en", "You have not ticked any school"),
    ([f"DM-TH-00{i}" for i in range(1, 6)], "vi", "Bạn đã chọn 5 trường"),
    ([f"DM-TH-00{i}" for i in range(1, 6)], "en", "You ticked 5 schools"),
])
def test_no_or_too_many_schools_is_a_page_in_the_users_language(
        client: TestClient, picks: list[str], lang: str, says: str) -> None:
    # whatever the client accepts: the compare page is for people
    response = client.get("/compare", params=[("lang", lang), *(("pick", c) for c in picks)])
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in response.text and says in response.text
    assert 'id="compare-back" href="/schools"' in response.text
