"""Reads of the stored planning results: forecasts, capacity gaps, proposed sites, rounds.

Framework-free: an ``Engine`` (or an open ``Connection``) in, data frames or plain values
out. The planners' pages (``web.planner``) only parse the request, call these and render.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gis_service.errors import NotFoundError

Bind = Engine | Connection


def _frame(bind: Bind, sql: str, **params: Any) -> pd.DataFrame:
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return pd.read_sql(sa.text(sql), conn, params=params)
    return pd.read_sql(sa.text(sql), bind, params=params)


def forecast_years(bind: Bind) -> list[int]:
    """Years with a stored enrolment forecast, earliest first."""
    frame = _frame(bind, "SELECT DISTINCT year FROM enrolment_forecasts ORDER BY year")
    return [int(year) for year in frame["year"]]


def forecast_methods(bind: Bind) -> pd.DataFrame:
    """Which method the backtest chose, per level and measure, and for how many wards:
    ``level, measure, method, wards``."""
    return _frame(bind, "SELECT level, measure, method, count(DISTINCT ward_code) AS wards"
                        " FROM enrolment_forecasts GROUP BY level, measure, method"
                        " ORDER BY level, measure, method")


def forecast_table(bind: Bind, level: str, measure: str, year: int) -> pd.DataFrame:
    """Stored forecast of one level, measure and year per ward, with its interval:
    ``ward_code, name, horizon, method, predicted, lower, upper``."""
    return _frame(bind, "SELECT f.ward_code, w.name, f.horizon, f.method, f.predicted, f.lower,"
                        " f.upper FROM enrolment_forecasts f"
                        " LEFT JOIN admin_units w ON w.code = f.ward_code"
                        " WHERE f.level = :l AND f.measure = :m AND f.year = :y ORDER BY f.ward_code",
                  l=level, m=measure, y=year)


def gap_table(bind: Bind, level: str, year: int, threshold_min: float) -> pd.DataFrame:
    """Stored capacity gaps of one level, year and threshold, largest shortfall first:
    ``ward_code, name, demand, seats_within_threshold, seats_per_child, accessible_seats,
    shortfall_seats, nearest_time_s``."""
    return _frame(bind, "SELECT g.ward_code, w.name, g.demand, g.seats_within_threshold,"
                        " g.seats_per_child, g.accessible_seats, g.shortfall_seats, g.nearest_time_s"
                        " FROM capacity_gaps g LEFT JOIN admin_units w ON w.code = g.ward_code"
                        " WHERE g.level = :l AND g.year = :y AND g.threshold_min = :t"
                        " ORDER BY g.shortfall_seats DESC, g.ward_code",
                  l=level, y=year, t=threshold_min)


def gap_choices(bind: Bind) -> pd.DataFrame:
    """The stored (level, year, threshold) combinations:
    ``level, year, threshold_min, wards, shortfall``."""
    return _frame(bind, "SELECT level, year, threshold_min, count(*) AS wards,"
                        " sum(shortfall_seats) AS shortfall FROM capacity_gaps"
                        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")


def site_runs(bind: Bind) -> pd.DataFrame:
    """Stored siting runs: ``run_id, level, model, method, sites``."""
    return _frame(bind, "SELECT run_id, level, model, method, count(*) AS sites FROM proposed_sites"
                        " GROUP BY run_id, level, model, method ORDER BY run_id")


def sites_of(bind: Bind, run_id: str) -> pd.DataFrame:
    """The proposed sites of one run, best first:
    ``rank, ward_code, ward_name, model, method, lon, lat`` (empty for an unknown run)."""
    return _frame(bind, "SELECT p.rank, p.ward_code, w.name AS ward_name, p.model, p.method,"
                        " ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat FROM proposed_sites p"
                        " LEFT JOIN admin_units w ON w.code = p.ward_code"
                        " WHERE p.run_id = :r ORDER BY p.rank", r=run_id)


def run_level(bind: Bind, run_id: str) -> str:
    """The school level of a stored siting run.

    Raises
    ------
    NotFoundError
        No sites are stored for ``run_id``.
    """
    frame = _frame(bind, "SELECT level FROM proposed_sites WHERE run_id = :r LIMIT 1", r=run_id)
    if frame.empty:
        raise NotFoundError(f"no proposed sites for run {run_id!r}")
    return str(frame["level"].iloc[0])


def rounds_with_applicants(bind: Bind) -> pd.DataFrame:
    """Grade-1 and grade-6 admission rounds with applicants, latest first (the rounds a
    what-if can rerun): ``id, grade, year``."""
    return _frame(bind, "SELECT r.id, r.grade, r.year FROM admission_rounds r WHERE r.grade IN (1, 6)"
                        " AND EXISTS (SELECT 1 FROM applicants a WHERE a.round_id = r.id)"
                        " ORDER BY r.year DESC, r.id")
