"""Admission rounds in PostGIS: create, import applicants, run, compare, explain, publish.

A thin layer around the pure mechanisms: it loads arrays from the database, calls
:func:`admissions.allocate`, and stores the outcome in one transaction, so a failed run
leaves the previous results untouched. Every action is written to ``audit_log``. The
round's row and its state error live in :mod:`admissions.rounds`; what pages read, in
:mod:`admissions.queries`.

Runs and imports of one round take the round's lock and compare input versions
(:mod:`admissions.round_inputs`): a run stores only the result of the inputs it read, and an
import discards a stored run only when asked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from admissions.allocation import Allocation, allocate
from admissions.catchments import catchment_tiers, load_catchments
from admissions.distance import DistanceSource
from admissions.explain import offroad_figures, result_frame
from admissions.files import admitting_schools, build_problem, read_applicants
from admissions.mechanisms import MECHANISMS, Mechanism, mechanism_from, mechanism_of_run
from admissions.metrics import comparison_table, summary
from admissions.problem import GRADES, LEVEL_OF_GRADE, AdmissionProblem
from admissions.round_capacities import apply_capacities
from admissions.round_inputs import (
    change_round_inputs,
    check_inputs_unchanged,
    input_versions,
    lock_round,
)
from admissions.rounds import EmptyRoundError, RoundInfo, RoundStateError, audit, get_round
from gis_service import request_keys
from gis_service.errors import ConflictError, InputError, InvalidValueError, NotFoundError, Problem
from gis_service.spatial import city_extent
from gis_service.transactions import write_transaction
from routing.speeds import DEFAULT_MAX_OFFROAD_M

if TYPE_CHECKING:
    from routing.graph import ModeGraph

__all__ = ["Comparison", "RoundInfo", "RoundStateError", "compare_round", "create_round",
           "explain_applicant", "get_round", "grant_round", "import_applicants",
           "is_round_officer", "load_problem", "override_applicant", "publish_round",
           "results_frame", "road_source", "round_officers", "run_round"]

RESIDENCE = {1: "thuong_tru", 2: "tam_tru", 3: "khac"}


def create_round(engine: Engine, round_id: str, grade: int, year: int, mechanism: str = "da",
                 seed: int = 0, actor: str = "system", request_key: str | None = None) -> RoundInfo:
    """Create a draft round.

    ``request_key`` is the form's one-time key (:mod:`gis_service.request_keys`): sent again,
    the request creates nothing and returns the round the first one created.
    """
    if grade not in GRADES:
        raise InvalidValueError(f"grade must be 1, 6 or 10, not {grade}")
    mechanism_from(mechanism)  # an unknown name is refused, naming the known ones
    with engine.begin() as conn:
        created = request_keys.claim(conn, request_key, actor, "round.create", round_id)
        if created is not None:
            return get_round(conn, created)
        exists = conn.execute(sa.text("SELECT 1 FROM admission_rounds WHERE id = :r"),
                              {"r": round_id}).scalar()
        if exists:
            raise InvalidValueError(f"round {round_id!r} already exists")
        conn.execute(sa.text(
            "INSERT INTO admission_rounds (id, grade, year, mechanism, seed, status)"
            " VALUES (:r, :g, :y, :m, :s, 'draft')"),
            {"r": round_id, "g": grade, "y": year, "m": mechanism, "s": seed})
        audit(conn, actor, "round.create", round_id,
              {"grade": grade, "year": year, "mechanism": mechanism, "seed": seed})
        # an officer who creates a round is one of its officers
        conn.execute(sa.text(
            "INSERT INTO round_officers (round_id, username) SELECT :r, username FROM users"
            " WHERE username = :u AND role = 'officer'"), {"r": round_id, "u": actor})
    return get_round(engine, round_id)


def round_officers(engine: Engine, round_id: str) -> list[str]:
    """Usernames of the officers of a round (admins act on every round without a grant)."""
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT username FROM round_officers WHERE round_id = :r ORDER BY username"),
            {"r": round_id}).scalars())


def is_round_officer(engine: Engine, round_id: str, username: str) -> bool:
    """Whether ``username`` may see the personal data of ``round_id`` and act on it."""
    with engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT 1 FROM round_officers WHERE round_id = :r AND username = :u"),
            {"r": round_id, "u": username}).scalar())


def grant_round(engine: Engine, round_id: str, username: str, actor: str = "system",
                revoke: bool = False, request_key: str | None = None) -> None:
    """Make ``username`` (an officer) one of the round's officers, or remove them.

    A ``request_key`` already used (the form sent again) changes nothing.
    """
    get_round(engine, round_id)
    with engine.begin() as conn:
        change = f"{round_id}:{'revoke' if revoke else 'grant'}:{username}"
        if request_keys.claim(conn, request_key, actor, "round.grant", change) is not None:
            return
        role = conn.execute(sa.text("SELECT role FROM users WHERE username = :u"),
                            {"u": username}).scalar()
        if role != "officer":
            raise InvalidValueError(f"{username!r} is not an officer account"
                             + ("" if role is None else f" (role {role})"))
        if revoke:
            conn.execute(sa.text("DELETE FROM round_officers WHERE round_id = :r AND username = :u"),
                         {"r": round_id, "u": username})
        else:
            conn.execute(sa.text("INSERT INTO round_officers (round_id, username) VALUES (:r, :u)"
                                 " ON CONFLICT DO NOTHING"), {"r": round_id, "u": username})
        audit(conn, actor, "round.revoke" if revoke else "round.grant", round_id,
              {"username": username})


def _schools(engine: Engine | Connection) -> pd.DataFrame:
    from basemaps.fetch import load_schools

    frame = load_schools(engine if isinstance(engine, Engine) else engine.engine)
    for column in ("capacity_grade1", "capacity_grade6", "capacity_grade10"):
        frame[column] = pd.array(frame[column], dtype="Int64")
    return frame


def _round_schools(engine: Engine, info: RoundInfo) -> pd.DataFrame:
    """Return the stored schools with the round's own places (see :mod:`admissions.round_capacities`)."""
    with engine.connect() as conn:
        return apply_capacities(conn, info.id, info.grade, _schools(engine))


