"""Transport scenarios in PostGIS: create, add edits, list, show, delete, and their graphs.

A scenario belongs to the basemap in use when it is created; it never changes that basemap
or its roads (``road_nodes``/``road_edges``): its edits live in ``transport_scenario_edits``
and are applied to a copy of the compiled graph (:func:`scenario_graph_for`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gis_service.audit import audit
from gis_service.errors import ConflictError, InputError, NotFoundError, Problem, StateError
from routing.scenario_edits import ClosureEdit, Edit, MetroEdit, RoadEdit

if TYPE_CHECKING:
    from basemaps.road_layer import RoadLayer
    from routing.graph import ModeGraph


@dataclass(frozen=True)
class Scenario:
    """A stored scenario and its edits, in order."""

    name: str
    basemap: str
    description: str
    created_by: str
    edits: tuple[Edit, ...]


def _in_use(conn: Connection) -> str:
    from basemaps.in_use import basemap_in_use

    name = basemap_in_use(conn)
    if name is None:
        raise NotFoundError("chưa nhập mạng đường / no road network imported yet: "
                            "`edugis import roads FILE`")
    return name


def create_scenario(engine: Engine, name: str, description: str = "",
                    actor: str = "system") -> Scenario:
    """Create an empty scenario on the basemap in use.

    Raises
    ------
    InputError
        A name that is not plain letters, digits, ``_.-``.
    ConflictError
        A scenario of that name exists.
    """
    if not name or len(name) > 64 or not all(c.isalnum() or c in "_.-" for c in name) or (
            not name[0].isalnum()) or not name.isascii():
        raise InputError([Problem("scenario", None, "name",
                                  f"scenario name {name!r}: use letters, digits, '_', '.', '-'",
                                  f"tên kịch bản {name!r}: chỉ dùng chữ, số, '_', '.', '-'")])
    with engine.begin() as conn:
        basemap = _in_use(conn)
        done = conn.execute(sa.text(
            "INSERT INTO transport_scenarios (name, basemap, description, created_by)"
            " VALUES (:n, :b, :d, :a) ON CONFLICT (name) DO NOTHING RETURNING name"),
            {"n": name, "b": basemap, "d": description, "a": actor}).scalar()
        if done is None:
            raise ConflictError(f"scenario {name!r} exists / kịch bản {name!r} đã có")
        audit(conn, actor, "scenario.create", name, {"basemap": basemap})
    return Scenario(name, basemap, description, actor, ())


def _row(edit: Edit) -> dict[str, Any]:
    stations = None
    if isinstance(edit, RoadEdit):
        geom = shapely.LineString(edit.coords)
        props: dict[str, Any] = {"highway": edit.highway, "speed_kmh": edit.speed_kmh,
                                 "oneway": edit.oneway, "snap_m": edit.snap_m}
    elif isinstance(edit, MetroEdit):
        geom = shapely.LineString(edit.coords)
        stations = shapely.MultiPoint(edit.stations).wkt
        props = {"speed_kmh": edit.speed_kmh, "headway_s": edit.headway_s,
                 "access_m": edit.access_m, "station_names": list(edit.station_names)}
    else:
        if edit.geometry is None:
            raise ValueError("a closure by edge ids must be resolved before it is stored")
        geom, props = edit.geometry, {"along": edit.along, "edge_ids": list(edit.edge_ids)}
    return {"kind": edit.kind, "label": edit.label, "props": json.dumps(props, ensure_ascii=False),
            "geom": geom.wkt, "stations": stations}


def _edit(kind: str, label: str, props: dict[str, Any], wkb: bytes,
          stations_wkb: bytes | None) -> Edit:
    geom = shapely.from_wkb(wkb)
    if kind == "road":
        return RoadEdit(coords=np.asarray(shapely.get_coordinates(geom), np.float64),
                        highway=str(props["highway"]), speed_kmh=float(props["speed_kmh"]),
                        oneway=bool(props.get("oneway", False)), label=label,
                        snap_m=float(props.get("snap_m", 60.0)))
    if kind == "metro":
        points = np.asarray(shapely.get_coordinates(shapely.from_wkb(stations_wkb)), np.float64)
        return MetroEdit(coords=np.asarray(shapely.get_coordinates(geom), np.float64),
                         stations=points, station_names=tuple(props["station_names"]),
                         speed_kmh=float(props["speed_kmh"]), headway_s=float(props["headway_s"]),
                         label=label, access_m=float(props.get("access_m", 400.0)))
    return ClosureEdit(geometry=geom, label=label, along=bool(props.get("along", False)),
                       edge_ids=tuple(int(v) for v in props.get("edge_ids", [])))


def _resolve_edge_ids(engine: Engine, basemap: str, edits: list[Edit],
                      source: str) -> list[Edit]:
    """Give each closure by edge ids the lines of those edges of ``basemap``.

    Raises
    ------
    InputError
        Naming the edits with ids that are not edges of the basemap.
    """
    out: list[Edit] = []
    problems: list[Problem] = []
    for n, edit in enumerate(edits, start=1):
        if not (isinstance(edit, ClosureEdit) and edit.geometry is None):
            out.append(edit)
            continue
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT edge_id, ST_AsBinary(geom) FROM road_edges WHERE basemap = :b"
                " AND edge_id = ANY(:ids) ORDER BY edge_id"),
                {"b": basemap, "ids": list(edit.edge_ids)}).all()
        missing = sorted(set(edit.edge_ids) - {int(r[0]) for r in rows})
        if missing:
            shown = ", ".join(map(str, missing[:10]))
            problems.append(Problem(source, n, "edge_ids",
                                    f"feature {n}: no road edge {shown} in basemap {basemap}",
                                    f"đối tượng {n}: bản đồ nền {basemap} không có đoạn đường {shown}"))
            continue
        lines = shapely.multilinestrings([shapely.from_wkb(bytes(r[1])) for r in rows])
        out.append(ClosureEdit(geometry=lines, label=edit.label, along=True,
                               edge_ids=edit.edge_ids))
    if problems:
        raise InputError(problems)
    return out


def load_scenario(engine: Engine | Connection, name: str) -> Scenario:
    """Return the scenario ``name`` with its edits.

    Raises
    ------
    NotFoundError
        No scenario of that name.
    """
    def read(conn: Connection) -> Scenario:
        head = conn.execute(sa.text(
            "SELECT basemap, description, created_by FROM transport_scenarios WHERE name = :n"),
            {"n": name}).first()
        if head is None:
            names = conn.execute(sa.text(
                "SELECT name FROM transport_scenarios ORDER BY name")).scalars().all()
            raise NotFoundError(f"no scenario {name!r} / không có kịch bản {name!r}; stored: "
                                f"{', '.join(names) or 'none'}")
        rows = conn.execute(sa.text(
            "SELECT kind, label, properties, ST_AsBinary(geom), ST_AsBinary(stations)"
            " FROM transport_scenario_edits WHERE scenario = :n ORDER BY seq"), {"n": name}).all()
        edits = tuple(_edit(k, lab, p, bytes(g), bytes(s) if s is not None else None)
                      for k, lab, p, g, s in rows)
        return Scenario(name, head[0], head[1], head[2], edits)

    if isinstance(engine, Connection):
        return read(engine)
    with engine.connect() as conn:
        return read(conn)


def add_edits(engine: Engine, name: str, edits: list[Edit], actor: str = "system",
              source: str = "geojson") -> Scenario:
    """Check ``edits`` against the scenario's roads (with its earlier edits) and store them.

    Every edit must apply to the motorbike graph of the scenario's basemap: a closure must
    touch a road, a road's ends and each station must be near an open road.

    Raises
    ------
    InputError
        Naming each edit that cannot apply.
    """
    scenario = load_scenario(engine, name)
    from routing.scenario_graph import resolve_edits

    edits = _resolve_edge_ids(engine, scenario.basemap, edits, source)
    layer, base = _base(engine, scenario, "motorbike")
    earlier = len(scenario.edits)
    try:
        resolve_edits(base, layer.edges, [*scenario.edits, *edits], source=source)
    except InputError as error:
        # number the problems by the feature of the new file where they come from it
        raise InputError([Problem(p.file, p.row - earlier if p.row and p.row > earlier else p.row,
                                  p.field, p.reason.replace(f"edit {p.row}:",
                                                            f"feature {(p.row or 0) - earlier}:"),
                                  (p.reason_vi or "").replace(
                                      f"thay đổi {p.row}:", f"đối tượng {(p.row or 0) - earlier}:"))
                          for p in error.problems]) from None
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT 1 FROM transport_scenarios WHERE name = :n FOR UPDATE"),
                     {"n": name})
        seq = conn.execute(sa.text(
            "SELECT coalesce(max(seq), 0) FROM transport_scenario_edits WHERE scenario = :n"),
            {"n": name}).scalar_one()
        if seq != earlier:
            raise ConflictError(f"scenario {name!r} changed meanwhile: add the edits again")
        for k, edit in enumerate(edits, start=seq + 1):
            conn.execute(sa.text(
                "INSERT INTO transport_scenario_edits (scenario, seq, kind, label, properties,"
                " geom, stations) VALUES (:s, :q, :kind, :label, CAST(:props AS jsonb),"
                " ST_GeomFromText(:geom, 4326), ST_GeomFromText(:stations, 4326))"),
                {"s": name, "q": k, **_row(edit)})
        audit(conn, actor, "scenario.add", name,
              {"kinds": [e.kind for e in edits], "source": source})
    return load_scenario(engine, name)


def list_scenarios(engine: Engine) -> pd.DataFrame:
    """Return ``name, basemap, description, edits, kinds, created_by, created_at``."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT s.name, s.basemap, s.description, count(e.seq) AS edits,"
            " coalesce(string_agg(DISTINCT e.kind, ','), '') AS kinds, s.created_by, s.created_at"
            " FROM transport_scenarios s LEFT JOIN transport_scenario_edits e"
            " ON e.scenario = s.name GROUP BY s.name ORDER BY s.name")).all()
    return pd.DataFrame(rows, columns=["name", "basemap", "description", "edits", "kinds",
                                       "created_by", "created_at"])


