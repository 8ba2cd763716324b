"""What the officers' pages read about rounds.

Applicants with their placements, placements per school, the rounds an officer sees, the
schools of a round, the results map.

Read-only and framework-free: each function takes an engine and returns rows (mappings in
column order) or a dataclass; the web renders them and audits who saw what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from admissions.problem import LEVEL_OF_GRADE
from gis_service.levels import capacity_column

#: The columns of :func:`round_applicants` rows, in order (also the applicants CSV export).
APPLICANT_COLUMNS = ("applicant_id", "ward_code", "residence_type", "tier", "score", "bonus",
                     "choices", "school_code", "choice_rank", "distance_m", "reason_vi")


def round_applicants(engine: Engine, round_id: str, limit: int | None = None,
                     offset: int = 0) -> list[dict[str, Any]]:
    """Return the round's applicants by id with their stored placement.

    Columns :data:`APPLICANT_COLUMNS` (placement columns empty before a run); every
    applicant, or ``limit`` from ``offset``.
    """
    sql = ("SELECT a.applicant_id, a.ward_code, a.residence_type, a.tier, a.score, a.bonus,"
           " array_to_string(a.choices, ' ') AS choices, l.school_code, l.choice_rank, l.distance_m,"
           " l.reason_vi FROM applicants a LEFT JOIN allocations l ON l.round_id = a.round_id"
           " AND l.applicant_id = a.applicant_id WHERE a.round_id = :r ORDER BY a.applicant_id")
    params: dict[str, Any] = {"r": round_id}
    if limit is not None:
        sql += " LIMIT :limit OFFSET :offset"
        params.update(limit=limit, offset=offset)
    with engine.connect() as conn:
        return [r._asdict() for r in conn.execute(sa.text(sql), params)]


#: The columns of :func:`applicants_page` rows: those of :data:`APPLICANT_COLUMNS` and the
#: travel time and English reason the round page shows.
APPLICANT_PAGE_COLUMNS = (*APPLICANT_COLUMNS, "time_s", "reason_en")


def applicants_page(engine: Engine, round_id: str, limit: int, offset: int = 0
                    ) -> list[dict[str, Any]]:
    """Return ``limit`` applicants from ``offset`` (by id) with their stored placement.

    Columns :data:`APPLICANT_PAGE_COLUMNS`: the round page's applicants table.
    """
    with engine.connect() as conn:
        return [r._asdict() for r in conn.execute(sa.text(
            "SELECT a.applicant_id, a.ward_code, a.residence_type, a.tier, a.score, a.bonus,"
            " array_to_string(a.choices, ' ') AS choices, l.school_code, l.choice_rank,"
            " l.distance_m, l.reason_vi, l.time_s, l.reason_en FROM applicants a"
            " LEFT JOIN allocations l ON l.round_id = a.round_id AND l.applicant_id = a.applicant_id"
            " WHERE a.round_id = :r ORDER BY a.applicant_id LIMIT :limit OFFSET :offset"),
            {"r": round_id, "limit": limit, "offset": offset})]


def applicant_counts(engine: Engine, round_id: str) -> dict[str, int]:
    """Return ``{"applicants": n, "homes": m}``: the round's applicants, and those with a home."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT count(*) AS applicants, count(geom) AS homes FROM applicants"
            " WHERE round_id = :r"), {"r": round_id}).one()
    return {"applicants": int(row.applicants), "homes": int(row.homes)}


