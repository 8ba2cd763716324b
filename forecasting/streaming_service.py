"""Streaming after grade 9 in PostGIS: the kernel of :mod:`forecasting.streaming` on stored data.

Leavers, grade-10 places and road times are read around the kernel.

Travel times come from a :data:`~forecasting.streaming.TravelTimeSource`: by default the road
graph of the basemap in use (:func:`road_times`); a transport scenario passes its own graph
through :func:`graph_times` (or any source) and nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting import queries
from forecasting.streaming import STREAMING_COLUMNS, TravelTimeSource, grade9_leavers, streaming
from gis_service.errors import InvalidValueError, StateError

#: Travel-time thresholds a planner may ask for, in minutes.
THRESHOLD_RANGE_MIN = (1.0, 120.0)


def grade10_places(engine: Engine) -> pd.DataFrame:
    """Every school with grade-10 places: ``school_code, lon, lat, seats, public``.

    ``public`` is a public upper-secondary school (THPT công lập, a multi-level school that
    teaches upper secondary included); the others are private upper-secondary schools and
    vocational or continuing-education centres (level ``vocational``, whatever their
    ownership), the places of the leavers a public school does not take.
    """
    with engine.connect() as conn:
        result = conn.execute(sa.text(
            "SELECT code AS school_code, ST_X(geom) AS lon, ST_Y(geom) AS lat,"
            " capacity_grade10::float AS seats,"
            " (ownership = 'public' AND level <> 'vocational'"
            "  AND 'vocational' <> ALL(levels)) AS public"
            " FROM schools WHERE capacity_grade10 > 0 AND (level IN ('upper_secondary', 'vocational')"
            " OR 'upper_secondary' = ANY(levels) OR 'vocational' = ANY(levels)) ORDER BY code"))
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def graph_times(graph: Any) -> TravelTimeSource:
    """Return a travel-time source on a road graph (a ``routing`` mode graph).

    A transport scenario's graph (a copy of the base graph with its edits) goes here as well
    as the basemap's own.
    """
    import routing

    def times(origins: pd.DataFrame, schools: pd.DataFrame, threshold_s: float) -> pd.DataFrame:
        if origins.empty or schools.empty:
            return pd.DataFrame({"origin_id": [], "school_code": [], "time_s": []})
        matrix = routing.od_matrix(graph, origins[["lon", "lat"]].to_numpy(dtype=float),
                                   schools[["lon", "lat"]].to_numpy(dtype=float), threshold_s,
                                   "time")
        coo = matrix.time_s.tocoo()
        return pd.DataFrame({"origin_id": origins["ward_code"].astype(str).to_numpy()[coo.row],
                             "school_code": schools["school_code"].astype(str).to_numpy()[coo.col],
                             "time_s": coo.data.astype(float)})

    return times


def road_times(engine: Engine, mode: str = "motorbike") -> TravelTimeSource:
    """Return the travel-time source of the basemap in use for ``mode`` (compiled graph cached)."""
    import routing
    from basemaps.fetch import load_road_layer

    return graph_times(routing.build_graph(load_road_layer(engine), mode))


@dataclass(frozen=True)
class StreamingForecast:
    """Streaming per ward for one admission year and threshold, with the city's totals."""

    year: int
    threshold_min: float
    projected: bool
    wards: pd.DataFrame
    public_seats_total: float
    other_places_total: float

    def totals(self) -> dict[str, float]:
        """Return the city's sums of :data:`~forecasting.streaming.STREAMING_COLUMNS`' counts."""
        counts = [c for c in STREAMING_COLUMNS if c not in ("ward_code", "nearest_public_time_s")]
        return {c: float(self.wards[c].sum()) for c in counts}


