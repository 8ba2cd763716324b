"""Transport what-if: what a scenario's roads, bridges, metro lines or closures change.

For one school level, on the base graph (the basemap in use) and on a scenario graph
(:func:`routing.scenario_store.scenario_graph_for`), side by side:

- **wards**: road time from each ward's point (inside the ward, as the capacity gaps use)
  to its nearest school of the level, before and after, with the ward's population;
- **gaps**: 2SFCA seats per child and shortfall (:func:`forecasting.accessibility.capacity_gaps`)
  before and after, on the stored entry-grade forecast of a year, or on the children of
  entry age when no forecast is stored;
- **catchments**: the ward's nearest public school by road (the catchment a ward would
  join) and the derived catchment rule (:func:`admissions.catchments.assign_wards`: a ward
  with no public school of the level goes to the nearest one by road), before and after;
- **admissions**: a round rerun on each network (nothing stored): placed, mean distance
  and time, justified envy; optionally with a siting run's proposed sites added
  (:func:`forecasting.service.what_if_sites`), on the base network and on the scenario.

Nothing here writes to the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.errors import StateError
from gis_service.levels import LEVEL_BY_NAME, capacity_column

if TYPE_CHECKING:
    from routing.graph import ModeGraph

@dataclass(frozen=True)
class TransportWhatIf:
    """The tables of one scenario against the base network (see the module docstring)."""

    level: str
    wards: pd.DataFrame
    gaps: pd.DataFrame
    catchments: pd.DataFrame
    admissions: pd.DataFrame | None

    def summary(self) -> dict[str, Any]:
        """Headline figures: wards faster/slower, population-weighted mean change, catchments."""
        change = self.wards["change_s"]
        weight = self.wards["population"].clip(lower=0)
        finite = np.isfinite(change)
        mean = (float(np.average(change[finite], weights=weight[finite]))
                if weight[finite].sum() > 0 else float(change[finite].mean()))
        return {
            "level": self.level,
            "wards": len(self.wards),
            "wards_faster": int((change < -1.0).sum()),
            "wards_slower": int((change > 1.0).sum()),
            "mean_change_s": round(mean, 1),
            "wards_catchment_changed": int((self.catchments["catchment_changed"] > 0).sum()),
            "origins_catchment_changed": int(self.catchments["catchment_changed"].sum()),
            "shortfall_before": round(float(self.gaps["shortfall_before"].sum()), 1),
            "shortfall_after": round(float(self.gaps["shortfall_after"].sum()), 1),
        }


def _ward_table(engine: Engine, year: int | None) -> pd.DataFrame:
    from forecasting import queries

    points = queries.ward_points(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT u.code, u.name, coalesce(p.people, 0) FROM admin_units u LEFT JOIN ("
            " SELECT ward_code, sum(count) AS people FROM population WHERE year = (SELECT"
            " max(year) FROM population WHERE CAST(:y AS int) IS NULL OR year <= :y)"
            " GROUP BY 1) p ON p.ward_code = u.code WHERE u.level = 'ward' AND u.valid_to IS NULL"),
            {"y": year}).all()
    people = pd.DataFrame(rows, columns=["ward_code", "ward_name", "population"])
    people["population"] = people["population"].astype(float)
    return points.merge(people, on="ward_code", how="left")


def _demand(engine: Engine, level: str, year: int) -> pd.DataFrame:
    """Entry demand per ward: the stored forecast, else the children of entry age."""
    from forecasting import queries

    try:
        return queries.entry_demand(engine, level, year)
    except StateError:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT ward_code, sum(count) FROM population WHERE age = :age AND year = ("
                " SELECT max(year) FROM population WHERE year <= :y) GROUP BY 1"),
                {"age": LEVEL_BY_NAME[level].entry_age, "y": year}).all()
        return pd.DataFrame([(w, float(c)) for w, c in rows], columns=["ward_code", "demand"])


def _schools(engine: Engine, level: str) -> pd.DataFrame:
    """Schools of ``level`` with entry places: code, lon, lat, seats, ownership, own ward."""
    column = LEVEL_BY_NAME[level].capacity_column  # a known column name, not user text
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            f"SELECT s.code, ST_X(s.geom), ST_Y(s.geom), s.{column}, s.ownership, w.code"
            " FROM schools s LEFT JOIN LATERAL (SELECT code FROM admin_units WHERE level = 'ward'"
            " AND valid_to IS NULL AND ST_Intersects(geom, s.geom) ORDER BY code LIMIT 1) w"
            f" ON true WHERE s.level = :level AND s.{column} > 0 ORDER BY s.code"),
            {"level": level}).all()
    return pd.DataFrame(rows, columns=["school_code", "lon", "lat", "seats", "ownership",
                                       "ward"]).astype({"lon": float, "lat": float,
                                                        "seats": float})


def _times(graph: ModeGraph, points: pd.DataFrame, schools: pd.DataFrame,
           cutoff_s: float) -> pd.DataFrame:
    """Ward point x school road times within ``cutoff_s`` (what 2SFCA reads), long form."""
    import routing

    matrix = routing.od_matrix(graph, points[["lon", "lat"]].to_numpy(),
                               schools[["lon", "lat"]].to_numpy(), cutoff_s, "time")
    coo = matrix.time_s.tocoo()
    return pd.DataFrame({"origin_id": points["ward_code"].to_numpy()[coo.row],
                         "school_code": schools["school_code"].to_numpy()[coo.col],
                         "time_s": coo.data})


def _origins(engine: Engine, metric_epsg: int, spacing_m: float) -> pd.DataFrame:
    """Origins spread over the wards: a ``spacing_m`` lattice inside each, plus its point."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "WITH w AS (SELECT code, ST_Transform(geom, :srid) AS g FROM admin_units"
            " WHERE level = 'ward' AND valid_to IS NULL)"
            " SELECT w.code, ST_X(ST_Transform(c, 4326)), ST_Y(ST_Transform(c, 4326)), false"
            " FROM w,"
            " LATERAL (SELECT ST_Centroid(s.geom) AS c FROM ST_SquareGrid(:step, w.g) s) cells"
            " WHERE ST_Intersects(w.g, c)"
            " UNION ALL SELECT code, ST_X(p), ST_Y(p), true FROM admin_units,"
            " ST_PointOnSurface(geom) p"
            " WHERE level = 'ward' AND valid_to IS NULL ORDER BY 1, 2, 3"),
            {"srid": metric_epsg, "step": spacing_m}).all()
    return pd.DataFrame(rows, columns=["ward_code", "lon", "lat", "ward_point"]).astype(
        {"lon": float, "lat": float})


