"""What planning reads from PostGIS: its inputs and its stored results.

The inputs are population, births, enrolment, wards, road nodes and the cut-off history; the
results are forecasts, capacity gaps and proposed sites.

Framework-free: an ``Engine`` (or an open ``Connection``) in, data frames, dataclasses or
plain values out. :mod:`forecasting.service` computes and stores around these; the
planners' pages (``web.planner``) only parse the request, call them and render.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from basemaps.admin_mapping import to_new_units
from forecasting.enrolment import EnrolmentData, ward_enrolment
from gis_service.errors import NotFoundError, StateError
from gis_service.levels import capacity_column

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
    """Return which method the backtest chose, per level and measure, and for how many wards.

    Columns ``level, measure, method, wards``.
    """
    return _frame(bind, "SELECT level, measure, method, count(DISTINCT ward_code) AS wards"
                        " FROM enrolment_forecasts GROUP BY level, measure, method"
                        " ORDER BY level, measure, method")


def forecast_table(bind: Bind, level: str, measure: str, year: int) -> pd.DataFrame:
    """Return the stored forecast of one level, measure and year per ward, with its interval.

    Columns ``ward_code, name, horizon, method, predicted, lower, upper``.
    """
    return _frame(bind, "SELECT f.ward_code, w.name, f.horizon, f.method, f.predicted, f.lower,"
                        " f.upper FROM enrolment_forecasts f"
                        " LEFT JOIN admin_units w ON w.code = f.ward_code"
                        " WHERE f.level = :l AND f.measure = :m AND f.year = :y ORDER BY f.ward_code",
                  l=level, m=measure, y=year)


def gap_table(bind: Bind, level: str, year: int, threshold_min: float) -> pd.DataFrame:
    """Return the stored capacity gaps of one level, year and threshold, largest shortfall first.

    Columns ``ward_code, name, demand, seats_within_threshold, seats_per_child,
    accessible_seats, shortfall_seats, nearest_time_s``.
    """
    return _frame(bind, "SELECT g.ward_code, w.name, g.demand, g.seats_within_threshold,"
                        " g.seats_per_child, g.accessible_seats, g.shortfall_seats, g.nearest_time_s"
                        " FROM capacity_gaps g LEFT JOIN admin_units w ON w.code = g.ward_code"
                        " WHERE g.level = :l AND g.year = :y AND g.threshold_min = :t"
                        " ORDER BY g.shortfall_seats DESC, g.ward_code",
                  l=level, y=year, t=threshold_min)


def gap_choices(bind: Bind) -> pd.DataFrame:
    """Return the stored (level, year, threshold) combinations of capacity gaps.

    Columns ``level, year, threshold_min, wards, shortfall``.
    """
    return _frame(bind, "SELECT level, year, threshold_min, count(*) AS wards,"
                        " sum(shortfall_seats) AS shortfall FROM capacity_gaps"
                        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")


def site_runs(bind: Bind) -> pd.DataFrame:
    """Return the stored siting runs: ``run_id, level, model, method, sites``."""
    return _frame(bind, "SELECT run_id, level, model, method, count(*) AS sites FROM proposed_sites"
                        " GROUP BY run_id, level, model, method ORDER BY run_id")


def sites_of(bind: Bind, run_id: str) -> pd.DataFrame:
    """Return the proposed sites of one run, best first (none for an unknown run).

    Columns ``rank, level, ward_code, ward_name, model, method, lon, lat``, then why each
    site was chosen (``None`` for runs stored before it was kept): ``year, threshold_min,
    demand_served, newly_covered, minutes_saved, ward_shortfall`` (the stored seat
    shortfall of the site's ward for that year and threshold), and the run's figures
    ``covered_share_before/after, mean_time_s_before/after, gap_to_bound``.
    """
    return _frame(bind, "SELECT p.rank, p.level, p.ward_code, w.name AS ward_name, p.model, p.method,"
                        " ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat,"
                        " (p.details->>'year')::int AS year,"
                        " (p.details->>'threshold_min')::float AS threshold_min,"
                        " (p.details->>'demand_served')::float AS demand_served,"
                        " (p.details->>'newly_covered')::float AS newly_covered,"
                        " (p.details->>'minutes_saved')::float AS minutes_saved,"
                        " g.shortfall_seats AS ward_shortfall,"
                        " (p.details->>'covered_share_before')::float AS covered_share_before,"
                        " (p.details->>'covered_share_after')::float AS covered_share_after,"
                        " (p.details->>'mean_time_s_before')::float AS mean_time_s_before,"
                        " (p.details->>'mean_time_s_after')::float AS mean_time_s_after,"
                        " (p.details->>'gap_to_bound')::float AS gap_to_bound"
                        " FROM proposed_sites p"
                        " LEFT JOIN admin_units w ON w.code = p.ward_code"
                        " LEFT JOIN capacity_gaps g ON g.ward_code = p.ward_code AND g.level = p.level"
                        " AND g.year = (p.details->>'year')::int"
                        " AND g.threshold_min = (p.details->>'threshold_min')::float"
                        " WHERE p.run_id = :r ORDER BY p.rank", r=run_id)


#: The audit actions of a planner's background siting job: started, stored, refused.
SITES_JOB_ACTIONS = ("planning.sites_started", "planning.sites", "planning.sites_failed")


def last_sites_job(bind: Bind, actor: str) -> dict[str, Any] | None:
    """Return the latest siting job of ``actor`` as recorded in the audit log, or ``None``.

    ``action`` (one of :data:`SITES_JOB_ACTIONS`), ``target`` (the run id once stored),
    ``details``, ``at`` and ``age_s`` (seconds since it was recorded). A job that started
    and has not ended yet has ``planning.sites_started`` as its latest row.
    """
    frame = _frame(bind, "SELECT action, target, details, at,"
                         " extract(epoch FROM now() - at) AS age_s FROM audit_log"
                         " WHERE actor = :a AND action = ANY(:actions) ORDER BY id DESC LIMIT 1",
                   a=actor, actions=list(SITES_JOB_ACTIONS))
    if frame.empty:
        return None
    return {str(k): v for k, v in frame.iloc[0].to_dict().items()}


def typical_sites_seconds(bind: Bind) -> float | None:
    """Return the median duration of the last ten stored siting jobs (anyone's), if any."""
    frame = _frame(bind, "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS s FROM"
                         " (SELECT (details->>'seconds')::float AS s FROM audit_log"
                         "  WHERE action = 'planning.sites' AND details->>'seconds' IS NOT NULL"
                         "  ORDER BY id DESC LIMIT 10) recent")
    value = frame["s"].iloc[0]
    return None if pd.isna(value) else float(value)


def run_level(bind: Bind, run_id: str) -> str:
    """Return the school level of a stored siting run.

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
    """Return the grade-1 and grade-6 admission rounds with applicants, latest first.

    These are the rounds a what-if can rerun; columns ``id, grade, year``.
    """
    return _frame(bind, "SELECT r.id, r.grade, r.year FROM admission_rounds r WHERE r.grade IN (1, 6)"
                        " AND EXISTS (SELECT 1 FROM applicants a WHERE a.round_id = r.id)"
                        " ORDER BY r.year DESC, r.id")


def enrolment_inputs(bind: Bind) -> EnrolmentData:
    """Read population, births and ward-level enrolment (school enrolment summed into wards).

    Population and births keyed by former wards are moved onto the wards of today by the
    stored ``admin_mapping`` (:func:`basemaps.admin_mapping.to_new_units`). A ward and year
    without recorded births takes its population of age 0 that year instead (the births that
    survived the year: there is no births import, and a city's population by single age has
    its age 0).

    Raises
    ------
    StateError
        No population or no enrolment history is stored yet (the message says what to import).
    """
    # rows keyed by former wards are carried over to the wards of today (admin_mapping)
    mapping = _frame(bind, "SELECT old_code, new_code, share FROM admin_mapping")
    population = to_new_units(_frame(bind, "SELECT ward_code, year, age, count FROM population"),
                              mapping)
    births = to_new_units(_frame(bind, "SELECT ward_code, year, births FROM births"), mapping,
                          values=("births",))
    enrolment = _frame(bind, "SELECT e.school_code, e.year, e.grade, e.headcount AS count"
                             " FROM enrolment e")
    school_wards = _frame(bind, "SELECT code AS school_code, ward_code FROM schools"
                                " WHERE ward_code IS NOT NULL")
    areas = _frame(bind, "SELECT code AS ward_code, ST_Area(geom::geography) / 1e6 AS area_km2"
                         " FROM admin_units WHERE level = 'ward' AND valid_to IS NULL")
    missing = [name for name, frame in (("population", population), ("enrolment", enrolment))
               if frame.empty]
    if missing:
        raise StateError(
            f"no {' and no '.join(missing)} history in the database to forecast from: import"
            " them first (edugis import population FILE: ward or district totals, with or"
            " without ages; edugis import enrolment FILE: school_code,year,grade,headcount)",
            f"chưa có dữ liệu {' và '.join(VI_INPUT[m] for m in missing)} trong cơ sở dữ liệu"
            " để dự báo: nhập trước (edugis import population FILE: tổng theo phường hoặc"
            " quận, có hoặc không theo tuổi; edugis import enrolment FILE:"
            " school_code,year,grade,headcount)")
    return EnrolmentData(
        population=population, births=_with_age_zero(births, population),
        enrolment=ward_enrolment(enrolment, school_wards),
        ward_area_km2=areas.set_index("ward_code")["area_km2"],
    )


#: The inputs of a forecast, in Vietnamese.
VI_INPUT = {"population": "dân số", "enrolment": "sĩ số học sinh"}


def _with_age_zero(births: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Return ``births`` plus the age-0 population of each ward and year without births."""
    infants = population[population["age"] == 0].groupby(
        ["ward_code", "year"], as_index=False)["count"].sum().rename(columns={"count": "births"})
    known = pd.MultiIndex.from_frame(births[["ward_code", "year"]])
    added = infants[~pd.MultiIndex.from_frame(infants[["ward_code", "year"]]).isin(known)]
    return pd.concat([births, added], ignore_index=True) if len(added) else births


def ward_points(bind: Bind) -> pd.DataFrame:
    """One representative point per ward of today (inside the polygon): ``ward_code, lon, lat``.

    Former wards (``valid_to`` set) are left out: their data reach the planners through
    ``admin_mapping``.

    Raises
    ------
    StateError
        No wards are stored yet.
    """
    frame = _frame(bind, "SELECT code AS ward_code, ST_X(p) AS lon, ST_Y(p) AS lat FROM admin_units,"
                         " ST_PointOnSurface(geom) AS p WHERE level = 'ward' AND valid_to IS NULL"
                         " ORDER BY code")
    if frame.empty:
        raise StateError("no wards in the database: import ward boundaries first"
                         " (edugis import boundaries FILE)",
                         "chưa có phường nào trong cơ sở dữ liệu: nhập ranh giới phường trước"
                         " (edugis import boundaries FILE)")
    return frame


def entry_demand(bind: Bind, level: str, year: int) -> pd.DataFrame:
    """Return the stored entry-grade forecast of ``level`` in ``year``: ``ward_code, demand``.

    Raises
    ------
    StateError
        No such forecast is stored (forecast enrolment first).
    """
    demand = _frame(bind, "SELECT ward_code, predicted AS demand FROM enrolment_forecasts"
                          " WHERE level = :l AND measure = 'entry' AND year = :y", l=level, y=year)
    if demand.empty:
        raise StateError(f"no stored {level} forecast for {year}: run `edugis forecast "
                         "enrolment` first (years available: the 10 after the last history year)",
                         f"chưa có dự báo {level} cho năm {year}: chạy `edugis forecast "
                         "enrolment` trước (các năm có dự báo: 10 năm sau năm cuối của dữ liệu)")
    return demand


def short_wards(bind: Bind, level: str, year: int, threshold_min: float) -> list[str]:
    """Return the wards with a stored seat shortfall for ``level``, ``year`` and ``threshold_min``."""
    frame = _frame(bind, "SELECT ward_code FROM capacity_gaps WHERE level = :l AND year = :y"
                         " AND threshold_min = :t AND shortfall_seats > 0",
                   l=level, y=year, t=threshold_min)
    return [str(code) for code in frame["ward_code"]]


def road_nodes_in(bind: Bind, wards: list[str], basemap: str | None) -> pd.DataFrame:
    """Return the road nodes of ``basemap`` inside ``wards``: ``node_id, lon, lat, ward_code``.

    There are none when no basemap is imported (``basemap`` ``None``).
    """
    return _frame(bind, "SELECT n.node_id, ST_X(n.geom) AS lon, ST_Y(n.geom) AS lat,"
                        " w.code AS ward_code FROM road_nodes n JOIN admin_units w"
                        " ON w.level = 'ward' AND w.valid_to IS NULL AND ST_Intersects(w.geom, n.geom)"
                        " WHERE w.code = ANY(:wards) AND n.basemap = :b ORDER BY n.node_id",
                  wards=wards, b=basemap)


def median_capacity(bind: Bind, level: str, grade: int) -> int:
    """Return the median entry-grade places of the schools of ``level`` that have any."""
    column = capacity_column(grade)  # checked: no other text reaches the SQL
    frame = _frame(bind, f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}) AS median"
                         f" FROM schools WHERE level = :l AND {column} > 0", l=level)
    return int(frame["median"].iloc[0])


def regular_nv1_cutoffs(bind: Bind) -> pd.DataFrame:
    """Return the stored grade-10 cut-offs of the regular programme in round NV1.

    As the school pages show them: ``school_name, year, cutoff_score`` (the school code as
    ``school_name``, the column of the cut-off file contract), one row per school and year
    whatever other programme labels the table also holds.
    """
    return _frame(bind, "SELECT school_code AS school_name, year, cutoff_score FROM cutoffs"
                        " WHERE admission_round = 'NV1' AND programme = 'regular'")
