"""Catchments (địa bàn tuyển sinh): the wards whose children have residence priority at a school.

Grades 1 and 6 in HCMC are residence-based: the education authority (the district until
June 2025) assigns each public primary and lower-secondary school the wards it serves, and a
child resident there ranks before children from elsewhere. Catchments are lists of wards and
communes of today (``valid_to`` NULL). This module keeps them in the ``catchments`` table:

- :func:`derive_catchments` computes them when the official list is not at hand: every
  public school serves its own ward, and a ward with no such school is served by the school
  nearest by road (motorbike time from a point inside the ward), so every ward is covered;
- :func:`import_catchments` stores the official list from a CSV ``school_code,ward_code``,
  replacing the catchments of the schools it names (a list by former wards is carried over
  through ``admin_mapping``);
- :func:`catchment_tiers` turns an applicant's residence (1 = thường trú, 2 = tạm trú) into a
  priority per (applicant, school): the residence tier inside the school's catchment, 3 outside.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Connection, Engine

from admissions.problem import LEVEL_OF_GRADE, AdmissionProblem
from gis_service.audit import audit
from gis_service.errors import InputError, InvalidValueError, NotFoundError, Problem
from gis_service.levels import capacity_column

#: Entry grade of each level that has catchments.
GRADE_OF_LEVEL = {level: grade for grade, level in LEVEL_OF_GRADE.items() if grade != 10}
OUTSIDE_TIER = 3


#: Why a row of a catchment file is refused, as (Vietnamese, English) templates.
REASONS = {
    "unknown_school": ("không có trường nào mã {code!r}", "unknown school code {code!r}"),
    "no_catchment": ("trường {code!r} ({ownership}, {level}) không có địa bàn tuyển sinh: chỉ trường "
                     "công lập tiểu học và THCS có",
                     "school {code!r} is {ownership} {level}; only public primary and "
                     "lower-secondary schools have catchments"),
    "unknown_ward": ("không có phường nào mã {code!r}", "unknown ward {code!r}"),
    "unmapped_ward": ("phường {code!r} không còn từ 1/7/2025 và chưa có trong bảng ánh xạ sang"
                      " phường mới (edugis import admin-mapping)",
                      "ward {code!r} no longer exists since 1 July 2025 and is not mapped to the"
                      " wards of today (edugis import admin-mapping)"),
    "pair_twice": ("{school} / {ward} được ghi hai lần", "{school} / {ward} is listed twice"),
}



def assign_wards(wards: list[str], school_wards: Mapping[str, str | float | None],
                 nearest: Mapping[str, str]) -> pd.DataFrame:
    """Return the derived catchments as ``school_code, ward_code`` rows.

    Parameters
    ----------
    wards
        Every ward to cover.
    school_wards
        Each school's own ward (``None``, or NaN as pandas reads a missing value, when the
        school lies outside every ward).
    nearest
        For each ward, the school nearest by road from a point inside it; used only for the
        wards that hold no school.
    """
    # a school off every ward has no ward of its own: None, or NaN as pandas reads a missing one
    pairs = {(school, ward) for school, ward in school_wards.items() if isinstance(ward, str)}
    served = {ward for _, ward in pairs}
    for ward in wards:
        if ward not in served:
            if ward not in nearest:
                raise NotFoundError(f"ward {ward} holds no school and no school is reachable from it")
            pairs.add((nearest[ward], ward))
    return pd.DataFrame(sorted(pairs), columns=["school_code", "ward_code"])


def catchment_tiers(problem: AdmissionProblem, residence_tier: NDArray[np.int8],
                    applicant_wards: list[str | None],
                    catchments: Mapping[str, frozenset[str]]) -> NDArray[np.int8]:
    """Return the priority tier per (applicant, choice).

    The residence tier where the home ward is in the chosen school's catchment,
    :data:`OUTSIDE_TIER` elsewhere (and for unlisted choices).
    """
    tiers = np.full(problem.choices.shape, OUTSIDE_TIER, dtype=np.int8)
    codes = problem.school_codes
    for a, ward in enumerate(applicant_wards):
        if ward is None:
            continue
        for c, school in enumerate(problem.choices[a]):
            if school >= 0 and ward in catchments.get(str(codes[school]), frozenset()):
                tiers[a, c] = residence_tier[a]
    return tiers


def load_catchments(conn: Connection, level: str) -> dict[str, frozenset[str]]:
    """Return the stored catchments of the schools of ``level``: school code -> ward codes."""
    rows = conn.execute(sa.text(
        "SELECT c.school_code, array_agg(c.ward_code ORDER BY c.ward_code) FROM catchments c"
        " JOIN schools s ON s.code = c.school_code WHERE s.level = :level GROUP BY 1"),
        {"level": level}).all()
    return {code: frozenset(wards) for code, wards in rows}


def _check_level(level: str) -> int:
    if level not in GRADE_OF_LEVEL:
        raise InvalidValueError(f"catchments exist for {' and '.join(GRADE_OF_LEVEL)}, not {level!r}")
    return GRADE_OF_LEVEL[level]


def derive_catchments(engine: Engine, level: str, mode: str = "motorbike",
                      actor: str = "system") -> pd.DataFrame:
    """Derive and store the catchments of the public schools of ``level``; return the rows.

    Every stored catchment of that level is replaced.
    """
    import routing
    from admissions.road_distance import RoadNetwork
    from basemaps.fetch import load_road_layer

    grade = _check_level(level)
    with engine.connect() as conn:
        schools = pd.DataFrame(conn.execute(sa.text(
            "SELECT s.code, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, w.code AS ward"
            " FROM schools s LEFT JOIN LATERAL (SELECT code FROM admin_units WHERE level = 'ward'"
            " AND valid_to IS NULL AND ST_Intersects(geom, s.geom) ORDER BY code LIMIT 1) w ON true"
            f" WHERE s.level = :level AND s.ownership = 'public' AND s.{capacity_column(grade)} > 0"
            " ORDER BY s.code"), {"level": level}).all(), columns=["code", "lon", "lat", "ward"])
        wards = pd.DataFrame(conn.execute(sa.text(
            "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) AS p"
            " FROM admin_units WHERE level = 'ward' AND valid_to IS NULL) u ORDER BY code")).all(),
            columns=["code", "lon", "lat"])
    if wards.empty:
        raise NotFoundError("no wards stored: import ward boundaries first "
                            "(`edugis import boundaries`)")
    if schools.empty:
        raise NotFoundError(f"no public {level} school with grade-{grade} places is stored")
    school_wards = {code: ward if isinstance(ward, str) else None
                    for code, ward in zip(schools["code"], schools["ward"], strict=True)}
    empty = wards[~wards["code"].isin(set(schools["ward"].dropna()))]
    nearest: dict[str, str] = {}
    if not empty.empty:
        graph = routing.build_graph(load_road_layer(engine), mode)
        network = RoadNetwork(graph, schools["lon"].to_numpy(np.float64),
                              schools["lat"].to_numpy(np.float64))
        chosen, _, _ = network.nearest(empty["lon"].to_numpy(np.float64),
                                       empty["lat"].to_numpy(np.float64), 1)
        nearest = {ward: str(schools["code"].iat[j])
                   for ward, j in zip(empty["code"], chosen[:, 0], strict=True) if j >= 0}
    rows = assign_wards(wards["code"].tolist(), school_wards, nearest)
    with engine.begin() as conn:
        _replace(conn, rows, "derived", level=level)
        audit(conn, actor, "catchments.derive", level,
               {"schools": int(rows["school_code"].nunique()), "pairs": len(rows), "mode": mode})
    return rows


def import_catchments(engine: Engine, path: str | Path, actor: str = "system") -> pd.DataFrame:
    """Store the catchments listed in a CSV ``school_code,ward_code`` (one row per pair).

    They replace those of the schools it names. A list by former wards (before 1 July 2025)
    is carried over to the wards of today they went to (``admin_mapping``); a former ward
    without a mapping is refused. Nothing is stored when any row is bad. Returns the stored
    pairs (by wards of today).
    """
    from admissions.files import read_table

    label, frame = read_table(path, ("school_code", "ward_code"))
    with engine.connect() as conn:
        schools = {code: (level, ownership) for code, level, ownership in conn.execute(sa.text(
            "SELECT code, level, ownership FROM schools")).all()}
        wards: dict[str, list[str]] = {code: [code] for code in conn.execute(sa.text(
            "SELECT code FROM admin_units WHERE level = 'ward' AND valid_to IS NULL")).scalars()}
        former: dict[str, list[str]] = {code: list(news) for code, news in conn.execute(sa.text(
            "SELECT w.code, array_remove(array_agg(m.new_code ORDER BY m.new_code), NULL)"
            " FROM admin_units w LEFT JOIN admin_mapping m ON m.old_code = w.code"
            " WHERE w.level = 'ward' AND w.valid_to IS NOT NULL GROUP BY w.code")).all()}
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    pairs: set[tuple[str, str]] = set()
    for row, (school, ward) in enumerate(zip(frame["school_code"], frame["ward_code"],
                                             strict=True), start=1):
        problems += _school_problems(label, row, school, schools.get(school))
        if ward in wards or former.get(ward):
            pairs.update((school, new) for new in wards.get(ward) or former[ward])
        else:
            problems.append(Problem.of(label, row, "ward_code", REASONS[
                "unmapped_ward" if ward in former else "unknown_ward"], code=ward))
        if (school, ward) in seen:
            problems.append(Problem.of(label, row, "ward_code", REASONS["pair_twice"],
                                       school=school, ward=ward))
        seen.add((school, ward))
    if problems:
        raise InputError(problems)
    rows = pd.DataFrame(sorted(pairs), columns=["school_code", "ward_code"])
    with engine.begin() as conn:
        _replace(conn, rows, "imported")
        audit(conn, actor, "catchments.import", label,
               {"schools": int(rows["school_code"].nunique()), "pairs": len(rows)})
    return rows


def _school_problems(label: str, row: int, school: str,
                     facts: tuple[str, str] | None) -> list[Problem]:
    """Return why a catchment row's school is refused: unknown, or without a catchment."""
    if facts is None:
        return [Problem.of(label, row, "school_code", REASONS["unknown_school"], code=school)]
    level, ownership = facts
    if level not in GRADE_OF_LEVEL or ownership != "public":
        return [Problem.of(label, row, "school_code", REASONS["no_catchment"], code=school,
                           ownership=ownership, level=level)]
    return []


