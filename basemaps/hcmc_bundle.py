"""Build the compact real-HCMC bundle shipped in ``data/hcmc/`` from the full source files.

Run ``bin/make-hcmc-bundle`` (or ``python -m basemaps.hcmc_bundle [SOURCE] [OUT]``); SOURCE is
the HCMC data folder (``EDUGIS_HCMC_DATA``, else ``../shared/data/hcmc``), OUT ``data/hcmc``.
The same sources always give the same files. ``data/hcmc/SOURCES.md`` says what each file is.

- ``roads_2018-01-01.osm.pbf``: every way of the 2018 OSM extract that
  :func:`basemaps.roads.read_roads` keeps (``highway=*`` but not proposed, construction, areas
  ...), alleys and service roads included, with only the tags it reads and their nodes'
  locations, and the address nodes and ways (``addr:housenumber`` with ``addr:street``, only
  those two tags; a way with its nodes' locations) the geocoder finds house numbers in
  (no metadata, no other objects).
- ``boundaries_2018-01-01.geojson``: the 2018 districts (quận/huyện) and wards
  (phường/xã/thị trấn) of HCMC: the district relations listed as subareas of the city
  relation and the ward relations listed as subareas of a district, assembled by
  :func:`basemaps.osm_boundaries.read_boundary_relations`; a district whose own relation does
  not assemble (its border runs outside the extract) is the union of its wards.
- ``schools.csv``: the OSM education points inside those wards whose name says a
  school level (:func:`basemaps.school_names.classify_school`), in the school CSV contract
  plus ``levels`` and ``osm_id``.
- ``cutoffs.csv``: the grade-10 cut-off history as published (school names, district hints,
  programmes, scores and their maximum), in the shape ``edugis import cutoffs`` reads.
- ``exam2023_total_score_histogram.csv`` and ``district_population.csv``: copied as they are
  (the synthetic applicants' scores and population are drawn from them at load time).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import osmium
import pandas as pd
import shapely

from basemaps._osm_tags import NOT_ROADS
from basemaps.osm_boundaries import read_boundary_relations
from basemaps.school_names import classify_school, fold

ROADS_FILE = "roads_2018-01-01.osm.pbf"
BOUNDARIES_FILE = "boundaries_2018-01-01.geojson"
SCHOOLS_FILE = "schools.csv"
CUTOFFS_FILE = "cutoffs.csv"
HISTOGRAM_FILE = "exam2023_total_score_histogram.csv"
POPULATION_FILE = "district_population.csv"
BUNDLE_FILES = (ROADS_FILE, BOUNDARIES_FILE, SCHOOLS_FILE, CUTOFFS_FILE, HISTOGRAM_FILE,
                POPULATION_FILE)

SOURCE_PBF = Path("roads") / "hcmc_osm_2018-01-01.osm.pbf"
SOURCE_POIS = Path("schools") / "hcmc_osm2018_education_pois.csv"
SOURCE_CUTOFFS = Path("schools") / "hcmc_grade10_cutoffs_nv1_2022_2024.csv"
SOURCE_SPECIALIZED = Path("schools") / "hcmc_grade10_cutoffs_specialized_2022_2024.csv"
SOURCE_HISTOGRAM = Path("schools") / "hcmc_grade10_exam2023_total_score_histogram.csv"
SOURCE_POPULATION = Path("population") / "hcmc_district_population_web.csv"

#: OSM relation of Thành phố Hồ Chí Minh (admin_level 4), whose subareas are its districts.
HCMC_RELATION = 1973756
#: The tags of a road way that :func:`basemaps.roads.read_roads` reads; the rest are dropped.
ROAD_TAGS = frozenset({"highway", "name", "oneway", "maxspeed", "access", "vehicle",
                       "motor_vehicle", "junction", "area"})
#: The tags of an address node or way that :func:`basemaps.roads.read_roads` reads.
ADDRESS_TAGS = frozenset({"addr:housenumber", "addr:street"})
OSM_SOURCE = "OpenStreetMap 2018-01-01 (© OpenStreetMap contributors, ODbL 1.0)"
#: Words dropped from a school name before it is matched with the cut-off list.
NAME_NOISE = frozenset({"truong", "thpt", "ptth", "trung", "hoc", "pho", "thong", "-"})


@dataclass
class BuildReport:
    """What a build wrote and what it left out, printed by the command."""

    lines: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        """Note one line of the report."""
        self.lines.append(text)


def unit_code(osm_id: int) -> str:
    """Return the ``admin_units.code`` of an OSM relation without an official code (``osm-r<id>``).

    The same code as ``edugis import boundaries`` gives an OSM relation.
    """
    return f"osm-r{osm_id}"


# ---- roads -----------------------------------------------------------------------------------


@dataclass
class _Kept:
    """The ids of the objects the bundle keeps: roads, address nodes and ways, their nodes."""

    ways: set[int] = field(default_factory=set)
    address_ways: set[int] = field(default_factory=set)
    address_nodes: set[int] = field(default_factory=set)
    nodes: set[int] = field(default_factory=set)


def _is_address(tags: Any) -> bool:
    """Tell whether OSM tags name a whole address (house number and street)."""
    return "addr:housenumber" in tags and "addr:street" in tags


def _kept(pbf: Path) -> _Kept:
    """Return the road ways, the address nodes and ways of ``pbf`` and the nodes they need."""
    kept = _Kept()
    for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway", "addr:housenumber")):
        if isinstance(obj, osmium.osm.Node):
            if _is_address(obj.tags):
                kept.address_nodes.add(obj.id)
            continue
        if not isinstance(obj, osmium.osm.Way):
            continue
        road = obj.tags.get("highway") not in (None, *NOT_ROADS)
        if road:
            kept.ways.add(obj.id)
        if _is_address(obj.tags):
            kept.address_ways.add(obj.id)
        if road or obj.id in kept.address_ways:
            kept.nodes.update(n.ref for n in obj.nodes)
    return kept


def _tags(tags: Any, keys: frozenset[str]) -> dict[str, str]:
    return {k: v for k, v in tags if k in keys}


def write_roads(pbf: Path, out: Path) -> tuple[int, int, int]:
    """Write the road ways of ``pbf`` (kept tags only) and their nodes to ``out``.

    The address nodes and ways (``addr:housenumber`` and ``addr:street``, the rest of their
    tags dropped) come too, the ways with their nodes. Returns the number of road ways,
    address nodes and address ways.
    """
    kept = _kept(pbf)
    out.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(out)) as writer:
        for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY):
            if isinstance(obj, osmium.osm.Node):
                address = obj.id in kept.address_nodes
                if address or obj.id in kept.nodes:
                    writer.add_node(osmium.osm.mutable.Node(
                        id=obj.id, location=(obj.lon, obj.lat),
                        tags=_tags(obj.tags, ADDRESS_TAGS) if address else {}))
            elif isinstance(obj, osmium.osm.Way) and (
                    obj.id in kept.ways or obj.id in kept.address_ways):
                keys = ((ROAD_TAGS if obj.id in kept.ways else frozenset())
                        | (ADDRESS_TAGS if obj.id in kept.address_ways else frozenset()))
                writer.add_way(osmium.osm.mutable.Way(
                    id=obj.id, nodes=[n.ref for n in obj.nodes], tags=_tags(obj.tags, keys)))
    return len(kept.ways), len(kept.address_nodes), len(kept.address_ways)


# ---- boundaries ------------------------------------------------------------------------------


def admin_relations(pbf: Path) -> dict[int, tuple[str, list[int]]]:
    """Return the name and the ``subarea`` relation members of every administrative relation."""
    found: dict[int, tuple[str, list[int]]] = {}
    for relation in osmium.FileProcessor(str(pbf), osmium.osm.RELATION):
        if isinstance(relation, osmium.osm.Relation) and (
                relation.tags.get("boundary") == "administrative"):
            found[relation.id] = (relation.tags.get("name") or "",
                                  [m.ref for m in relation.members
                                   if m.type == "r" and m.role == "subarea"])
    return found


#: Names of ward-level units (phường, xã, thị trấn); other level-10 relations (a housing
#: estate, "Khu dân cư ...") are left out.
WARD_NAMES = ("Phường ", "Xã ", "Thị trấn ")


def _wards(pbf: Path, parent_of: dict[int, int], districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the assembled wards of HCMC with their parent district's code.

    A ward's parent is the district that lists it as a subarea; a ward no district lists
    (several districts list only some of their wards) goes to the assembled district
    containing its point on surface. Wards in neither are left out.
    """
    wards = pd.concat([read_boundary_relations(pbf, level) for level in (8, 10)],
                      ignore_index=True)
    wards = wards[wards["name"].str.startswith(WARD_NAMES)].reset_index(drop=True)
    parent = pd.Series([parent_of.get(i) for i in wards["osm_id"]], dtype="Int64")
    tree = shapely.STRtree(districts.geometry.to_numpy())
    points = shapely.point_on_surface(wards.geometry.to_numpy())
    ward_index, district_index = tree.query(points, predicate="within")
    contained = pd.Series(districts["osm_id"].to_numpy()[district_index], index=ward_index,
                          dtype="Int64")
    contained = contained[~contained.index.duplicated()]
    parent = parent.fillna(contained.reindex(parent.index))
    wards = wards[parent.notna().to_numpy()].copy()
    wards["parent_code"] = [unit_code(int(i)) for i in parent.dropna()]
    wards["code"] = [unit_code(i) for i in wards["osm_id"]]
    wards["level"], wards["source"] = "ward", OSM_SOURCE
    return gpd.GeoDataFrame(wards, geometry="geometry", crs="EPSG:4326")