def _nearest_school(graph: ModeGraph, origins: pd.DataFrame, schools: pd.DataFrame
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Nearest school (code, ``""`` if none) and its road time per origin."""
    import routing

    table = routing.nearest_schools(graph, origins[["lon", "lat"]].to_numpy(),
                                    schools[["lon", "lat"]].to_numpy(),
                                    schools["school_code"].tolist(), k=1,
                                    origin_ids=list(range(len(origins))))
    table = table[table["rank"] == 1]
    code = np.full(len(origins), "", dtype=object)
    time_s = np.full(len(origins), np.inf)
    at = table["origin_id"].to_numpy(np.int64)
    code[at] = table["school_code"].astype(str).to_numpy()
    time_s[at] = table["time_s"].to_numpy(np.float64)
    return code, np.where(np.isfinite(time_s), time_s, np.inf)


def _schools_by_ward(wards: pd.Series, schools: np.ndarray) -> pd.Series:
    """Per ward, the nearest public schools of its origins, most origins first (``A:12 B:3``)."""
    frame = pd.DataFrame({"ward_code": wards.to_numpy(), "school": schools})
    counts = frame[frame["school"] != ""].value_counts().reset_index(name="n")
    counts = counts.sort_values(["ward_code", "n", "school"], ascending=[True, False, True])
    return counts.groupby("ward_code").apply(
        lambda g: " ".join(f"{s}:{n}" for s, n in zip(g["school"], g["n"], strict=True)),
        include_groups=False)


def compare_networks(engine: Engine, level: str, base: ModeGraph, scenario: ModeGraph, *,
                     year: int | None = None, threshold_min: float = 15.0,
                     round_id: str | None = None, sites_run: str | None = None,
                     spacing_m: float = 300.0) -> TransportWhatIf:
    """Compare ``scenario`` with ``base`` for the schools of ``level`` (nothing stored).

    Parameters
    ----------
    engine
        The database (wards, population, schools, forecasts, the round).
    level
        A level of general education (``primary``, ``lower_secondary``, ``upper_secondary``).
    base, scenario
        The basemap's graph and the scenario's graph, of the same mode.
    year
        The forecast year of the 2SFCA demand (default: the round's year, else the last
        population year).
    threshold_min
        2SFCA catchment size.
    round_id
        Rerun this admission round on both networks.
    sites_run
        Add this siting run's proposed sites to the rerun (needs ``round_id``).
    spacing_m
        Origins are a lattice of this step inside each ward (plus the ward's point); a
        ward's time is the mean over its origins of the time to the nearest school.
    """
    from admissions.catchments import assign_wards
    from forecasting.accessibility import capacity_gaps

    if level not in LEVEL_BY_NAME or not LEVEL_BY_NAME[level].grades:
        raise StateError(f"transport what-if needs a level with grades, not {level!r}",
                         f"cần cấp học có lớp, không phải {level!r}")
    wards = _ward_table(engine, year)
    schools = _schools(engine, level)
    if schools.empty:
        raise StateError(f"no {level} school with entry places is stored",
                         f"chưa có trường {level} nào có chỉ tiêu đầu cấp")
    if year is None:
        with engine.connect() as conn:
            year = int(conn.execute(sa.text("SELECT coalesce(max(year), 2025) FROM population"))
                       .scalar_one())
    from routing.snap import snap_within

    cutoff_s = threshold_min * 60.0
    before, after = _times(base, wards, schools, cutoff_s), _times(scenario, wards, schools, cutoff_s)
    origins = _origins(engine, base.metric_epsg, spacing_m)
    lon, lat = origins["lon"].to_numpy(), origins["lat"].to_numpy()
    near = snap_within(base, lon, lat)[1] & snap_within(scenario, lon, lat)[1]
    origins = origins[near].reset_index(drop=True)
    public = schools[schools["ownership"] == "public"]
    school_b, time_b = _nearest_school(base, origins, schools)
    school_a, time_a = _nearest_school(scenario, origins, schools)
    public_b, _ = _nearest_school(base, origins, public)
    public_a, _ = _nearest_school(scenario, origins, public)
    both = np.isfinite(time_b) & np.isfinite(time_a)
    per_origin = pd.DataFrame({
        "ward_code": origins["ward_code"], "time_before_s": np.where(both, time_b, np.nan),
        "time_after_s": np.where(both, time_a, np.nan),
        "school_changed": school_b != school_a, "catchment_changed": public_b != public_a})
    by_ward = per_origin.groupby("ward_code").agg(
        origins=("time_before_s", "size"), time_before_s=("time_before_s", "mean"),
        time_after_s=("time_after_s", "mean"), nearest_changed=("school_changed", "sum"),
        catchment_changed=("catchment_changed", "sum")).reset_index()
    table = wards[["ward_code", "ward_name", "lon", "lat", "population"]].merge(
        by_ward, on="ward_code", how="left").fillna({"origins": 0, "nearest_changed": 0,
                                                     "catchment_changed": 0})
    table["change_s"] = table["time_after_s"] - table["time_before_s"]
    table["change_pct"] = 100.0 * table["change_s"] / table["time_before_s"]

    demand = _demand(engine, level, year)
    seats = schools[["school_code", "seats"]]
    gap_b = capacity_gaps(demand, seats, before, threshold_min)
    gap_a = capacity_gaps(demand, seats, after, threshold_min)
    gaps = gap_b[["ward_code", "demand", "seats_per_child", "shortfall_seats"]].merge(
        gap_a[["ward_code", "seats_per_child", "shortfall_seats"]], on="ward_code",
        suffixes=("_before", "_after"))
    gaps = gaps.rename(columns={"shortfall_seats_before": "shortfall_before",
                                "shortfall_seats_after": "shortfall_after"})
    gaps["year"] = year

    own = dict(zip(public["school_code"], public["ward"], strict=True))
    derived = []
    for nearest in (public_b, public_a):
        at_point = origins["ward_point"].to_numpy(bool)
        chosen = {w: s for w, s in zip(origins["ward_code"][at_point], nearest[at_point],
                                        strict=True) if s}
        rows = assign_wards(wards["ward_code"].tolist(), own, chosen)
        derived.append(rows.groupby("ward_code")["school_code"].agg(lambda s: ",".join(sorted(s))))
    catchments = table[["ward_code", "origins", "catchment_changed"]].copy()
    catchments["derived_before"] = catchments["ward_code"].map(derived[0]).fillna("")
    catchments["derived_after"] = catchments["ward_code"].map(derived[1]).fillna("")
    catchments["derived_changed"] = catchments["derived_before"] != catchments["derived_after"]
    for column, nearest in (("schools_before", public_b), ("schools_after", public_a)):
        catchments[column] = catchments["ward_code"].map(
            _schools_by_ward(origins["ward_code"], nearest)).fillna("")

    admissions = (rerun_round(engine, round_id, base, scenario, sites_run)
                  if round_id is not None else None)
    return TransportWhatIf(level, table, gaps, catchments, admissions)


def rerun_round(engine: Engine, round_id: str, base: ModeGraph, scenario: ModeGraph,
                sites_run: str | None = None) -> pd.DataFrame:
    """Rerun a round on both networks (and with a siting run's sites); nothing is stored.

    One row per network: ``network, schools, placed, unplaced, distance_mean_m,
    time_mean_s, justified_envy, moved`` (applicants whose school differs from the base run).
    """
    from admissions.allocation import allocate
    from admissions.metrics import summary
    from admissions.service import get_round, load_problem

    info = get_round(engine, round_id)
    runs: list[tuple[str, ModeGraph, pd.DataFrame | None]] = [("base", base, None),
                                                              ("scenario", scenario, None)]
    if sites_run is not None:
        extra = _site_schools(engine, sites_run, info.grade)
        runs += [("base+sites", base, extra), ("scenario+sites", scenario, extra)]
    rows = []
    first: np.ndarray | None = None
    for name, graph, extra_schools in runs:
        problem = load_problem(engine, round_id, graph.mode, extra_schools, graph=graph)
        allocation = allocate(problem, info.mechanism, info.seed)  # type: ignore[arg-type]
        figures = summary(problem, allocation)
        placed = allocation.assigned >= 0
        rows_idx = np.flatnonzero(placed & (allocation.choice_index >= 0))
        time_s = problem.time_s[rows_idx, allocation.choice_index[rows_idx]]
        codes = np.where(placed, np.asarray(problem.school_codes, dtype=object)[
            np.maximum(allocation.assigned, 0)], "")
        if first is None:
            first = codes
        rows.append({
            "network": name, "schools": problem.n_schools, "placed": figures["placed"],
            "unplaced": figures["unplaced"],
            "distance_mean_m": figures.get("distance_mean_m", float("nan")),
            "time_mean_s": round(float(np.nanmean(time_s)), 1) if len(time_s) else float("nan"),
            "justified_envy": figures["justified_envy"],
            "moved": int((codes != first).sum()) if len(codes) == len(first) else 0,
        })
    return pd.DataFrame(rows)


def _site_schools(engine: Engine, run_id: str, grade: int) -> pd.DataFrame:
    """Return the proposed sites of a siting run as schools (median places), as ``what_if_sites``."""
    from forecasting import queries
    from gis_service.errors import NotFoundError

    sites = queries.sites_of(engine, run_id)
    if sites.empty:
        raise NotFoundError(f"no proposed sites for run {run_id!r}")
    level = str(sites["level"].iloc[0])
    extra = pd.DataFrame({
        "code": [f"NEW-{run_id}-{r}" for r in sites["rank"]],
        "name": [f"Trường mới đề xuất {r} (proposed)" for r in sites["rank"]],
        "level": level, "ownership": "public", "lon": sites["lon"], "lat": sites["lat"],
        "district_code": None, "ward_code": sites["ward_code"], "address": "",
        "capacity_grade1": pd.NA, "capacity_grade6": pd.NA, "capacity_grade10": pd.NA,
    })
    extra[capacity_column(grade)] = queries.median_capacity(engine, level, grade)
    return extra


def scenario_what_if(engine: Engine, name: str, level: str, *, mode: str = "motorbike",
                     year: int | None = None, threshold_min: float = 15.0,
                     round_id: str | None = None, sites_run: str | None = None
                     ) -> TransportWhatIf:
    """:func:`compare_networks` for the stored scenario ``name`` against the basemap in use."""
    from routing.scenario_store import scenario_graph_for

    base, graph = scenario_graph_for(engine, name, mode)
    return compare_networks(engine, level, base, graph, year=year, threshold_min=threshold_min,
                            round_id=round_id, sites_run=sites_run)


def rounds_of_level(engine: Engine, level: str) -> list[str]:
    """Return the ids of the admission rounds whose entry grade is that of ``level``."""
    grade = LEVEL_BY_NAME[level].entry_grade
    with engine.connect() as conn:
        return [str(r) for r in conn.execute(sa.text(
            "SELECT id FROM admission_rounds WHERE grade = :g ORDER BY id"), {"g": grade}).scalars()]