def _replace(conn: Connection, rows: pd.DataFrame, source: str, level: str | None = None) -> None:
    """Delete the catchments of ``level`` (or of the schools in ``rows``) and insert ``rows``."""
    if level is not None:
        conn.execute(sa.text("DELETE FROM catchments c USING schools s WHERE s.code = c.school_code"
                             " AND s.level = :level"), {"level": level})
    else:
        conn.execute(sa.text("DELETE FROM catchments WHERE school_code = ANY(:codes)"),
                     {"codes": sorted(set(rows["school_code"]))})
    conn.execute(sa.text(
        "INSERT INTO catchments (school_code, ward_code, source) SELECT s, w, :source"
        " FROM unnest(CAST(:s AS text[]), CAST(:w AS text[])) AS t(s, w)"),
        {"s": rows["school_code"].tolist(), "w": rows["ward_code"].tolist(), "source": source})



def catchments_at(engine: Engine, lon: float, lat: float, level: str) -> dict[str, Any]:
    """Return the ward at a point and the schools of ``level`` whose catchment holds it.

    GeoJSON-ready: each school comes with its catchment outline.
    """
    _check_level(level)
    with engine.connect() as conn:
        ward = conn.execute(sa.text(
            "SELECT code, name FROM admin_units WHERE level = 'ward' AND valid_to IS NULL"
            " AND ST_Intersects(geom, ST_SetSRID(ST_Point(:x, :y), 4326)) ORDER BY code LIMIT 1"),
            {"x": lon, "y": lat}).one_or_none()
        if ward is None:
            return {"ward": None, "schools": []}
        rows = conn.execute(sa.text(
            "SELECT s.code, s.name, ST_X(s.geom), ST_Y(s.geom),"
            " ST_AsGeoJSON(ST_Union(w.geom), 6), array_agg(w.code ORDER BY w.code)"
            " FROM catchments c JOIN schools s ON s.code = c.school_code"
            " JOIN catchments c2 ON c2.school_code = s.code JOIN admin_units w ON w.code = c2.ward_code"
            " WHERE c.ward_code = :ward AND s.level = :level GROUP BY s.code, s.name, s.geom"
            " ORDER BY s.code"), {"ward": ward.code, "level": level}).all()
    return {"ward": {"code": ward.code, "name": ward.name},
            "schools": [{"code": code, "name": name, "lon": x, "lat": y,
                         "geometry": json.loads(geometry),
                         "wards": list(wards)} for code, name, x, y, geometry, wards in rows]}
