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


#: What ``\\s`` means in a JSON Schema pattern (ECMA-262), spelled out for Python's ``re``.
ECMA_SPACES = "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"


def test_the_schema_and_the_server_agree_on_what_is_too_short(client: TestClient) -> None:
    """Schemathesis found a query the OpenAPI pattern took and the server refused as too short:
    control characters Python's ``strip`` cuts (U+001C) but JSON Schema's ``\\s`` keeps."""
    import re

    from web.public_api import PLACE_QUERY

    ecma = PLACE_QUERY.replace("[^\\s", f"[^{ECMA_SPACES}").replace("\\s", f"[{ECMA_SPACES}]")
    found = "\t\x10\x0c \t\n \x0c\x0b\n\n\x0c\x1c\x0c \t\n \x0c\x0b\n\n\x0c"
    for query in (found, "\x10\x1c", " \x10 \x85", "ab", " Nguyễn Huệ ", "a\x1cb"):
        schema_takes = re.search(ecma, query) is not None
        served = client.get("/api/geocode", params={"q": query}).status_code
        assert served == (200 if schema_takes else 400), (query, schema_takes, served)