def import_applicants(engine: Engine, round_id: str, path: str | Path,
                      actor: str = "system", discard_run: bool = False) -> int:
    """Replace the applicants of an unpublished round by the checked rows of ``path``.

    Every problem (unknown school, duplicate id, bad score, home outside the city, ...) is
    reported with row and field, and nothing is stored from a file that has any. A round
    with a stored run keeps it unless ``discard_run`` confirms that the import drops it
    (:class:`admissions.round_inputs.RunDiscardError` otherwise).
    """
    info = get_round(engine, round_id)
    if info.status == "published":
        raise RoundStateError(f"round {round_id} is published: its applicants are frozen")
    frame = read_applicants(path, info.grade, _round_schools(engine, info))
    label = Path(path).name
    choice_columns = [c for c in frame.columns if c.startswith("choice")]
    rows = []
    for record in frame.to_dict("records"):
        has_home = np.isfinite(record["lon"]) and np.isfinite(record["lat"])
        tier = int(record["tier"]) if "tier" in record and pd.notna(record["tier"]) else None
        rows.append({
            "r": round_id, "a": str(record["applicant_id"]),
            "tier": tier, "res": RESIDENCE.get(tier or 0),
            "score": float(record["score"]) if pd.notna(record.get("score")) else None,
            "bonus": float(record.get("bonus") or 0.0) if pd.notna(record.get("bonus")) else 0.0,
            "choices": [str(record[c]) for c in choice_columns if record[c]],
            "lon": float(record["lon"]) if has_home else None,
            "lat": float(record["lat"]) if has_home else None,
        })

    def store(conn: Connection) -> None:
        discarded = change_round_inputs(conn, round_id, discard_run, "applicants")
        _check_homes_in_city(conn, frame, label)
        conn.execute(sa.text("DELETE FROM applicants WHERE round_id = :r"), {"r": round_id})
        conn.execute(sa.text(
            "INSERT INTO applicants (round_id, applicant_id, tier, residence_type, score, bonus,"
            " choices, geom) VALUES (:r, :a, :tier, :res, :score, :bonus, :choices,"
            " CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL"
            " ELSE ST_SetSRID(ST_Point(:lon, :lat), 4326) END)"), rows)
        conn.execute(sa.text(
            "UPDATE applicants a SET ward_code = w.code FROM admin_units w WHERE a.round_id = :r"
            " AND w.level = 'ward' AND w.valid_to IS NULL AND ST_Intersects(w.geom, a.geom)"),
            {"r": round_id})
        details: dict[str, Any] = {"file": label, "applicants": len(rows)}
        if discarded is not None:
            details["discarded_run"] = discarded
        audit(conn, actor, "round.import_applicants", round_id, details)

    write_transaction(engine, store, what=f"import of applicants into round {round_id}")
    return len(frame)