def run_metrics(engine: Engine, round_id: str) -> dict[str, Any] | None:
    """Return the headline figures of the round's stored run, ``None`` without one.

    Read from the stored placements (so they are the same whenever the page is opened, and
    include officers' overrides): ``applicants, placed, unplaced``, ``placed_by_choice``
    (``{rank: count}``, rank ``0`` for a placement off the applicant's list), and over the
    placed applicants with a known distance ``distance_known``, ``distance_mean_m``,
    ``distance_median_m``, ``distance_p90_m``, ``share_within_{1,2,3}km`` (0..1), then
    ``time_mean_s`` and ``time_median_s`` where times are known.
    """
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT count(*) AS applicants, count(school_code) AS placed,"
            " count(*) FILTER (WHERE school_code IS NULL) AS unplaced,"
            " count(distance_m) FILTER (WHERE school_code IS NOT NULL) AS distance_known,"
            " avg(distance_m) FILTER (WHERE school_code IS NOT NULL) AS distance_mean_m,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY distance_m)"
            "  FILTER (WHERE school_code IS NOT NULL) AS distance_median_m,"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY distance_m)"
            "  FILTER (WHERE school_code IS NOT NULL) AS distance_p90_m,"
            " avg((distance_m <= 1000)::int) FILTER (WHERE school_code IS NOT NULL"
            "  AND distance_m IS NOT NULL) AS share_within_1km,"
            " avg((distance_m <= 2000)::int) FILTER (WHERE school_code IS NOT NULL"
            "  AND distance_m IS NOT NULL) AS share_within_2km,"
            " avg((distance_m <= 3000)::int) FILTER (WHERE school_code IS NOT NULL"
            "  AND distance_m IS NOT NULL) AS share_within_3km,"
            " avg(time_s) FILTER (WHERE school_code IS NOT NULL) AS time_mean_s,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY time_s)"
            "  FILTER (WHERE school_code IS NOT NULL) AS time_median_s"
            " FROM allocations WHERE round_id = :r"), {"r": round_id}).one()
        if not row.applicants:
            return None
        by_choice = conn.execute(sa.text(
            "SELECT coalesce(choice_rank, 0) AS rank, count(*) FROM allocations"
            " WHERE round_id = :r AND school_code IS NOT NULL GROUP BY 1 ORDER BY 1"),
            {"r": round_id}).all()
    figures: dict[str, Any] = {key: (None if value is None else float(value))
                               for key, value in row._asdict().items()}
    for key in ("applicants", "placed", "unplaced", "distance_known"):
        figures[key] = int(figures[key] or 0)
    figures["placed_by_choice"] = {int(rank): int(count) for rank, count in by_choice}
    return figures


def placements_per_school(engine: Engine, round_id: str, grade: int) -> list[dict[str, Any]]:
    """Return the placed applicants per school of the stored run.

    Columns ``school_code, name, places, placed, worst_choice`` (the highest choice rank it
    admitted), ``mean_distance_m``, ``mean_time_s`` and the school's cut-off: ``cutoff_score``
    (grade 10: the lowest score plus bonus it admitted from an applicant's list) and
    ``cutoff_tier`` (grades 1 and 6: the lowest priority tier it admitted, 1 the highest).
    Placements by an officer off the applicant's list do not set a cut-off.
    """
    column = capacity_column(grade)
    with engine.connect() as conn:
        # aggregated per school first, then named: one pass over the round's placements
        return [r._asdict() for r in conn.execute(sa.text(
            f"SELECT p.school_code, s.name, coalesce(c.capacity, s.{column}) AS places, p.placed,"
            " p.worst_choice, p.mean_distance_m, p.mean_time_s, p.cutoff_score, p.cutoff_tier"
            " FROM (SELECT l.school_code, count(*) AS placed, max(l.choice_rank) AS worst_choice,"
            "  round(avg(l.distance_m)) AS mean_distance_m, avg(l.time_s) AS mean_time_s,"
            "  min(a.score + coalesce(a.bonus, 0)) FILTER (WHERE l.choice_rank IS NOT NULL)"
            "   AS cutoff_score,"
            "  max(a.tier) FILTER (WHERE l.choice_rank IS NOT NULL) AS cutoff_tier"
            "  FROM allocations l JOIN applicants a ON a.round_id = l.round_id"
            "  AND a.applicant_id = l.applicant_id"
            "  WHERE l.round_id = :r AND l.school_code IS NOT NULL GROUP BY l.school_code) p"
            " LEFT JOIN schools s ON s.code = p.school_code"
            " LEFT JOIN round_capacities c ON c.round_id = :r AND c.school_code = p.school_code"
            " ORDER BY p.school_code"),
            {"r": round_id})]


def officer_rounds(engine: Engine, username: str, every_round: bool = False) -> list[dict[str, Any]]:
    """Return the rounds ``username`` is an officer of (``every_round`` for admins).

    Newest year first, with the columns ``id, grade, year, mechanism, status, applicants,
    placed``.
    """
    with engine.connect() as conn:
        return [r._asdict() for r in conn.execute(sa.text(
            "SELECT r.id, r.grade, r.year, r.mechanism, r.status,"
            " (SELECT count(*) FROM applicants a WHERE a.round_id = r.id) AS applicants,"
            " (SELECT count(*) FROM allocations l WHERE l.round_id = r.id"
            "  AND l.school_code IS NOT NULL) AS placed"
            " FROM admission_rounds r WHERE :every OR EXISTS (SELECT 1 FROM round_officers o"
            " WHERE o.round_id = r.id AND o.username = :u) ORDER BY r.year DESC, r.grade, r.id"),
            {"every": every_round, "u": username})]


