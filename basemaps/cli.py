"""``edugis import ...``: roads, boundaries, the old -> new unit mapping and schools into PostGIS."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_service.errors import InputError

if TYPE_CHECKING:
    from basemaps.store import ImportReport
    from gis_service.errors import Problem

# The readers and the database layer (pandas, geopandas, SQLAlchemy, GeoAlchemy2) are imported
# inside the commands, so that ``edugis --help`` and the other commands start without them.

app = typer.Typer(help="Import basemap layers and schools (one transaction per file).",
                  no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="input file")]
CrsOpt = Annotated[str | None, typer.Option(help="CRS of the file, e.g. EPSG:9210 (VN-2000)")]
SkipOpt = Annotated[bool, typer.Option(help="store the good rows and report the bad ones")]


def _finish(report: ImportReport) -> None:
    typer.echo(report.summary())
    for problem in report.problems:
        typer.echo(f"  skipped: {problem}", err=True)


def basemap_name(path: Path) -> str:
    stem = path.name.split(".")[0]
    return re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_")[:64] or "roads"


@app.command()
def roads(
    file: FileArg,
    name: Annotated[str | None, typer.Option(help="basemap name (default: from file name)")] = None,
    crs: CrsOpt = None,
    class_field: Annotated[str, typer.Option(
        help="GIS lines: the column holding the road class")] = "highway",
    class_map: Annotated[str | None, typer.Option(
        help="GIS lines: the file's classes as OSM ones, e.g. 'Quốc lộ=trunk,Đường phố=residential'"
    )] = None,
    tolerance_m: Annotated[float, typer.Option(
        help="GIS lines: vertices closer than this many metres are one junction")] = 0.5,
    skip_invalid: SkipOpt = False,
) -> None:
    """Import a road network: OSM PBF / XML, osmnx GraphML, or the city basemap's road lines.

    Road lines are read from GeoPackage, Shapefile or GeoJSON in any declared CRS
    (e.g. VN-2000) and noded at junctions.
    """
    from basemaps.roads import directed_edge_count, is_line_file, read_roads
    from basemaps.store import refuse_if_problems, store_roads
    from gis_service.db import get_engine

    typer.echo(f"reading {file} ...")
    problems: list[Problem] = []
    if is_line_file(file):
        from basemaps.road_lines import read_road_lines

        layer, stats, problems = read_road_lines(file, crs, class_field=class_field,
                                                 class_map=parse_class_map(class_map),
                                                 tolerance_m=tolerance_m)
        refuse_if_problems(problems, skip_invalid)
        kind = "features"
    else:
        if crs or class_map or class_field != "highway":
            raise typer.BadParameter("--crs, --class-field and --class-map apply to GIS line files;"
                                     " OSM and GraphML files are in WGS84 with OSM classes")
        layer, stats = read_roads(file)
        kind = "ways with highway"
    typer.echo(f"  {stats.ways_with_highway} {kind}, {stats.ways_kept} kept; "
               f"{layer.node_count} nodes, {layer.edge_count} edges "
               f"({directed_edge_count(layer)} directed)")
    chosen = name or basemap_name(file)
    report = store_roads(get_engine(), layer, chosen, progress=True)
    report.problems = problems
    _finish(report)
    if report.details["in_use"] != chosen:
        typer.echo(f"basemap {chosen} is imported but not in use (in use: {report.details['in_use']});"
                   f" route on it with: edugis basemap use {chosen}")


def parse_class_map(text: str | None) -> dict[str, str]:
    """``'Quốc lộ=trunk,Đường phố=residential'`` as a mapping (empty for ``None``)."""
    mapping: dict[str, str] = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        source, eq, target = pair.partition("=")
        if not eq or not source.strip() or not target.strip():
            raise typer.BadParameter(f"--class-map wants 'value=osm_class,...', got {pair!r}")
        mapping[source.strip()] = target.strip()
    return mapping


FromOpt = Annotated[datetime | None, typer.Option(
    formats=["%Y-%m-%d"], help="the units exist from this day (YYYY-MM-DD)")]
ToOpt = Annotated[datetime | None, typer.Option(
    formats=["%Y-%m-%d"], help="the units ceased on this day: history (e.g. 2025-07-01)")]


@app.command()
def boundaries(
    file: FileArg, crs: CrsOpt = None,
    level: Annotated[str | None, typer.Option(
        help="what the units are: province, district or ward (default: detected; for OSM"
             " files from the admin level: 4 province, 6 district, 8 and 10 ward)")] = None,
    admin_level: Annotated[int | None, typer.Option(
        help="OSM files: the admin_level of the boundary relations to read (e.g. 10)")] = None,
    valid_from: FromOpt = None,
    valid_to: ToOpt = None,
    skip_invalid: SkipOpt = False,
) -> None:
    """Import province / district / ward boundaries (GeoJSON, GeoPackage, Shapefile, OSM PBF).

    OSM files: --admin-level picks the boundary relations, --level says what they are.
    Units without an official code are coded osm-r<relation id>.
    Units with --valid-to are history (the districts and wards before 1 July 2025).
    Units without a parent go into the unit containing them (wards of today: the province).
    """
    from basemaps.boundaries import is_osm_file, read_boundaries, read_osm_boundaries
    from basemaps.store import store_boundaries
    from gis_service.db import get_engine

    if is_osm_file(file):
        if admin_level is None or crs:
            raise typer.BadParameter("an OSM file needs --admin-level (e.g. 10 for the wards);"
                                     " it is in WGS84, so --crs does not apply")
        units, problems = read_osm_boundaries(file, admin_level, level)
    else:
        if admin_level is not None:
            raise typer.BadParameter("--admin-level applies to OSM files (.osm.pbf, .osm)")
        units, problems = read_boundaries(file, crs=crs, level=level)
    _finish(store_boundaries(get_engine(), units, problems, str(file), skip_invalid,
                             valid_from=valid_from.date() if valid_from else None,
                             valid_to=valid_to.date() if valid_to else None))


@app.command("admin-mapping")
def admin_mapping(file: FileArg, skip_invalid: SkipOpt = False) -> None:
    """Import which new unit each old unit went to (CSV old_code,new_code[,share]).

    Population and births keyed by former wards then count in the wards of today by share.
    An old unit's pairs not in the file are deleted.
    """
    from basemaps.admin_mapping import read_admin_mapping, store_admin_mapping
    from gis_service.db import get_engine

    mapping, problems = read_admin_mapping(file)
    _finish(store_admin_mapping(get_engine(), mapping, problems, str(file), skip_invalid))


@app.command()
def schools(
    file: FileArg, crs: CrsOpt = None, skip_invalid: SkipOpt = False,
    report: Annotated[Path | None, typer.Option(
        help="write every problem to this CSV (file,row,field,reason_vi,reason)")] = None,
) -> None:
    """Import schools (CSV: code,name,level,ownership,lon,lat[,...] or GeoJSON).

    level is one level, several separated by ';' (a multi-level school), or lien_cap with
    the levels in a levels column; ownership is public or private (công lập / tư thục).
    """
    from basemaps.schools import read_schools, write_problems
    from basemaps.store import store_schools
    from gis_service.db import get_engine

    try:
        rows, problems = read_schools(file, crs=crs)
        done = store_schools(get_engine(), rows, problems, str(file), skip_invalid)
    except InputError as error:
        if report is not None:
            write_problems(error.problems, report)
            typer.echo(f"all {len(error.problems)} problems written to {report}", err=True)
        raise
    if report is not None:
        write_problems(done.problems, report)
        done.details["problem report"] = f"{len(done.problems)} problems in {report}"
    _finish(done)


__all__ = ["InputError", "app"]


basemap_app = typer.Typer(help="The road networks imported and the one the city routes on.",
                          no_args_is_help=True)


@basemap_app.command("list")
def basemap_list() -> None:
    """List the imported basemaps, newest first; the one in use is marked with *."""
    import sqlalchemy as sa

    from basemaps.in_use import basemap_in_use
    from gis_service.db import get_engine

    with get_engine().connect() as conn:
        in_use = basemap_in_use(conn)
        rows = conn.execute(sa.text("SELECT name, source, node_count, edge_count, imported_at"
                                    " FROM basemaps ORDER BY imported_at DESC, name")).all()
    if not rows:
        typer.echo("no basemap imported yet: edugis import roads FILE")
    for row in rows:
        mark = "*" if row.name == in_use else " "
        typer.echo(f"{mark} {row.name}  {row.node_count} nodes, {row.edge_count} edges, "
                   f"imported {row.imported_at:%Y-%m-%d %H:%M}  ({row.source})")


@basemap_app.command("use")
def basemap_use(
    name: Annotated[str, typer.Argument(help="an imported basemap (see edugis basemap list)")],
    actor: Annotated[str, typer.Option(help="who asks (written to the audit log)")] = "cli",
) -> None:
    """Route the city on basemap NAME (audited).

    The finder, tiles, admissions and planning follow within seconds.
    """
    from basemaps.in_use import use_basemap
    from gis_service.db import get_engine

    previous = use_basemap(get_engine(), name, actor)
    if previous == name:
        typer.echo(f"basemap {name} is already in use")
    else:
        typer.echo(f"basemap {name} is now in use (was: {previous or 'none'})")