def _check_homes_in_city(conn: Connection, frame: pd.DataFrame, label: str) -> None:
    extent = city_extent(conn, "d")  # the province, else the wards of today, else districts
    with_home = frame[np.isfinite(frame["lon"]) & np.isfinite(frame["lat"])]
    if extent is None or with_home.empty:
        return
    outside = conn.execute(sa.text(
        "SELECT t.i FROM unnest(CAST(:i AS int[]), CAST(:x AS float8[]), CAST(:y AS float8[]))"
        f" AS t(i, x, y) WHERE NOT EXISTS (SELECT 1 FROM admin_units d WHERE {extent[1]}"
        " AND ST_Intersects(d.geom, ST_SetSRID(ST_Point(t.x, t.y), 4326))) ORDER BY t.i"),
        {"i": [int(i) + 1 for i in with_home.index], "x": with_home["lon"].tolist(),
         "y": with_home["lat"].tolist()}).scalars().all()
    if outside:
        raise InputError([Problem(label, int(row), "lon", "home is outside the city",
                                  reason_vi="nhà nằm ngoài thành phố")
                          for row in outside])


def _applicant_frame(conn: Connection, info: RoundInfo) -> pd.DataFrame:
    rows = conn.execute(sa.text(
        "SELECT applicant_id, ST_X(geom) AS lon, ST_Y(geom) AS lat, tier, score, bonus, choices,"
        " ward_code FROM applicants WHERE round_id = :r ORDER BY applicant_id"), {"r": info.id}).all()
    if not rows:
        raise EmptyRoundError(f"round {info.id} has no applicants: import them first")
    frame = pd.DataFrame(rows, columns=["applicant_id", "lon", "lat", "tier", "score", "bonus",
                                        "choices", "ward_code"])
    frame["lon"] = frame["lon"].astype(float)
    frame["lat"] = frame["lat"].astype(float)
    width = max(1, max(len(c) for c in frame["choices"]))
    for j in range(width):
        frame[f"choice{j + 1}"] = [c[j] if j < len(c) else "" for c in frame["choices"]]
    if info.grade == 10:
        frame = frame.drop(columns=["tier"])
    else:
        frame = frame.drop(columns=["score", "bonus"])
        frame["tier"] = frame["tier"].astype(int)
    return frame.drop(columns=["choices"])


def road_source(engine: Engine, schools: pd.DataFrame, grade: int, mode: str = "motorbike",
                max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
                graph: ModeGraph | None = None) -> DistanceSource:
    """Road distances on the stored basemap, over the schools admitting ``grade``.

    Homes farther than ``max_offroad_m`` from every road get straight-line distances at the
    mode's off-road speed and are flagged (:class:`admissions.road_distance.RoadNetwork`).
    ``graph`` replaces the basemap's graph of ``mode`` (a transport scenario's).
    """
    import routing
    from admissions.road_distance import RoadNetwork
    from basemaps.fetch import load_road_layer

    admitting = admitting_schools(schools, grade)
    if graph is None:
        graph = routing.build_graph(load_road_layer(engine), mode)
    return RoadNetwork(graph, admitting["lon"].to_numpy(np.float64),
                       admitting["lat"].to_numpy(np.float64), admitting["code"].tolist(),
                       max_offroad_m=max_offroad_m)