def build_boundaries(pbf: Path, report: BuildReport) -> gpd.GeoDataFrame:
    """Return HCMC's 2018 districts and wards (``code, name, level, parent_code, osm_id, source``)."""
    relations = admin_relations(pbf)
    district_ids = relations[HCMC_RELATION][1] if HCMC_RELATION in relations else []
    parent_of = {ward: district for district in district_ids
                 for ward in relations.get(district, ("", []))[1]}
    assembled = read_boundary_relations(pbf, 6)
    assembled = assembled[assembled["osm_id"].isin(district_ids)]
    wards = _wards(pbf, parent_of, assembled)
    assembled = assembled.set_index("osm_id")
    rows = []
    for osm_id in district_ids:
        name = relations[osm_id][0]
        mine = wards[wards["parent_code"] == unit_code(osm_id)]
        if osm_id in assembled.index:
            geometry, source = assembled.geometry.loc[osm_id], OSM_SOURCE
        elif len(mine):
            geometry = shapely.union_all(mine.geometry.to_numpy())
            source = OSM_SOURCE + ", union of its wards (its own relation is not closed in the extract)"
            report.add(f"  district {name}: the union of its {len(mine)} assembled wards")
        else:
            report.add(f"  district {name}: left out (neither it nor any of its wards assembles)")
            continue
        # "" rather than null: a null is read back as NaN, which the boundary reader takes as a code
        rows.append({"code": unit_code(osm_id), "name": name, "level": "district",
                     "parent_code": "", "osm_id": osm_id, "source": source,
                     "geometry": shapely.multipolygons(shapely.get_parts(geometry))})
    listed = int(wards["osm_id"].isin(parent_of).sum())
    report.add(f"boundaries: {len(rows)} of {len(district_ids)} districts; {len(wards)} wards"
               f" ({listed} of the {len(parent_of)} that districts list as subareas, the rest"
               " placed by their point)")
    columns = ["code", "name", "level", "parent_code", "osm_id", "source", "geometry"]
    districts = gpd.GeoDataFrame(rows, columns=columns, geometry="geometry", crs="EPSG:4326")
    return gpd.GeoDataFrame(pd.concat([districts, wards[columns]], ignore_index=True),
                            geometry="geometry", crs="EPSG:4326")