def delete_scenario(engine: Engine, name: str, actor: str = "system") -> None:
    """Delete a scenario and its edits (the basemap is untouched)."""
    with engine.begin() as conn:
        gone = conn.execute(sa.text(
            "DELETE FROM transport_scenarios WHERE name = :n RETURNING name"), {"n": name}).scalar()
        if gone is None:
            raise NotFoundError(f"no scenario {name!r} / không có kịch bản {name!r}")
        audit(conn, actor, "scenario.delete", name)


def edits_geojson(scenario: Scenario) -> dict[str, Any]:
    """Return the scenario's edits as a GeoJSON FeatureCollection (lines, closures and stations)."""
    features: list[dict[str, Any]] = []
    for n, edit in enumerate(scenario.edits, start=1):
        props: dict[str, Any] = {"edit": n, "kind": edit.kind, "label": edit.label}
        if isinstance(edit, ClosureEdit):
            geometry = edit.geometry if edit.geometry is not None else shapely.Point()
        else:
            geometry = shapely.LineString(edit.coords)
            props["speed_kmh"] = edit.speed_kmh
        features.append({"type": "Feature", "properties": props,
                         "geometry": json.loads(shapely.to_geojson(geometry))})
        if isinstance(edit, MetroEdit):
            for (lon, lat), station in zip(edit.stations, edit.station_names, strict=True):
                features.append({"type": "Feature",
                                 "properties": {"edit": n, "kind": "station", "label": station},
                                 "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    return {"type": "FeatureCollection", "features": features}


def _base(engine: Engine, scenario: Scenario, mode: str) -> tuple[RoadLayer, ModeGraph]:
    from basemaps.fetch import load_road_layer
    from routing.cache import build_graph

    layer = load_road_layer(engine, scenario.basemap)
    return layer, build_graph(layer, mode)


def scenario_graph_for(engine: Engine, name: str, mode: str = "motorbike",
                       ) -> tuple[ModeGraph, ModeGraph]:
    """Return ``(base graph, scenario graph)`` for ``mode``; the base is the basemap in use.

    Raises
    ------
    StateError
        The scenario was drawn on a basemap that is no longer in use.
    """
    from routing.scenario_graph import scenario_graph

    scenario = load_scenario(engine, name)
    with engine.connect() as conn:
        in_use = _in_use(conn)
    if in_use != scenario.basemap:
        raise StateError(f"scenario {name!r} was drawn on basemap {scenario.basemap!r}, the"
                         f" basemap in use is {in_use!r} / kịch bản vẽ trên bản đồ nền khác")
    layer, base = _base(engine, scenario, mode)
    return base, scenario_graph(base, layer.edges, scenario.edits, source=f"scenario {name}")