def load_problem(engine: Engine, round_id: str, mode: str = "motorbike",
                 extra_schools: pd.DataFrame | None = None,
                 max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
                 graph: ModeGraph | None = None) -> AdmissionProblem:
    """Return the round's applicants and the stored schools as an :class:`AdmissionProblem`.

    A home farther than ``max_offroad_m`` from every road of ``mode`` gets straight-line
    distances at the off-road speed and is flagged (``problem.offroad``), not refused.

    ``extra_schools`` (same columns as the stored ones) are added for "what if" runs. For
    grades 1 and 6 with stored catchments, an applicant's residence tier holds at the schools
    whose catchment holds the home ward (a school without a stored catchment, such as a
    "what if" site, serves its own ward) and is 3 elsewhere; without stored catchments for
    the level, the tier holds at every school, as for a problem built from files.
    ``graph`` replaces the basemap's road graph (a transport scenario's).
    """
    info = get_round(engine, round_id)
    schools = _round_schools(engine, info)
    if extra_schools is not None:
        schools = pd.concat([schools, extra_schools], ignore_index=True)
    with engine.connect() as conn:
        applicants = _applicant_frame(conn, info)
        catchments = (load_catchments(conn, LEVEL_OF_GRADE[info.grade]) if info.grade != 10
                      else {})
    wards = applicants.pop("ward_code")
    needs_roads = info.grade != 10 or bool(np.isfinite(applicants["lon"]).any())
    source = (road_source(engine, schools, info.grade, mode, max_offroad_m, graph) if needs_roads
              else None)
    problem = build_problem(applicants, schools, info.grade, source)
    if not catchments:
        return problem
    for code, ward, ownership in zip(schools["code"], schools["ward_code"], schools["ownership"],
                                     strict=True):
        if code not in catchments and isinstance(ward, str) and ownership == "public":
            catchments[code] = frozenset([ward])
    tiers = catchment_tiers(problem, applicants["tier"].to_numpy(np.int8),
                            [w if isinstance(w, str) else None for w in wards], catchments)
    return replace(problem, tier=tiers)


def run_round(engine: Engine, round_id: str, mechanism: Mechanism | str | None = None,
              actor: str = "system", mode: str = "motorbike",
              after: str | None = None,
              max_offroad_m: float = DEFAULT_MAX_OFFROAD_M) -> dict[str, Any]:
    """Allocate the round and store the result in one transaction; return its metrics.

    ``after`` names a published round of the same grade whose placements are kept: this round
    (round 2) then shares out only the seats that round left, and an applicant placed there
    may not apply again.

    A home farther than ``max_offroad_m`` from every road gets straight-line distances at the
    mode's off-road speed; its reason says so and the metrics count such homes
    (``offroad_homes``, ``offroad_placed``, see :func:`admissions.explain.offroad_figures`).
    The value is stored with the run (``parameters["max_offroad_m"]``), so overrides
    recompute the run with it.

    Raises
    ------
    admissions.round_inputs.InputsChangedError
        When the round's applicants or places, or the schools, catchments or roads, changed
        while the run computed (nothing is stored; running again is safe).
    """
    info = get_round(engine, round_id)
    if info.status == "published":
        raise RoundStateError(f"round {round_id} is published and cannot be run again")
    with engine.connect() as conn:
        versions = input_versions(conn, round_id)
    chosen = (mechanism if isinstance(mechanism, Mechanism)
              else mechanism_from(mechanism or info.mechanism))
    if after is not None:
        first = get_round(engine, after)
        if first.status != "published" or first.grade != info.grade:
            raise RoundStateError(f"round 2 needs a published grade-{info.grade} round 1; "
                                  f"{after} is {first.status}, grade {first.grade}")
    problem = load_problem(engine, round_id, mode, max_offroad_m=max_offroad_m)
    if after is not None:
        problem = _after_round(engine, info, problem, after)
    allocation = allocate(problem, chosen, info.seed)
    _store(engine, info, problem, allocation, actor, mode, versions, max_offroad_m=max_offroad_m)
    return {**summary(problem, allocation), "max_offroad_m": max_offroad_m,
            **offroad_figures(problem, allocation)}


def _after_round(engine: Engine, info: RoundInfo, problem: AdmissionProblem,
                 after: str) -> AdmissionProblem:
    """``problem`` with the seats that the published round ``after`` left."""
    with engine.connect() as conn:
        placed: dict[str, int] = dict(conn.execute(sa.text(
            "SELECT school_code, count(*) FROM allocations WHERE round_id = :r"
            " AND school_code IS NOT NULL GROUP BY 1"), {"r": after}).all())
        again = conn.execute(sa.text(
            "SELECT applicant_id FROM allocations WHERE round_id = :r AND school_code IS NOT NULL"
            " AND applicant_id = ANY(:ids) ORDER BY 1"),
            {"r": after, "ids": [str(a) for a in problem.applicant_ids]}).scalars().all()
    if again:
        raise InputError([Problem(info.id, None, "applicant_id",
                                  f"{a} was placed in round {after} and cannot apply again",
                                  reason_vi=f"{a} đã trúng tuyển ở đợt {after}, không xét lại")
                          for a in again])
    taken = np.array([placed.get(str(code), 0) for code in problem.school_codes], dtype=np.int64)
    return problem.with_capacity(np.maximum(problem.capacity - taken, 0))


