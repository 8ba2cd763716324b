"""``edugis route ...``: nearest schools, matrices, isochrones and routes on files.

File mode (``--roads FILE`` and, where schools are needed, ``--schools FILE``) works
without the database. Without them the commands read the basemap in use (`edugis basemap use`)
and the imported schools from the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_service.errors import InputError, Problem
from routing.speeds import DEFAULT_MAX_OFFROAD_M, MODES

if TYPE_CHECKING:
    import pandas as pd

    from routing.graph import ModeGraph

# The implementation (numpy, pandas, shapely, numba) is imported inside the commands, so that
# ``edugis --help`` and the other commands start without it.

app = typer.Typer(help="Road distances and times: nearest schools, matrices, isochrones, routes.",
                  no_args_is_help=True)

RoadsOpt = Annotated[Path | None, typer.Option(
    "--roads", exists=True, dir_okay=False,
    help="road file (OSM PBF/XML or osmnx GraphML); default: the imported basemap")]
SchoolsOpt = Annotated[Path | None, typer.Option(
    "--schools", exists=True, dir_okay=False,
    help="schools CSV (code,name,level,ownership,lon,lat); default: the imported schools")]
ModeOpt = Annotated[str, typer.Option("--mode", help=f"travel mode: {', '.join(MODES)}")]
WeightOpt = Annotated[str, typer.Option("--weight", help="rank/cut by 'time' or 'distance'")]
CrsOpt = Annotated[str | None, typer.Option(
    "--crs", help="CRS of x,y columns in the origins file, e.g. EPSG:9210")]
OffroadOpt = Annotated[float, typer.Option(
    "--max-offroad-m", help="refuse points farther than this from any road of the mode")]
OutOpt = Annotated[Path, typer.Option("--out", dir_okay=False, help="output file")]
OriginsOpt = Annotated[Path, typer.Option("--origins", exists=True, dir_okay=False,
                                          help="origins CSV: id,lon,lat")]
LevelOpt = Annotated[str | None, typer.Option("--level", help="only schools of this level")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _check_choice(value: str, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise _fail(f"{name} must be one of {', '.join(choices)}, not {value!r}")


def _load_graph(roads: Path | None, mode: str) -> ModeGraph:
    _check_choice(mode, MODES, "--mode")
    from routing.cache import build_graph

    if roads is None:
        from basemaps.fetch import load_road_layer
        from gis_service.db import get_engine

        return build_graph(load_road_layer(get_engine()), mode)
    from basemaps.roads import read_roads

    layer, _ = read_roads(roads)
    return build_graph(layer, mode)


def _load_schools(schools: Path | None) -> pd.DataFrame:
    if schools is None:
        from basemaps.fetch import load_schools
        from gis_service.db import get_engine

        return load_schools(get_engine())
    from basemaps.schools import read_schools

    frame, problems = read_schools(schools)
    if problems:
        raise InputError(problems)
    return frame


def read_origins(path: Path, crs: str | None = None) -> pd.DataFrame:
    """Read ``id,lon,lat`` (or ``id,x,y`` with ``crs``) into ``origin_id, lon, lat``.

    Raises
    ------
    gis_service.errors.InputError
        Naming every row with a missing id or a non-numeric coordinate.
    """
    import numpy as np
    import pandas as pd

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(Problem(str(path), None, None, f"not a readable UTF-8 CSV: {exc}")) from exc
    xy = ("x", "y") if {"x", "y"} <= set(table.columns) and "lon" not in table.columns else (
        "lon", "lat")
    missing = [c for c in ("id", *xy) if c not in table.columns]
    if missing:
        raise InputError(Problem(str(path), None, missing[0],
                                 f"missing column(s) {', '.join(missing)}; expected id,lon,lat"))
    if xy == ("x", "y") and not crs:
        raise InputError(Problem(str(path), None, "x",
                                 "x,y columns need their CRS: pass --crs (e.g. EPSG:9210)"))
    problems: list[Problem] = []
    values = {}
    for column in xy:
        numbers = pd.to_numeric(table[column].str.strip(), errors="coerce")
        for row in np.flatnonzero(numbers.isna() | ~np.isfinite(numbers)):
            problems.append(Problem(str(path), int(row) + 1, column,
                                    f"not a number: {table[column].iloc[row]!r}"))
        values[column] = numbers.to_numpy(np.float64)
    for row in np.flatnonzero(table["id"].str.strip() == ""):
        problems.append(Problem(str(path), int(row) + 1, "id", "empty id"))
    if problems:
        raise InputError(problems)
    lon, lat = values[xy[0]], values[xy[1]]
    if xy == ("x", "y"):
        from gis_service.crs import to_storage

        lon, lat = to_storage(lon, lat, crs)
    return pd.DataFrame({"origin_id": table["id"].str.strip(), "lon": lon, "lat": lat})


def _run(action: Callable[[], None]) -> None:
    try:
        action()
    except InputError as error:
        raise _fail(str(error)) from None


@app.command()
def nearest(
    origins: OriginsOpt,
    out: OutOpt,
    k: Annotated[int, typer.Option("--k", min=1, help="schools per origin")] = 3,
    mode: ModeOpt = "motorbike",
    level: LevelOpt = None,
    roads: RoadsOpt = None,
    schools: SchoolsOpt = None,
    weight: WeightOpt = "time",
    crs: CrsOpt = None,
    max_offroad_m: OffroadOpt = DEFAULT_MAX_OFFROAD_M,
) -> None:
    """K nearest schools of every origin -> origin_id,rank,school_code,distance_m,time_s."""
    _check_choice(weight, ("time", "distance"), "--weight")

    def action() -> None:
        from gis_service.csv_cells import write_frame
        from routing.nearest import nearest_schools

        graph = _load_graph(roads, mode)
        table = _load_schools(schools)
        homes = read_origins(origins, crs)
        result = nearest_schools(
            graph, homes[["lon", "lat"]].to_numpy(), table[["lon", "lat"]].to_numpy(),
            table["code"].tolist(), k=k, weight=weight, origin_ids=homes["origin_id"].tolist(),
            school_levels=table["level"].tolist(), level=level, max_offroad_m=max_offroad_m,
        )
        write_frame(result.round({"distance_m": 2, "time_s": 2}), out)
        typer.echo(f"{len(result)} rows for {len(homes)} origins written to {out}")

    _run(action)


@app.command()
def matrix(
    origins: OriginsOpt,
    out: OutOpt,
    cutoff: Annotated[float, typer.Option(
        "--cutoff", help="largest time (s) or distance (m) kept, per --weight")] = 1800.0,
    mode: ModeOpt = "motorbike",
    level: LevelOpt = None,
    roads: RoadsOpt = None,
    schools: SchoolsOpt = None,
    weight: WeightOpt = "time",
    crs: CrsOpt = None,
    max_offroad_m: OffroadOpt = DEFAULT_MAX_OFFROAD_M,
) -> None:
    """Origin x school pairs within the cut-off -> origin_id,school_code,distance_m,time_s."""
    _check_choice(weight, ("time", "distance"), "--weight")

    def action() -> None:
        import numpy as np
        import pandas as pd

        from gis_service.csv_cells import write_frame
        from routing.matrix import od_matrix

        graph = _load_graph(roads, mode)
        table = _load_schools(schools)
        if level is not None:
            table = table[table["level"] == level]
        homes = read_origins(origins, crs)
        result = od_matrix(graph, homes[["lon", "lat"]].to_numpy(),
                           table[["lon", "lat"]].to_numpy(), cutoff, weight,
                           max_offroad_m=max_offroad_m)
        coo = result.time_s.tocoo()
        distance = np.asarray(result.distance_m[coo.row, coo.col]).ravel()
        frame = pd.DataFrame({
            "origin_id": homes["origin_id"].to_numpy()[coo.row],
            "school_code": table["code"].to_numpy()[coo.col],
            "distance_m": distance, "time_s": coo.data,
        }).sort_values(["origin_id", "time_s" if weight == "time" else "distance_m"])
        write_frame(frame.round({"distance_m": 2, "time_s": 2}), out)
        typer.echo(f"{len(frame)} origin-school pairs within the cut-off written to {out}")

    _run(action)


@app.command()
def isochrone(
    lon: Annotated[float, typer.Option("--lon", help="start longitude (WGS84)")],
    lat: Annotated[float, typer.Option("--lat", help="start latitude (WGS84)")],
    out: OutOpt,
    minutes: Annotated[str, typer.Option("--minutes", help="comma-separated limits")] = "5,10,15,20",
    mode: ModeOpt = "motorbike",
    roads: RoadsOpt = None,
    buffer_m: Annotated[float, typer.Option("--buffer-m", help="width around roads")] = 60.0,
    max_offroad_m: OffroadOpt = DEFAULT_MAX_OFFROAD_M,
) -> None:
    """Isochrone polygons from a point -> GeoJSON FeatureCollection."""
    try:
        limits = [float(m) for m in minutes.split(",") if m.strip()]
    except ValueError:
        raise _fail(f"--minutes must be numbers separated by commas, not {minutes!r}") from None

    def action() -> None:
        from routing.isochrone import isochrones

        graph = _load_graph(roads, mode)
        collection = isochrones(graph, lon, lat, limits, buffer_m=buffer_m,
                                max_offroad_m=max_offroad_m)
        out.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
        typer.echo(f"{len(collection['features'])} isochrones written to {out}")

    _run(action)


@app.command()
def path(
    start: Annotated[str, typer.Option("--from", help="start as lon,lat")],
    end: Annotated[str, typer.Option("--to", help="destination as lon,lat")],
    out: OutOpt,
    mode: ModeOpt = "motorbike",
    roads: RoadsOpt = None,
    weight: WeightOpt = "time",
    max_offroad_m: OffroadOpt = DEFAULT_MAX_OFFROAD_M,
) -> None:
    """One route between two points -> GeoJSON Feature with distance_m and time_s."""
    _check_choice(weight, ("time", "distance"), "--weight")
    points = []
    for name, text in (("--from", start), ("--to", end)):
        try:
            x, y = (float(v) for v in text.split(","))
        except ValueError:
            raise _fail(f"{name} must be lon,lat, not {text!r}") from None
        points.append((x, y))

    def action() -> None:
        from routing.path import route

        graph = _load_graph(roads, mode)
        found = route(graph, points[0], points[1], weight, max_offroad_m=max_offroad_m)
        out.write_text(json.dumps(found.to_geojson(), ensure_ascii=False), encoding="utf-8")
        typer.echo(f"{found.distance_m:.1f} m, {found.time_s:.1f} s, written to {out}")

    _run(action)
