"""Assemble OpenStreetMap administrative boundary relations into polygons (pyosmium, shapely).

A boundary relation lists the ways of its rings. Ways are read with their node locations,
noded together and polygonized; the faces of the ``outer`` (and role-less) ways, less those
of the ``inner`` ways, are the unit. A relation assembles when its ways close at least one
ring and at most :data:`MAX_LOOSE_SHARE` of their length is left hanging (a spur, an
overshoot): more than that means rings left open and a polygon that would be a fragment.
Relations that do not assemble are returned with the reason, never dropped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import osmium
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon

from gis_service.errors import InputError, Problem

log = logging.getLogger(__name__)

#: Largest share of a relation's way length that may stay outside every ring.
MAX_LOOSE_SHARE = 0.05

#: Tags read as a unit's official code, first present wins (OSM Vietnam rarely has any).
CODE_TAGS = ("ref:gso", "ref:VN", "ref:vn", "ref")

COLUMNS = ["osm_id", "name", "name_en", "admin_level", "ref", "geometry"]


@dataclass(frozen=True)
class RefusedRelation:
    """A boundary relation that did not assemble into a polygon, and why."""

    osm_id: int
    name: str
    reason_vi: str
    reason_en: str

    def __str__(self) -> str:
        """Return the relation and the reason, Vietnamese first."""
        return f"relation {self.osm_id} {self.name}: {self.reason_vi} / {self.reason_en}"


@dataclass
class _Relation:
    osm_id: int
    tags: dict[str, str]
    ways: list[tuple[int, str]]  # (way id, role)


def read_boundary_relations(path: str | Path, admin_level: int) -> gpd.GeoDataFrame:
    """Read the ``boundary=administrative`` relations of ``admin_level`` from an OSM file.

    Parameters
    ----------
    path
        OSM PBF (or XML) file.
    admin_level
        OSM ``admin_level`` (Vietnam: 4 province, 6 district, 8 or 10 ward/commune).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per assembled relation: ``osm_id`` (int), ``name``, ``name_en``,
        ``admin_level`` (int), ``ref`` (the first of :data:`CODE_TAGS`, ``""`` when none) and
        a MultiPolygon ``geometry`` in EPSG:4326. The relations that did not assemble are in
        ``frame.attrs["refused"]`` (a list of :class:`RefusedRelation`) and logged.
    """
    frame, refused = assemble_boundary_relations(path, admin_level)
    frame.attrs["refused"] = refused
    for relation in refused:
        log.warning("not assembled: %s", relation)
    return frame


def assemble_boundary_relations(
    path: str | Path, admin_level: int,
) -> tuple[gpd.GeoDataFrame, list[RefusedRelation]]:
    """Return the assembled relations of ``admin_level`` and the refused ones (see above)."""
    path = Path(path)
    try:
        relations = _relations(path, admin_level)
        ways = _way_lines(path, {way for r in relations for way, _ in r.ways})
    except RuntimeError as exc:  # libosmium's read errors
        raise InputError(Problem(str(path), None, None, f"not a readable OSM file: {exc}",
                                 reason_vi=f"không đọc được tệp OSM: {exc}")) from exc
    rows: list[dict[str, object]] = []
    refused: list[RefusedRelation] = []
    for relation in relations:
        name = relation.tags.get("name:vi") or relation.tags.get("name") or ""
        outcome = _assemble(relation, ways)
        if isinstance(outcome, MultiPolygon):
            rows.append({
                "osm_id": relation.osm_id, "name": name,
                "name_en": relation.tags.get("name:en", ""), "admin_level": admin_level,
                "ref": next((relation.tags[t] for t in CODE_TAGS if relation.tags.get(t)), ""),
                "geometry": outcome,
            })
        else:
            refused.append(RefusedRelation(relation.osm_id, name, *outcome))
    frame = gpd.GeoDataFrame(rows, columns=COLUMNS, geometry="geometry", crs="EPSG:4326")
    return frame.astype({"osm_id": "int64", "admin_level": "int64"}), refused


def _relations(path: Path, admin_level: int) -> list[_Relation]:
    wanted = osmium.filter.TagFilter(("admin_level", str(admin_level)))
    relations = []
    for obj in osmium.FileProcessor(str(path), osmium.osm.RELATION).with_filter(wanted):
        if not isinstance(obj, osmium.osm.Relation):
            continue
        tags = dict(obj.tags)
        if tags.get("boundary") != "administrative" or tags.get("type") not in (
                "boundary", "multipolygon"):
            continue
        members = [(m.ref, m.role) for m in obj.members if m.type == "w"]
        relations.append(_Relation(obj.id, tags, members))
    return relations


def _way_lines(path: Path, way_ids: set[int]) -> dict[int, LineString]:
    """Return the ways ``way_ids`` found in the file whose nodes all have a location."""
    if not way_ids:
        return {}
    lines: dict[int, LineString] = {}
    members_only = osmium.filter.IdFilter(way_ids)
    members_only.enable_for(osmium.osm.WAY)
    processor = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
                 .with_locations()
                 .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                 .with_filter(members_only))
    for way in processor:
        if not isinstance(way, osmium.osm.Way):
            continue
        try:
            coords = [(node.lon, node.lat) for node in way.nodes]
        except osmium.InvalidLocationError:
            continue  # a node outside the extract: the way counts as missing
        if len(coords) >= 2:
            lines[way.id] = LineString(coords)
    return lines


def _assemble(relation: _Relation, ways: dict[int, LineString]) -> MultiPolygon | tuple[str, str]:
    """Return the relation's MultiPolygon, or why it has none as (Vietnamese, English)."""
    if not relation.ways:
        return "quan hệ không có đường (way) thành viên", "the relation has no member ways"
    missing = sum(way not in ways for way, _ in relation.ways)
    outer, loose, loose_at = _faces(ways[w] for w, role in relation.ways
                                    if w in ways and role != "inner")
    total = sum(ways[w].length for w, _ in relation.ways if w in ways)
    if outer.is_empty or loose > MAX_LOOSE_SHARE * total:
        if missing:
            return (f"vòng ranh giới không khép kín: thiếu {missing}/{len(relation.ways)}"
                    " đường thành viên trong tệp",
                    f"rings not closed: {missing} of {len(relation.ways)} member ways"
                    " are missing from the file")
        where = f" ({loose_at[0]:.5f}, {loose_at[1]:.5f})" if loose_at else ""
        return (f"vòng ranh giới không khép kín gần{where}",
                f"rings not closed near{where}")
    inner, _, _ = _faces(ways[w] for w, role in relation.ways if w in ways and role == "inner")
    area = shapely.make_valid(outer.difference(inner) if not inner.is_empty else outer)
    parts = [p for p in shapely.get_parts(area) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:
        return "vòng trong che hết vòng ngoài", "the inner rings cover the outer ones"
    return MultiPolygon(parts)


def _faces(lines: Iterable[LineString]) -> tuple[shapely.Geometry, float, tuple[float, float] | None]:
    """Return the union of the faces the lines close, the length left loose and a loose point."""
    collected = list(lines)
    if not collected:
        return Polygon(), 0.0, None
    noded = shapely.unary_union(collected)  # lines that cross or touch mid-way get a node there
    polygons, cuts, dangles, invalid = shapely.polygonize_full([noded])
    loose = shapely.union_all([cuts, dangles, invalid])
    point = None
    if not loose.is_empty:
        x, y = shapely.get_coordinates(loose)[-1]
        point = (float(x), float(y))
    return shapely.union_all(shapely.get_parts(polygons)), float(loose.length), point