def _store(engine: Engine, info: RoundInfo, problem: AdmissionProblem, allocation: Allocation,
           actor: str, mode: str, versions: dict[str, int],
           overrides: list[dict[str, Any]] | None = None, *,
           max_offroad_m: float = DEFAULT_MAX_OFFROAD_M) -> None:
    """Store a run (or a run with overrides) of ``info``, computed on inputs of ``versions``.

    With ``overrides`` the stored run must still be the one ``info`` was read with (same
    mechanism and parameters, so no override of another officer is lost).
    """
    result = result_frame(problem, allocation)
    time_s = np.full(problem.n_applicants, np.nan)
    rows_with = np.flatnonzero(allocation.choice_index >= 0)
    time_s[rows_with] = problem.time_s[rows_with, allocation.choice_index[rows_with]]
    records = [
        {"r": info.id, "a": row.applicant_id, "s": row.school_code or None,
         "k": None if pd.isna(row.choice_rank) else int(row.choice_rank),
         "d": None if np.isnan(row.distance_m) else float(row.distance_m),
         "t": None if np.isnan(t) else float(t), "vi": row.reason, "en": row.reason_en}
        for row, t in zip(result.itertuples(index=False), time_s, strict=True)
    ]
    provenance = allocation.provenance
    parameters = {"input_sha256": provenance.input_sha256, "code_version": provenance.code_version,
                  "mechanism_parameters": provenance.parameters, "mode": mode,
                  "distance_kind": problem.distance_kind, "overrides": overrides or [],
                  "max_offroad_m": max_offroad_m, **offroad_figures(problem, allocation)}

    def store(conn: Connection) -> None:
        row = lock_round(conn, info.id)
        if row.status == "published":
            raise RoundStateError(f"round {info.id} was published meanwhile")
        check_inputs_unchanged(conn, info.id, versions)
        if overrides is not None and (row.status != "run" or row.mechanism != info.mechanism
                                      or row.parameters != info.parameters):
            raise ConflictError(
                f"the run of round {info.id} changed meanwhile (another run or override was"
                " stored): nothing was stored; look at the new result and try again",
                f"kết quả của đợt {info.id} vừa thay đổi (một lần chạy hoặc điều chỉnh khác"
                " đã được lưu): chưa lưu gì; hãy xem kết quả mới rồi thử lại")
        conn.execute(sa.text("DELETE FROM allocations WHERE round_id = :r"), {"r": info.id})
        conn.execute(sa.text(
            "INSERT INTO allocations (round_id, applicant_id, school_code, choice_rank, distance_m,"
            " time_s, reason_vi, reason_en) VALUES (:r, :a, :s, :k, :d, :t, :vi, :en)"), records)
        conn.execute(sa.text(
            "UPDATE admission_rounds SET status = 'run', mechanism = :m,"
            " parameters = CAST(:p AS jsonb) WHERE id = :r"),
            {"r": info.id, "m": allocation.mechanism, "p": json.dumps(parameters)})
        if overrides:
            audit(conn, actor, "round.override", info.id, overrides[-1])
        else:
            audit(conn, actor, "round.run", info.id,
                  {"mechanism": allocation.mechanism, "seed": provenance.seed, **parameters})

    write_transaction(engine, store, what=f"run of round {info.id}")


def override_applicant(engine: Engine, round_id: str, applicant_id: str, school_code: str | None,
                       reason: str, actor: str, force: bool = False,
                       mode: str = "motorbike") -> dict[str, Any]:
    """Place (or withdraw) one applicant by an officer's decision with a written reason.

    The run is recomputed from its stored seed and checked against its stored input checksum
    (so an override never lands on changed inputs), earlier overrides are re-applied, then
    this one; the whole result is stored again in one transaction and audited.
    """
    from admissions.overrides import Override, apply_overrides

    info = get_round(engine, round_id)
    if info.status != "run":
        raise RoundStateError(f"round {round_id} is {info.status}; overrides need a run, "
                              "unpublished round")
    with engine.connect() as conn:
        versions = input_versions(conn, round_id)
    max_offroad_m = float(info.parameters.get("max_offroad_m", DEFAULT_MAX_OFFROAD_M))
    problem = load_problem(engine, round_id, mode, max_offroad_m=max_offroad_m)
    allocation = allocate(problem, mechanism_of_run(
        info.mechanism, info.parameters.get("mechanism_parameters")), info.seed)
    if allocation.provenance.input_sha256 != info.parameters.get("input_sha256"):
        raise RoundStateError(f"the inputs of round {round_id} changed since it was run; run it again")
    earlier = [Override(**o) for o in info.parameters.get("overrides", [])]
    new = Override(applicant_id, school_code, reason, force)
    overridden = apply_overrides(problem, allocation, [*earlier, new], label="override")
    _store(engine, info, problem, overridden, actor, mode, versions,
           overrides=[*info.parameters.get("overrides", []),
                      {"applicant_id": applicant_id, "school_code": school_code,
                       "reason": reason, "force": force}], max_offroad_m=max_offroad_m)
    return explain_applicant(engine, round_id, applicant_id)


