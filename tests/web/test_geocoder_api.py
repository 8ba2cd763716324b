"""/api/geocode on the demo city: street sections, street + ward, former districts."""

from __future__ import annotations

from fastapi.testclient import TestClient

FIELDS = {"label", "kind", "lon", "lat", "detail", "ward", "former"}


def test_a_long_street_answers_one_place_per_section(client: TestClient) -> None:
    places = client.get("/api/geocode", params={"q": "Đường Mẫu Dọc 3"}).json()["places"]
    sections = [p for p in places if p["label"] == "Đường Mẫu Dọc 3"]
    assert len(sections) > 1 and all(set(p) == FIELDS for p in places)
    assert len({(p["lon"], p["lat"]) for p in sections}) == len(sections)
    assert len({p["ward"] for p in sections}) > 1  # one per ward it crosses, and per piece:
    assert len({p["detail"] for p in sections}) == len(sections)  # "đoạn 2, Phường ..."


def test_street_and_ward_give_the_section_in_that_ward(client: TestClient) -> None:
    sections = client.get("/api/geocode", params={"q": "duong mau doc 3"}).json()["places"]
    ward = sections[-1]["ward"]
    for query in (f"Đường Mẫu Dọc 3, {ward}", f"duong mau doc 3 {ward}"):
        first = client.get("/api/geocode", params={"q": query}).json()["places"][0]
        assert first["label"] == "Đường Mẫu Dọc 3" and first["ward"] == ward


def test_former_districts_are_found_and_labelled_former(client: TestClient) -> None:
    first = client.get("/api/geocode", params={"q": "quan mau 1"}).json()["places"][0]
    assert first["label"] == "Quận Mẫu 1 (cũ)" and first["kind"] == "district"
    assert first["former"] is True and "former unit" in first["detail"]


def test_an_unknown_address_answers_no_place_not_an_error(client: TestClient) -> None:
    # the finder turns an empty answer into advice (street alone, ward after a comma, the map)
    answer = client.get("/api/geocode", params={"q": "qqxq zzkw"})
    assert answer.status_code == 200 and answer.json()["places"] == []
    # too short to search: refused, and the finder gives the same advice
    assert client.get("/api/geocode", params={"q": "q"}).status_code == 400
