"""Address search for the parents' finder: street sections, wards and districts, former ones too.

:func:`place_names` reads the index once per data version (the finder keeps it,
:class:`routing.finder.FinderState`); :func:`search` matches a query against it, without the
database.

- **Street sections.** The named roads of the basemap in use are grouped by name, ignoring
  case (``đường số 1`` and ``Đường Số 1`` are one street, shown in the spelling most of its
  roads use), then cut into connected pieces (roads of that name sharing a node), and each
  piece into the wards of today it crosses (a road belongs to the ward holding its middle,
  or to the nearest within :data:`NEAR_WARD_DEG`); the two carriageways of a boulevard and
  short gaps join (:data:`JOIN_GAP_M`). Each section is one place, at the road
  middle nearest its centre: "Đường số 1" spread over 30 km gives one result per ward and
  piece, not one point. A section also knows the former wards and districts it lies in.
- **Units.** Wards and districts of ``admin_units``; those whose ``valid_to`` has passed are
  kept, labelled as former (``Quận 2 (cũ)``), so a name people still use is found.
- **Street and ward together.** ``"Nguyễn Huệ, Bến Nghé"`` (or without the comma) finds
  the section of Nguyễn Huệ in ward Bến Nghé (today's or a former one); when the street does
  not cross that ward, the section nearest to it.

- **House numbers.** ``"12 Nguyễn Huệ"``, ``"số 12A Nguyễn Huệ, Bến Nghé"``: a query
  starting with a house number finds the OSM address point of that number on that street
  (``address_points``, read by the OSM road import; the street compared folded, the
  number ignoring case), first, labelled ``"12 Nguyễn Huệ"`` (kind ``address``); then the
  street's sections as for the query without the number. With no such address point
  only the sections come: nothing claims the number was found.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sqlalchemy.engine import Engine

from gis_service.text_search import fold

__all__ = ["NEAR_WARD_DEG", "place_names", "search"]

#: A road outside every ward of today belongs to the nearest one within this distance
#: (degrees, ~1 km); farther (a neighbouring province) it has no ward.
NEAR_WARD_DEG = 0.01
#: Roads of one name whose middles are this close (metres) are one piece of the street.
JOIN_GAP_M = 60.0
#: Shown after the label of a unit that no longer exists.
FORMER_VI, FORMER_EN = "cũ", "former"

_EDGES = sa.text(
    "SELECT name, u, v, length_m, ST_X(m) AS lon, ST_Y(m) AS lat FROM (SELECT name, u, v,"
    " length_m, ST_LineInterpolatePoint(geom, 0.5) AS m FROM road_edges WHERE name <> ''"
    " AND basemap = (SELECT value FROM app_settings WHERE key = 'basemap')) e")
_UNITS = sa.text(
    "SELECT u.code, u.name, u.level, p.name AS parent_name, p.level AS parent_level,"
    " u.valid_to, coalesce(u.valid_to <= now(), false) AS former,"
    " ST_X(ST_PointOnSurface(u.geom)) AS lon, ST_Y(ST_PointOnSurface(u.geom)) AS lat,"
    " ST_AsBinary(u.geom) AS wkb"
    " FROM admin_units u LEFT JOIN admin_units p ON p.code = u.parent_code"
    " WHERE u.level IN ('ward', 'district') AND u.geom IS NOT NULL ORDER BY u.code")


_ADDRESSES = sa.text(
    "SELECT housenumber, street, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM address_points"
    " WHERE basemap = (SELECT value FROM app_settings WHERE key = 'basemap') ORDER BY id")
#: A house number: digits first, then letters, ``/`` or ``-`` (``12``, ``12A``, ``12/3B``).
_HOUSE_NUMBER = re.compile(r"\d[\w/-]*")
#: Words that may come before a house number (``số 12``).
_NUMBER_WORDS = frozenset({"số", "so"})


def place_names(engine: Engine) -> list[dict[str, Any]]:
    """Return the search index: street sections, then wards and districts (current and former).

    Each place has ``label``, ``kind`` (``street``/``ward``/``district``), ``lon``, ``lat``,
    ``detail`` (where it is: the ward of a section, the validity of a former unit),
    ``ward`` (a section's ward of today, a ward's own name), ``former`` (a unit that no
    longer exists), ``context`` (the names a second part of the query may match: wards and
    districts, today's and former) and the prepared forms :func:`search` matches.
    """
    with engine.connect() as conn:
        edges = pd.DataFrame([tuple(row) for row in conn.execute(_EDGES)],
                             columns=["name", "u", "v", "length_m", "lon", "lat"])
        units = pd.DataFrame([tuple(row) for row in conn.execute(_UNITS)],
                             columns=["code", "name", "level", "parent_name", "parent_level",
                                      "valid_to", "former", "lon", "lat", "wkb"])
        addresses = pd.DataFrame([tuple(row) for row in conn.execute(_ADDRESSES)],
                                 columns=["housenumber", "street", "lon", "lat"])
    units = units.astype(object).where(units.notna(), None)
    places = (_street_sections(edges, units) + [_unit_place(u) for u in units.to_dict("records")]
              + _address_places(addresses, units))
    return [_indexed(place) for place in places]


def _house_numbers(text: str) -> frozenset[str]:
    """Return the numbers an ``addr:housenumber`` holds, case-folded (``"14;16"`` holds two)."""
    return frozenset(part.strip().casefold() for part in re.split(r"[;,]", text) if part.strip())


def _address_places(addresses: pd.DataFrame, units: pd.DataFrame) -> list[dict[str, Any]]:
    """Return one place per address point, with its ward (today's) and former units as context."""
    if addresses.empty:
        return []
    lon, lat = addresses["lon"].to_numpy(float), addresses["lat"].to_numpy(float)
    points = shapely.points(lon, lat)
    current = units[~units["former"].astype(bool) & (units["level"] == "ward")].reset_index(drop=True)
    ward = _wards_of(points, current)
    wards = current.to_dict("records")
    former = _former_names(points, np.arange(len(points)), units)
    places = []
    for i, (number, street) in enumerate(zip(addresses["housenumber"], addresses["street"],
                                             strict=True)):
        unit = wards[ward[i]] if ward[i] >= 0 else None
        where = _unit_label(unit) if unit else ""
        places.append({
            "label": f"{number} {street}", "kind": "address", "lon": float(lon[i]),
            "lat": float(lat[i]), "detail": where, "ward": unit["name"] if unit else None,
            "former": False, "context": ", ".join(filter(None, [where, *former.get(i, [])])),
            "numbers": _house_numbers(str(number)), "street": fold(str(street))})
    return places


def _first_hits(hits: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """Return, per input point, the first tree index of ``hits`` (``-1`` for none)."""
    out = np.full(n, -1, dtype=np.int64)
    if hits.shape[1]:
        first = np.r_[True, np.diff(hits[0]) != 0]
        out[hits[0][first]] = hits[1][first]
    return out


def _wards_of(points: NDArray[np.object_], wards: pd.DataFrame) -> NDArray[np.int64]:
    """Return the row of ``wards`` holding each point, else the nearest within reach (``-1``)."""
    if wards.empty:
        return np.full(len(points), -1, dtype=np.int64)
    tree = shapely.STRtree(shapely.from_wkb(wards["wkb"].to_numpy()))
    ward = _first_hits(tree.query(points, predicate="intersects"), len(points))
    outside = np.flatnonzero(ward < 0)
    if outside.size:
        near = tree.query_nearest(points[outside], max_distance=NEAR_WARD_DEG, all_matches=False)
        ward[outside[near[0]]] = near[1]
    return ward


def _name_key(name: str) -> str:
    """Return the key that merges spellings differing only in case and spacing."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _unit_label(unit: dict[str, Any]) -> str:
    """Return ``"Phường X, Quận Y"`` for a ward of a district, else the unit's name."""
    if unit["level"] == "ward" and unit["parent_level"] == "district" and unit["parent_name"]:
        return f"{unit['name']}, {unit['parent_name']}"
    return str(unit["name"])


def _unit_place(unit: dict[str, Any]) -> dict[str, Any]:
    """Return the place of a ward or district; a former one says so in its label and detail."""
    label = _unit_label(unit)
    detail = ""
    if unit["former"]:
        label = f"{label} ({FORMER_VI})"
        detail = f"đơn vị cũ, đến {unit['valid_to']:%d/%m/%Y} / former unit, until {unit['valid_to']}"
    return {"label": label, "kind": unit["level"], "lon": float(unit["lon"]),
            "lat": float(unit["lat"]), "detail": detail,
            "ward": unit["name"] if unit["level"] == "ward" else None,
            "former": bool(unit["former"]),
            "context": unit["parent_name"] or ""}


def _pieces(edges: pd.DataFrame, key: pd.Series) -> NDArray[np.int64]:
    """Return a piece number per edge: roads of one name joined by a node, or close by.

    Roads of the same name (``key``) sharing a node are one piece; so are those whose
    middles lie within :data:`JOIN_GAP_M` (the two carriageways of a boulevard, a short
    gap in the mapped road).
    """
    ends = pd.concat([key + "\x00" + edges["u"].astype(str), key + "\x00" + edges["v"].astype(str)])
    node, _ = pd.factorize(ends)
    n = len(edges)
    lat = edges["lat"].to_numpy(float)
    xy = np.column_stack([edges["lon"].to_numpy(float) * 111_320.0 * np.cos(np.radians(lat)),
                          lat * 110_574.0])
    close = cKDTree(xy).query_pairs(JOIN_GAP_M, output_type="ndarray")
    key_code = pd.factorize(key)[0]
    close = close[key_code[close[:, 0]] == key_code[close[:, 1]]]
    tails = np.concatenate([node[:n], node[:n][close[:, 0]]])
    heads = np.concatenate([node[n:], node[:n][close[:, 1]]])
    count = int(node.max()) + 1
    adjacency = coo_matrix((np.ones(tails.size), (tails, heads)), shape=(count, count))
    _, label = connected_components(adjacency, directed=False)
    return np.asarray(label[node[:n]], dtype=np.int64)


def _street_sections(edges: pd.DataFrame, units: pd.DataFrame) -> list[dict[str, Any]]:
    """Return one place per street section (name ignoring case, connected piece, ward).

    A section sits at its road middle nearest the section's length-weighted centre.
    """
    if edges.empty:
        return []
    key = edges["name"].map(_name_key)
    spelling = {k: Counter(names).most_common(1)[0][0] for k, names in edges.groupby(key)["name"]}
    points = shapely.points(edges["lon"].to_numpy(float), edges["lat"].to_numpy(float))
    current = units[~units["former"].astype(bool) & (units["level"] == "ward")].reset_index(drop=True)
    ward = _wards_of(points, current)
    key_code, keys = pd.factorize(key)
    _, group = np.unique(np.column_stack([key_code, _pieces(edges, key), ward]), axis=0,
                         return_inverse=True)
    group = group.ravel()
    lon, lat = edges["lon"].to_numpy(float), edges["lat"].to_numpy(float)
    weight = edges["length_m"].to_numpy(float) + 1e-9
    total = np.bincount(group, weight)
    centre_lon = np.bincount(group, weight * lon) / total
    centre_lat = np.bincount(group, weight * lat) / total
    order = np.lexsort(((lon - centre_lon[group]) ** 2 + (lat - centre_lat[group]) ** 2, group))
    best = order[np.r_[0, np.flatnonzero(np.diff(group[order])) + 1]]
    former = _former_names(points, group, units)
    wards = current.to_dict("records")
    sections = []
    for g, edge in enumerate(best):
        unit = wards[ward[edge]] if ward[edge] >= 0 else None
        where = _unit_label(unit) if unit else ""
        sections.append({
            "label": spelling[keys[key_code[edge]]], "kind": "street", "lon": float(lon[edge]),
            "lat": float(lat[edge]), "detail": where, "ward": unit["name"] if unit else None,
            "former": False, "context": ", ".join(filter(None, [where, *former.get(g, [])])),
            "length_m": float(total[g])})
    return _number_pieces(sections)


def _former_names(points: NDArray[np.object_], group: NDArray[np.int64],
                  units: pd.DataFrame) -> dict[int, list[str]]:
    """Return the labels of the former wards and districts each section lies in, by section."""
    former = units[units["former"].astype(bool)].reset_index(drop=True)
    if former.empty:
        return {}
    hits = shapely.STRtree(shapely.from_wkb(former["wkb"].to_numpy())).query(
        points, predicate="intersects")
    labels = [_unit_label(u) for u in former.to_dict("records")]
    out: dict[int, list[str]] = {}
    for g, unit in sorted(set(zip(group[hits[0]].tolist(), hits[1].tolist(), strict=True))):
        out.setdefault(g, []).append(labels[unit])
    return out


def _number_pieces(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tell apart pieces of one street in one ward: the longest first, the others "đoạn 2", ..."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for place in sections:
        groups.setdefault((_name_key(place["label"]), place["detail"]), []).append(place)
    for group in groups.values():
        group.sort(key=lambda p: -p.pop("length_m"))
        for number, place in enumerate(group[1:], start=2):
            place["detail"] = ", ".join(filter(None, [f"đoạn {number} / section {number}",
                                                      place["detail"]]))
    return sections


class _Words:
    """The words of a query, prepared once for matching against many places.

    As :func:`gis_service.text_search.matches`: a word typed with diacritics must occur with
    them, one typed without matches either way; names are prepared once in the index
    (``folded`` / ``lowered``), so a query costs substring tests only.
    """

    def __init__(self, words: list[str]) -> None:
        self.words = words
        nfc = [unicodedata.normalize("NFC", w).casefold() for w in words]
        self.folded = [fold(w) for w in words]
        self.marked = [f != n for f, n in zip(self.folded, nfc, strict=True)]
        self.nfc = nfc

    def all_in(self, start: int, stop: int, folded: str, lowered: str) -> bool:
        """Tell whether words ``start:stop`` all occur in a name (its two prepared forms)."""
        for i in range(start, stop):
            if self.marked[i] and self.nfc[i] not in lowered:
                return False
            if not self.marked[i] and self.folded[i] not in folded:
                return False
        return True


def _lowered(text: str) -> str:
    """Return ``text`` in NFC, case-folded: the form words with diacritics are sought in."""
    return unicodedata.normalize("NFC", text).casefold()


def _match_words(words: _Words, split_at: int | None, place: dict[str, Any]) -> int | None:
    """Return how many leading ``words`` match the place's label, the rest matching its context.

    ``split_at`` is where the query had its comma: the words before it must match the label
    (or the whole query must). ``None`` when nothing matches; the label takes at least the
    first word.
    """
    n = len(words.words)
    for cut in range(n, 0, -1) if split_at is None else (n, split_at):
        if words.all_in(0, cut, place["folded"], place["lowered"]) and (
                cut == n or words.all_in(cut, n, place["context_folded"],
                                         place["context_lowered"])):
            return cut
    return None


def search(places: list[dict[str, Any]], query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Return the places matching ``query``, best first (diacritics optional).

    A query starting with a house number (``"12 Nguyễn Huệ"``, ``"số 12A Nguyễn Huệ, Bến
    Nghé"``) gives the address point of that number first when there is one, then what the
    query without the number gives (see :func:`_search_places`).
    """
    number, rest = _split_house_number(query)
    if number is None:
        return _search_places(places, query, limit)
    found = _search_places(places, rest, limit) or _search_places(places, query, limit)
    return ([_public(p) for p in _address_matches(places, number, rest)] + found)[:limit]


def _split_house_number(query: str) -> tuple[str | None, str]:
    """Return the house number a query starts with (``None`` if it does not) and the rest.

    The rest must still name something: ``"12"`` alone is no address.
    """
    words = query.split()
    start = 1 if len(words) > 1 and words[0].casefold() in _NUMBER_WORDS else 0
    if len(words) < start + 2 or not _HOUSE_NUMBER.fullmatch(words[start].rstrip(",")):
        return None, query
    number = words[start].rstrip(",")
    rest = query.split(number, 1)[1].lstrip(" ,")
    return number.casefold(), rest


def _address_matches(places: list[dict[str, Any]], number: str, rest: str) -> list[dict[str, Any]]:
    """Return the address points numbered ``number`` on the street that ``rest`` names.

    ``rest`` is ``"street"`` or ``"street, ward"`` (or the ward without a comma): the street
    must equal the address's, folded; the words after it must occur in the point's ward or
    former units.
    """
    head, _, tail = rest.partition(",")
    words = head.split() + tail.replace(",", " ").split()
    if not words:
        return []
    cuts = range(len(words), 0, -1) if not tail.strip() else (len(head.split()),)
    area = _Words(words)
    found = []
    for place in places:
        if place["kind"] != "address" or number not in place["numbers"]:
            continue
        for cut in cuts:
            if fold(" ".join(words[:cut])) == place["street"] and area.all_in(
                    cut, len(words), place["context_folded"], place["context_lowered"]):
                found.append(place)
                break
    return found


def _search_places(places: list[dict[str, Any]], query: str, limit: int) -> list[dict[str, Any]]:
    """Return the streets, wards and districts matching ``query``, best first.

    ``"street, ward"`` (a comma, or just the words one after the other) matches the street's
    sections in that ward, today's or a former one. Ranking: the whole query in the label,
    more words in the label (the rest in the ward), a label starting with them, units of
    today before former ones, shorter labels.
    When no section of the street named before the comma lies in the ward named after it,
    the section nearest to that ward comes first, its detail saying so.

    Returns
    -------
    list of dict
        ``label, kind, lon, lat, detail, ward, former`` per place.
    """
    head, _, tail = query.partition(",")
    words = head.split() + tail.replace(",", " ").split()
    if not words:
        return []
    split_at = len(head.split()) if tail.strip() and head.strip() else None
    prepared = _Words(words)
    scored = []
    for place in places:
        if place["kind"] == "address":
            continue
        cut = _match_words(prepared, split_at, place)
        if cut is None:
            continue
        prefix = fold(" ".join(words[:cut]))
        scored.append(((cut < len(words), -cut, not place["folded"].startswith(prefix),
                        place["former"], len(place["label"]), place["label"], place["detail"]),
                       place))
    scored.sort(key=lambda pair: pair[0])
    found = [place for _, place in scored]
    if split_at is not None:
        street = fold(" ".join(words[:split_at]))
        if not any(place["folded"] == street for place in found):
            found = _nearest_sections(places, street, _Words(words[split_at:]))[:1] + found
    return [_public(place) for place in found[:limit]]


def _nearest_sections(places: list[dict[str, Any]], street: str,
                      area: _Words) -> list[dict[str, Any]]:
    """Return the sections of the street named ``street`` (folded) nearest to ``area``.

    ``area`` is the first unit (of today before former) whose label holds its words; the
    detail of each section says that it is near that unit, not in it.
    """
    n = len(area.words)
    units = [p for p in places
             if p["kind"] != "street" and area.all_in(0, n, p["folded"], p["lowered"])]
    sections = [p for p in places if p["kind"] == "street" and p["folded"] == street]
    if not units or not sections:
        return []
    unit = min(units, key=lambda p: (p["former"], len(p["label"])))
    sections.sort(key=lambda p: (p["lon"] - unit["lon"]) ** 2 + (p["lat"] - unit["lat"]) ** 2)
    near = f"gần {unit['label']} / near {unit['label']}"
    return [{**p, "detail": ", ".join(filter(None, [p["detail"], near]))} for p in sections]


def _indexed(place: dict[str, Any]) -> dict[str, Any]:
    """Add the prepared forms of the place's label and context (see :class:`_Words`)."""
    return {**place, "folded": fold(place["label"]), "lowered": _lowered(place["label"]),
            "context_folded": fold(place["context"]),
            "context_lowered": _lowered(place["context"])}


def _public(place: dict[str, Any]) -> dict[str, Any]:
    """Return the fields of a place that the API answers with."""
    return {key: place[key] for key in ("label", "kind", "lon", "lat", "detail", "ward", "former")}