@dataclass(frozen=True)
class Comparison:
    """Every mechanism on one input (nothing stored).

    ``table`` has one row per figure and one column per mechanism that could run;
    ``skipped`` names each mechanism that could not (``mincost`` needs homes) with why.
    """

    table: pd.DataFrame
    skipped: dict[str, str]


def compare_round(engine: Engine, round_id: str, mode: str = "motorbike",
                  max_offroad_m: float = DEFAULT_MAX_OFFROAD_M) -> Comparison:
    """Run every mechanism of :data:`~admissions.mechanisms.MECHANISMS` on the round's input.

    Each runs with its defaults and the round's seed; a mechanism that cannot run is left out
    of the table and named in :attr:`Comparison.skipped` with its reason.

    Raises
    ------
    NotFoundError
        When the round is unknown or has no applicants.
    ValueError
        When no mechanism can run on the input.
    """
    info = get_round(engine, round_id)
    problem = load_problem(engine, round_id, mode, max_offroad_m=max_offroad_m)
    results: dict[str, Allocation] = {}
    skipped: dict[str, str] = {}
    for name in MECHANISMS:
        try:
            results[name] = allocate(problem, mechanism_from(name), info.seed)
        except ValueError as error:
            skipped[name] = str(error)
    if not results:
        raise InvalidValueError("no mechanism applies: " + "; ".join(skipped.values()))
    return Comparison(comparison_table(problem, results), skipped)


def explain_applicant(engine: Engine, round_id: str, applicant_id: str) -> dict[str, Any]:
    """Return the stored outcome of one applicant with its reasons (officers only)."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT a.applicant_id, a.school_code, s.name AS school_name, a.choice_rank,"
            " a.distance_m, a.time_s, a.reason_vi, a.reason_en FROM allocations a"
            " LEFT JOIN schools s ON s.code = a.school_code"
            " WHERE a.round_id = :r AND a.applicant_id = :a"),
            {"r": round_id, "a": applicant_id}).one_or_none()
    if row is None:
        get_round(engine, round_id)
        raise NotFoundError(f"no result for applicant {applicant_id!r} in round {round_id}"
                            " (unknown applicant, or the round has not been run)")
    return row._asdict()


def publish_round(engine: Engine, round_id: str, actor: str = "system",
                  request_key: str | None = None) -> None:
    """Freeze a run round: no more imports, runs or overrides.

    A ``request_key`` already used (the form sent again after it published) changes nothing.
    """

    def publish(conn: Connection) -> None:
        if request_keys.claim(conn, request_key, actor, "round.publish", round_id) is not None:
            return
        row = lock_round(conn, round_id)  # an import or run in progress finishes first
        if row.status != "run":
            raise RoundStateError(f"round {round_id} is {row.status}; only a run round can be"
                                  " published")
        conn.execute(sa.text("UPDATE admission_rounds SET status = 'published' WHERE id = :r"),
                     {"r": round_id})
        audit(conn, actor, "round.publish", round_id,
              {"input_sha256": (row.parameters or {}).get("input_sha256")})

    write_transaction(engine, publish, what=f"publication of round {round_id}")


def results_frame(engine: Engine, round_id: str) -> pd.DataFrame:
    """Return the stored results as the output CSV contract (plus ``reason_en``, ``time_s``)."""
    get_round(engine, round_id)
    with engine.connect() as conn:
        result = conn.execute(sa.text(
            "SELECT applicant_id, coalesce(school_code, '') AS school_code, choice_rank,"
            " distance_m, reason_vi AS reason, reason_en, time_s FROM allocations"
            " WHERE round_id = :r ORDER BY applicant_id"), {"r": round_id})
        return pd.DataFrame(result.all(), columns=list(result.keys()))