# ---- schools and cut-offs --------------------------------------------------------------------


def build_schools(pois_csv: Path, wards: gpd.GeoDataFrame, report: BuildReport) -> pd.DataFrame:
    """Return the classified OSM education points inside ``wards`` as school CSV rows.

    Inside a ward, not only a district: every school then has a ward, and is inside the city
    whether the city is taken as the union of its districts or of its wards.
    """
    pois = pd.read_csv(pois_csv, dtype=str, keep_default_na=False)
    rows = []
    for poi in pois.itertuples(index=False):
        found = classify_school(poi.name, poi.amenity)
        if found is None:
            continue
        address = " ".join(part for part in (poi.addr_housenumber, poi.addr_street) if part)
        rows.append({
            "code": f"OSM-{poi.osm_type[0].upper()}{poi.osm_id}", "name": poi.name.strip(),
            "level": found.level, "levels": ";".join(found.levels), "ownership": found.ownership,
            "lon": float(poi.lon), "lat": float(poi.lat), "address": address,
            "osm_id": int(poi.osm_id),
        })
    frame = pd.DataFrame(rows)
    inside = shapely.contains_xy(shapely.union_all(wards.geometry.to_numpy()),
                                 frame["lon"].to_numpy(), frame["lat"].to_numpy())
    kept = drop_duplicates(frame[inside]).sort_values("code").reset_index(drop=True)
    counts = kept["level"].value_counts().to_dict()
    report.add(f"schools: {len(pois)} OSM education points, {len(frame)} named a school level,"
               f" {int(inside.sum())} inside the wards, {len(kept)} once duplicates are"
               f" dropped; first level {counts};"
               f" {int((kept['ownership'] == 'private').sum())} private,"
               f" {int(kept['levels'].str.contains(';').sum())} multi-level")
    return kept