def round_schools(engine: Engine, round_id: str, grade: int) -> list[dict[str, Any]]:
    """Return ``code, name`` of every school with places in the round, by code.

    Places are the round's own numbers or the school's stored capacity for ``grade``: these
    are the schools where an officer may place someone.
    """
    column = capacity_column(grade)
    with engine.connect() as conn:
        return [r._asdict() for r in conn.execute(sa.text(
            f"SELECT code, name FROM schools s WHERE {column} IS NOT NULL OR EXISTS (SELECT 1"
            " FROM round_capacities c WHERE c.round_id = :r AND c.school_code = s.code)"
            " ORDER BY code"), {"r": round_id})]


@dataclass(frozen=True)
class ResultsMap:
    """The stored run on a map.

    ``schools`` as ``(code, name, places, placed, lon, lat)`` and the homes of unplaced
    applicants as ``(applicant_id, lon, lat)``.
    """

    schools: list[tuple[str, str, int | None, int, float, float]]
    unplaced: list[tuple[str, float, float]]

    def feature_collection(self) -> dict[str, Any]:
        """Return a GeoJSON FeatureCollection of the schools and the unplaced homes.

        One point per school (``kind: school``, keyed by its code), then one per unplaced
        applicant's home (``kind: unplaced``).
        """
        features: list[dict[str, Any]] = [
            {"type": "Feature", "id": code, "geometry": {"type": "Point", "coordinates": [x, y]},
             "properties": {"kind": "school", "code": code, "name": name, "places": places,
                            "placed": placed}}
            for code, name, places, placed, x, y in self.schools]
        features += [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                      "properties": {"kind": "unplaced", "applicant_id": applicant}}
                     for applicant, x, y in self.unplaced]
        return {"type": "FeatureCollection", "features": features}


def results_map(engine: Engine, round_id: str, grade: int) -> ResultsMap:
    """Return the round's schools with their placed counts and the unplaced applicants' homes.

    Every school of the grade's level with places in the round, and the homes of the
    applicants the stored run left unplaced.
    """
    column = capacity_column(grade)
    with engine.connect() as conn:
        schools = conn.execute(sa.text(
            f"SELECT s.code, s.name, coalesce(c.capacity, s.{column}) AS places,"
            " coalesce(p.placed, 0), ST_X(s.geom), ST_Y(s.geom) FROM schools s"
            " LEFT JOIN round_capacities c ON c.round_id = :r AND c.school_code = s.code"
            " LEFT JOIN (SELECT school_code, count(*) AS placed FROM allocations"
            " WHERE round_id = :r AND school_code IS NOT NULL GROUP BY 1) p ON p.school_code = s.code"
            f" WHERE s.level = :level AND coalesce(c.capacity, s.{column}) IS NOT NULL ORDER BY s.code"),
            {"r": round_id, "level": LEVEL_OF_GRADE[grade]}).all()
        unplaced = conn.execute(sa.text(
            "SELECT a.applicant_id, ST_X(a.geom), ST_Y(a.geom) FROM allocations l JOIN applicants a"
            " ON a.round_id = l.round_id AND a.applicant_id = l.applicant_id WHERE l.round_id = :r"
            " AND l.school_code IS NULL AND a.geom IS NOT NULL ORDER BY a.applicant_id"),
            {"r": round_id}).all()
    return ResultsMap(
        [(str(code), str(name), None if places is None else int(places), int(placed), float(x),
          float(y)) for code, name, places, placed, x, y in schools],
        [(str(applicant), float(x), float(y)) for applicant, x, y in unplaced])


def example_schools(engine: Engine, round_id: str, grade: int, count: int = 3
                    ) -> list[dict[str, Any]]:
    """Return ``count`` schools with places in the round: ``code, places, lon, lat``, by code.

    The example rows of the upload templates name real schools, so that a template
    filled in by hand passes the checks.
    """
    column = capacity_column(grade)
    with engine.connect() as conn:
        return [r._asdict() for r in conn.execute(sa.text(
            f"SELECT s.code, coalesce(c.capacity, s.{column}) AS places, ST_X(s.geom) AS lon,"
            " ST_Y(s.geom) AS lat FROM schools s LEFT JOIN round_capacities c"
            " ON c.round_id = :r AND c.school_code = s.code"
            f" WHERE s.level = :level AND coalesce(c.capacity, s.{column}) IS NOT NULL"
            " ORDER BY s.code LIMIT :n"),
            {"r": round_id, "level": LEVEL_OF_GRADE[grade], "n": count})]