def streaming_forecast(engine: Engine, year: int, threshold_min: float,
                       travel_times: TravelTimeSource | None = None,
                       mode: str = "motorbike") -> StreamingForecast:
    """Forecast streaming after grade 9 for the admission ``year`` within ``threshold_min``.

    Parameters
    ----------
    engine
        Database with wards, schools, population and enrolment.
    year
        Admission year (grade 10 in the school year starting then).
    threshold_min
        Largest travel time from a ward's representative point to a school, in minutes.
    travel_times
        Source of road times; the basemap in use for ``mode`` when not given.
    mode
        Travel mode of the default source.

    Raises
    ------
    InvalidValueError
        ``threshold_min`` outside :data:`THRESHOLD_RANGE_MIN`.
    StateError
        No wards, population or enrolment, or no school with grade-10 places.
    """
    low, high = THRESHOLD_RANGE_MIN
    if not low <= threshold_min <= high:
        raise InvalidValueError(f"threshold_min must be between {low:g} and {high:g} minutes,"
                                f" not {threshold_min:g}")
    data = queries.enrolment_inputs(engine)
    leavers = grade9_leavers(data, year)
    points = queries.ward_points(engine)
    places = grade10_places(engine)
    if places.empty:
        raise StateError("no school has grade-10 places (capacity_grade10): import schools with"
                         " their places first",
                         "chưa trường nào có chỉ tiêu lớp 10 (capacity_grade10): nhập trường cùng"
                         " chỉ tiêu trước")
    # every ward of today, those without grade-9 pupils with none
    demand = points[["ward_code"]].merge(leavers[["ward_code", "leavers"]], on="ward_code",
                                         how="left").fillna({"leavers": 0.0})
    source = travel_times if travel_times is not None else road_times(engine, mode)
    times = source(points, places, threshold_min * 60.0)
    public = places[places["public"].astype(bool)]
    other = places[~places["public"].astype(bool)]
    table = streaming(demand, public[["school_code", "seats"]], other[["school_code", "seats"]],
                      times, threshold_min)
    return StreamingForecast(year=year, threshold_min=threshold_min,
                             projected=bool(leavers["projected"].any()), wards=table,
                             public_seats_total=float(public["seats"].sum()),
                             other_places_total=float(other["seats"].sum()))


def ward_shapes(engine: Engine) -> pd.DataFrame:
    """Return the wards of today: ``ward_code, name, geometry`` (GeoJSON text, 6 decimals)."""
    with engine.connect() as conn:
        result = conn.execute(sa.text(
            "SELECT code AS ward_code, name, ST_AsGeoJSON(geom, 6) AS geometry FROM admin_units"
            " WHERE level = 'ward' AND valid_to IS NULL ORDER BY code"))
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def finite(value: Any) -> float | None:
    """``value`` as a float, ``None`` for NaN or infinity (JSON and templates print nothing)."""
    number = float(value)
    return number if np.isfinite(number) else None


def admission_years(engine: Engine, horizon_years: int = 10) -> list[int]:
    """Return the admission years a streaming forecast can be made for (none without enrolment).

    The first is the year after the first enrolment year (its grade 9 is counted), the last
    ``horizon_years`` after the last enrolment year (projected).
    """
    with engine.connect() as conn:
        first, last = conn.execute(sa.text("SELECT min(year), max(year) FROM enrolment")).one()
    if first is None:
        return []
    return list(range(int(first) + 1, int(last) + horizon_years + 1))


def scenario_times(engine: Engine, name: str, mode: str = "motorbike") -> TravelTimeSource:
    """Return the travel-time source of the stored transport scenario ``name`` for ``mode``.

    Its graph is the basemap in use with the scenario's edits (``routing.scenario_store``).

    Raises
    ------
    NotFoundError
        No scenario of that name.
    StateError
        The scenario was drawn on another basemap.
    """
    from routing.scenario_store import scenario_graph_for

    _base, graph = scenario_graph_for(engine, name, mode)
    return graph_times(graph)


def scenario_names(engine: Engine) -> list[str]:
    """Return the names of the stored transport scenarios."""
    from routing.scenario_store import list_scenarios

    return [str(name) for name in list_scenarios(engine)["name"]]