#: Points of the same name and levels closer than this are one school mapped twice (metres).
DUPLICATE_M = 300.0


def drop_duplicates(schools: pd.DataFrame) -> pd.DataFrame:
    """Keep one of the points of a school mapped twice (a node and its grounds' way, same name).

    Points are the same school when their :func:`core_name` and levels agree and they lie
    within :data:`DUPLICATE_M`; the way (``OSM-W``) is kept over the node.
    """
    ordered = schools.assign(core=schools["name"].map(core_name)).sort_values("code", ascending=False)
    kept: list[int] = []
    seen: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for index, core, levels, lon, lat in zip(ordered.index, ordered["core"], ordered["levels"],
                                             ordered["lon"], ordered["lat"], strict=True):
        places = seen.setdefault((core, levels), [])
        if any(abs(lon - x) * 109_000 < DUPLICATE_M and abs(lat - y) * 110_600 < DUPLICATE_M
               for x, y in places):
            continue
        places.append((lon, lat))
        kept.append(index)
    return schools.loc[kept]


def core_name(name: str) -> str:
    """Return a school name folded, without "Trường", "THPT" and the like (for matching)."""
    return " ".join(w for w in fold(name).replace("-", " ").split() if w not in NAME_NOISE)


#: Columns of ``cutoffs.csv``: what ``edugis import cutoffs`` reads (names, not codes).
CUTOFF_COLUMNS = ["school_name", "district_section", "year", "admission_round", "programme",
                  "cutoff_score", "max_score"]


def build_cutoffs(source: Path, schools: pd.DataFrame, report: BuildReport) -> pd.DataFrame:
    """Return the grade-10 cut-off history as published, in the shape ``import cutoffs`` reads.

    Every row of the regular-programme (NV1) and the chuyên / tích hợp lists: school name,
    district hint (the regular list's ``district_section``; the specialised list has none),
    year, round, programme label as published, score and its maximum (30 for the regular
    programme, 50 for chuyên and tích hợp). Schools are named, not coded: the loader matches
    the names to the schools with the importer. The report counts the names whose core name
    (:func:`core_name`) is one school teaching upper secondary in ``schools``.
    """
    nv1 = pd.read_csv(source / SOURCE_CUTOFFS, dtype=str, keep_default_na=False)
    special = pd.read_csv(source / SOURCE_SPECIALIZED, dtype=str, keep_default_na=False)
    special["district_section"] = ""
    history = pd.concat([nv1, special], ignore_index=True).rename(columns={"program": "programme"})
    history["programme"] = history["programme"].str.slice(0, 32)
    frame = history[CUTOFF_COLUMNS].drop_duplicates().sort_values(
        ["school_name", "programme", "year", "admission_round"], kind="stable")
    upper = schools[schools["levels"].str.contains("upper_secondary")]
    cores = upper["name"].map(core_name).value_counts()
    names = sorted(set(frame["school_name"]))
    found = sum(cores.get(core_name(n), 0) == 1 for n in names)
    report.add(f"cut-offs: {len(frame)} rows of {len(names)} school names"
               f" ({int((frame['max_score'] == '50').sum())} out of 50); {found} names are one"
               " OSM school by core name")
    return frame.reset_index(drop=True)


# ---- the whole bundle ------------------------------------------------------------------------


def build_bundle(source: Path, out: Path) -> BuildReport:
    """Write every file of the bundle from the HCMC data folder ``source`` into ``out``."""
    report = BuildReport()
    out.mkdir(parents=True, exist_ok=True)
    pbf = source / SOURCE_PBF
    roads, address_nodes, address_ways = write_roads(pbf, out / ROADS_FILE)
    report.add(f"roads: {roads} ways; addresses: {address_nodes} nodes, {address_ways} ways")
    units = build_boundaries(pbf, report)
    (out / BOUNDARIES_FILE).unlink(missing_ok=True)
    units.to_file(out / BOUNDARIES_FILE, driver="GeoJSON", COORDINATE_PRECISION=6)
    schools = build_schools(source / SOURCE_POIS, units[units["level"] == "ward"], report)
    schools.to_csv(out / SCHOOLS_FILE, index=False)
    build_cutoffs(source, schools, report).to_csv(out / CUTOFFS_FILE, index=False)
    shutil.copyfile(source / SOURCE_HISTOGRAM, out / HISTOGRAM_FILE)
    shutil.copyfile(source / SOURCE_POPULATION, out / POPULATION_FILE)
    for name in BUNDLE_FILES:
        report.add(f"  {name}: {(out / name).stat().st_size / 1e6:.2f} MB")
    return report


def default_source() -> Path:
    """Return the HCMC data folder: ``EDUGIS_HCMC_DATA``, else ``shared/data/hcmc`` beside the repo."""
    repo = Path(__file__).resolve().parent.parent
    return Path(os.environ.get("EDUGIS_HCMC_DATA", repo.parent / "shared" / "data" / "hcmc"))


def main(argv: list[str] | None = None) -> None:
    """Build the bundle: ``python -m basemaps.hcmc_bundle [SOURCE] [OUT]``."""
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else default_source()
    out = Path(args[1]) if len(args) > 1 else Path(__file__).resolve().parent.parent / "data" / "hcmc"
    if not (source / SOURCE_PBF).exists():
        sys.exit(f"error: {source / SOURCE_PBF} not found (set EDUGIS_HCMC_DATA or pass SOURCE)")
    for line in build_bundle(source, out).lines:
        print(line)


if __name__ == "__main__":
    main()
