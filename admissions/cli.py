"""``edugis admissions ...``: run and compare mechanisms, on CSV files or stored rounds.

The rounds are stored in PostGIS (``--round``, through :mod:`admissions.service`).

:data:`app` is mounted under the main ``edugis`` command. Names given on the command line
(grade, mechanism, cost) are checked here against their :class:`typing.Literal` types and
parsed into mechanism objects (:func:`admissions.mechanisms.mechanism_from`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from admissions.names import CostKind, MechanismName
from gis_service.errors import InputError
from gis_service.levels import EntryGrade
from routing.speeds import DEFAULT_MAX_OFFROAD_M

if TYPE_CHECKING:
    import pandas as pd

    from admissions.distance import DistanceSource
    from admissions.mechanisms import Mechanism
    from admissions.problem import AdmissionProblem

# The implementation (numpy, pandas, scipy, numba) is imported inside the commands, so that
# ``edugis --help`` and the other commands start without it.

#: Default of ``--candidates``: :data:`admissions.files.DEFAULT_MAX_CHOICES` (the same value,
#: checked by a test; that module loads pandas).
DEFAULT_MAX_CHOICES = 10

app = typer.Typer(
    name="admissions",
    help="Allocate grade 1, 6 and 10 places (deferred acceptance, HCMC rank rounds, min-cost).",
    no_args_is_help=True,
)

GradeOption = Annotated[EntryGrade | None, typer.Option("--grade", help="File mode: entry grade 1, 6 or 10.")]
ApplicantsOption = Annotated[Path | None, typer.Option("--applicants", help="File mode: applicants CSV.")]
SchoolsOption = Annotated[Path | None, typer.Option("--schools", help="File mode: schools CSV.")]
RoundOption = Annotated[str | None, typer.Option("--round", help="Database mode: the round id.")]
ActorOption = Annotated[str, typer.Option("--actor", help="Who acts, for the audit log.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the tie-breaking lottery.")]
RoadsOption = Annotated[
    Path | None,
    typer.Option("--roads", help="Road file (OSM XML/PBF or GraphML) for road distances."),
]
ModeOption = Annotated[str, typer.Option("--mode", help="Travel mode for road distances.")]
PenaltiesOption = Annotated[
    str | None,
    typer.Option("--penalties", help="hcmc, grade 10: score penalty per choice rank, e.g. 0,1,2."),
]
CostOption = Annotated[
    CostKind | None,
    typer.Option("--cost", help="mincost: minimise total distance_m (default) or time_s."),
]
CandidatesOption = Annotated[
    int, typer.Option("--candidates", help="Grades 1/6: length of the nearest-first list.")
]
MaxOffroadOption = Annotated[float, typer.Option(
    "--max-offroad-m", min=0.0,
    help="With road distances: a home farther than this from every road of the mode gets "
         "straight-line distances at the mode's off-road speed, is flagged in its reason and "
         "counted (offroad_homes), instead of stopping the run.")]
DiscardRunOption = Annotated[bool, typer.Option(
    "--discard-run", help="The round has been run: discard its stored result (allocations and "
                          "officer overrides) with this import. Refused without it.")]


def _distance_source(
    schools: pd.DataFrame, grade: int, roads: Path | None, mode: str,
    max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
) -> DistanceSource:
    import numpy as np

    from admissions.distance import StraightLine
    from admissions.files import admitting_schools

    admitting = admitting_schools(schools, grade)
    if roads is not None:
        from admissions.road_distance import road_distances

        return road_distances(roads, admitting, mode, max_offroad_m)
    return StraightLine(
        admitting["lon"].to_numpy(dtype=np.float64), admitting["lat"].to_numpy(dtype=np.float64)
    )


def _load(
    grade: EntryGrade, applicants: Path, schools: Path, roads: Path | None, mode: str,
    candidates: int, max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
) -> AdmissionProblem:
    from admissions.files import build_problem, read_applicants, read_schools

    school_frame = read_schools(schools)
    applicant_frame = read_applicants(applicants, grade, school_frame)
    source = _distance_source(school_frame, grade, roads, mode, max_offroad_m)
    return build_problem(
        applicant_frame, school_frame, grade, source, candidates, schools_label=schools.name
    )


def _file_mode(
    grade: EntryGrade | None, applicants: Path | None, schools: Path | None
) -> tuple[EntryGrade, Path, Path]:
    if grade is None or applicants is None or schools is None:
        raise typer.BadParameter("give --round R (database) or --grade, --applicants and --schools")
    return grade, applicants, schools


def _penalties(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise typer.BadParameter(f"not a list of numbers: {text!r}") from error


def _mechanism(name: str, penalties: str | None, cost: str | None) -> Mechanism:
    """Return the mechanism ``name`` with the options given.

    An option of another mechanism is a bad parameter.
    """
    from admissions.mechanisms import mechanism_from

    try:
        return mechanism_from(name, penalties=_penalties(penalties), cost=cost)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--mechanism") from error


def _fail(error: InputError) -> None:
    typer.echo(str(error), err=True)
    raise typer.Exit(code=2)


def _refuse_discard(error: Exception) -> None:
    """Refuse an import that would discard a stored run without ``--discard-run``: say what."""
    typer.echo(f"error: {error}\n(pass --discard-run to import and discard the run)", err=True)
    raise typer.Exit(code=2) from error


@app.command()
def run(
    grade: GradeOption = None,
    applicants: ApplicantsOption = None,
    schools: SchoolsOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Result CSV.")] = None,
    mechanism: Annotated[MechanismName | None, typer.Option(
        "--mechanism", help="da, hcmc or mincost (database mode: the round's by default).")] = None,
    seed: SeedOption = 0,
    roads: RoadsOption = None,
    mode: ModeOption = "motorbike",
    penalties: PenaltiesOption = None,
    cost: CostOption = None,
    candidates: CandidatesOption = DEFAULT_MAX_CHOICES,
    round_: RoundOption = None,
    actor: ActorOption = "cli",
    after: Annotated[str | None, typer.Option(
        "--after", help="Database mode, round 2: the published round whose seats are taken.")] = None,
    max_offroad_m: MaxOffroadOption = DEFAULT_MAX_OFFROAD_M,
) -> None:
    """Allocate with one mechanism; write the result CSV and print a JSON summary.

    With ``--round R`` the round stored in the database is run and its result stored;
    otherwise ``--grade``, ``--applicants``, ``--schools`` and ``--out`` name the files.
    ``--max-offroad-m`` is stored with the run (overrides recompute it with the same value).
    """
    if round_ is not None:
        from admissions import service
        from gis_service.csv_cells import write_frame
        from gis_service.db import get_engine

        engine = get_engine()
        if mechanism is None and (penalties is not None or cost is not None):
            raise typer.BadParameter("--penalties and --cost need --mechanism",
                                     param_hint="--mechanism")
        chosen = None if mechanism is None else _mechanism(mechanism, penalties, cost)
        figures = service.run_round(engine, round_, chosen, actor=actor, mode=mode,
                                    after=after, max_offroad_m=max_offroad_m)
        if out is not None:
            write_frame(service.results_frame(engine, round_), out)
        json.dump(figures, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    grade, applicants, schools = _file_mode(grade, applicants, schools)
    if out is None:
        raise typer.BadParameter("file mode needs --out", param_hint="--out")
    from admissions.allocation import allocate
    from admissions.explain import offroad_figures, result_frame
    from admissions.metrics import summary
    from gis_service.csv_cells import write_frame

    chosen = _mechanism(mechanism or "da", penalties, cost)
    try:
        problem = _load(grade, applicants, schools, roads, mode, candidates, max_offroad_m)
        allocation = allocate(problem, chosen, seed)
    except InputError as error:
        _fail(error)
        return
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    write_frame(result_frame(problem, allocation), out)
    figures = summary(problem, allocation)
    if roads is not None:
        figures |= {"max_offroad_m": max_offroad_m, **offroad_figures(problem, allocation)}
    if problem.distance_kind == "straight_line":
        figures["note"] = "distances are straight-line (no --roads given), not road distances"
    json.dump(figures, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


@app.command()
def compare(
    grade: GradeOption = None,
    applicants: ApplicantsOption = None,
    schools: SchoolsOption = None,
    seed: SeedOption = 0,
    roads: RoadsOption = None,
    mode: ModeOption = "motorbike",
    penalties: PenaltiesOption = None,
    candidates: CandidatesOption = DEFAULT_MAX_CHOICES,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the table as CSV.")
    ] = None,
    round_: RoundOption = None,
    max_offroad_m: MaxOffroadOption = DEFAULT_MAX_OFFROAD_M,
) -> None:
    """Run every mechanism on the same input and print a comparison table."""
    if round_ is not None:
        from admissions import service
        from gis_service.csv_cells import write_frame
        from gis_service.db import get_engine

        comparison = service.compare_round(get_engine(), round_, mode, max_offroad_m)
        typer.echo(comparison.table.to_string())
        for name, why in comparison.skipped.items():
            typer.echo(f"{name} skipped: {why}")
        if out is not None:
            write_frame(comparison.table, out, index=True)
        return
    from admissions.allocation import Allocation, allocate
    from admissions.mechanisms import DeferredAcceptance, MinCost, RankRounds
    from admissions.metrics import comparison_table
    from gis_service.csv_cells import write_frame

    grade, applicants, schools = _file_mode(grade, applicants, schools)
    try:
        problem = _load(grade, applicants, schools, roads, mode, candidates, max_offroad_m)
    except InputError as error:
        _fail(error)
        return
    results: dict[str, Allocation] = {
        "da": allocate(problem, DeferredAcceptance(), seed),
        "hcmc": allocate(problem, RankRounds(), seed),
    }
    if penalties is not None:
        results["hcmc_penalised"] = allocate(problem, RankRounds(_penalties(penalties)), seed)
    skipped = ""
    try:
        results["mincost"] = allocate(problem, MinCost(), seed)
    except ValueError as error:
        skipped = f"mincost skipped: {error}"
    table = comparison_table(problem, results)
    typer.echo(f"input sha256 {results['da'].provenance.input_sha256}  seed {seed}  "
               f"distances: {problem.distance_kind.replace('_', '-')}")
    typer.echo(table.to_string())
    if skipped:
        typer.echo(skipped)
    if out is not None:
        write_frame(table, out, index=True)


@app.command("create-round")
def create_round(
    round_id: Annotated[str, typer.Argument(help="Round id, e.g. 2026-g10.")],
    grade: Annotated[EntryGrade, typer.Option("--grade", help="1, 6 or 10.")],
    year: Annotated[int, typer.Option("--year", help="School year of entry.")],
    mechanism: Annotated[MechanismName, typer.Option("--mechanism", help="da, hcmc or mincost.")] = "da",
    seed: SeedOption = 0,
    actor: ActorOption = "cli",
) -> None:
    """Create a draft admission round in the database."""
    from admissions import service
    from gis_service.db import get_engine

    info = service.create_round(get_engine(), round_id, grade, year, mechanism, seed, actor)
    typer.echo(f"round {info.id} created: grade {info.grade}, {info.year}, {info.mechanism}, draft")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Applicants CSV.")],
    round_: Annotated[str, typer.Option("--round", help="The round id.")],
    actor: ActorOption = "cli",
    discard_run: DiscardRunOption = False,
) -> None:
    """Load applicants into an unpublished round (replacing earlier ones).

    Bad rows store nothing. A round that has been run keeps its result unless
    ``--discard-run`` is given.
    """
    from admissions import service
    from admissions.round_inputs import RunDiscardError
    from gis_service.db import get_engine

    try:
        count = service.import_applicants(get_engine(), round_, file, actor, discard_run)
    except RunDiscardError as error:
        _refuse_discard(error)
        return
    typer.echo(f"{count} applicants imported into round {round_}"
               + (" (a stored run, if any, was discarded)" if discard_run else ""))


@app.command()
def explain(
    applicant: Annotated[str, typer.Argument(help="Applicant id.")],
    round_: Annotated[str, typer.Option("--round", help="The round id.")],
) -> None:
    """Print one applicant's result and its reason (Vietnamese, then English)."""
    from admissions import service
    from gis_service.db import get_engine

    result = service.explain_applicant(get_engine(), round_, applicant)
    school = result["school_code"] or "—"
    typer.echo(f"{result['applicant_id']}: {school} (NV/rank {result['choice_rank']}, "
               f"{result['distance_m']} m)")
    typer.echo(result["reason_vi"])
    typer.echo(result["reason_en"])


@app.command()
def publish(
    round_: Annotated[str, typer.Option("--round", help="The round id.")],
    actor: ActorOption = "cli",
) -> None:
    """Freeze a run round: no more imports or runs."""
    from admissions import service
    from gis_service.db import get_engine

    service.publish_round(get_engine(), round_, actor)
    typer.echo(f"round {round_} published")


@app.command()
def override(
    applicant: Annotated[str, typer.Argument(help="Applicant id.")],
    round_: Annotated[str, typer.Option("--round", help="The round id.")],
    reason: Annotated[str, typer.Option("--reason", help="Written reason (required).")],
    school: Annotated[
        str | None, typer.Option("--school", help="School code; omit to withdraw the placement.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Allow a school with no seat left.")] = False,
    actor: ActorOption = "cli",
) -> None:
    """Record an officer's decision for one applicant, with its reason (audited)."""
    from admissions import service
    from gis_service.db import get_engine

    result = service.override_applicant(get_engine(), round_, applicant, school, reason, actor, force)
    typer.echo(f"{result['applicant_id']}: {result['school_code'] or '—'}")
    typer.echo(result["reason_vi"])
    typer.echo(result["reason_en"])


catchments_app = typer.Typer(help="Catchments of grade 1/6 schools (địa bàn tuyển sinh).",
                             no_args_is_help=True)
app.add_typer(catchments_app, name="catchments")
LevelArgument = Annotated[str, typer.Option("--level", help="primary, lower_secondary or all.")]


@catchments_app.command("derive")
def catchments_derive(level: LevelArgument = "all", mode: ModeOption = "motorbike",
                      actor: ActorOption = "cli") -> None:
    """Derive catchments from wards and road times, replacing the stored ones of the level.

    Each public school serves its own ward; a ward without one is served by the school
    nearest by road.
    """
    from admissions.catchments import GRADE_OF_LEVEL, derive_catchments
    from gis_service.db import get_engine

    for chosen in (GRADE_OF_LEVEL if level == "all" else [level]):
        rows = derive_catchments(get_engine(), chosen, mode, actor)
        typer.echo(f"{chosen}: {rows['school_code'].nunique()} schools serve "
                   f"{rows['ward_code'].nunique()} wards ({len(rows)} pairs)")


@catchments_app.command("import")
def catchments_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="CSV school_code,ward_code (the education "
                                              "authority's list by wards of today; former wards "
                                              "are carried over through admin_mapping).")],
    actor: ActorOption = "cli",
) -> None:
    """Store the official catchments of the schools named in the file (replacing theirs)."""
    from admissions.catchments import import_catchments
    from gis_service.db import get_engine

    rows = import_catchments(get_engine(), file, actor)
    typer.echo(f"{len(rows)} catchment rows stored for {rows['school_code'].nunique()} schools")


@app.command("grant")
def grant(
    round_id: Annotated[str, typer.Argument(help="The round id.")],
    username: Annotated[str, typer.Argument(help="An officer's login name.")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Remove the officer instead.")] = False,
    actor: ActorOption = "cli",
) -> None:
    """Let an officer see and act on a round's applicants (or, with --revoke, stop it)."""
    from admissions import service
    from gis_service.db import get_engine

    service.grant_round(get_engine(), round_id, username, actor, revoke)
    officers = service.round_officers(get_engine(), round_id)
    typer.echo(f"officers of {round_id}: {', '.join(officers) or '(none)'}")


@app.command("capacities")
def capacities(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="CSV school_code,capacity.")],
    round_: Annotated[str, typer.Option("--round", help="The round id.")],
    actor: ActorOption = "cli",
    discard_run: DiscardRunOption = False,
) -> None:
    """Set an unpublished round's places per school (overriding the schools' stored capacity).

    A round that has been run keeps its result unless ``--discard-run`` is given.
    """
    from admissions.round_capacities import import_capacities
    from admissions.round_inputs import RunDiscardError
    from gis_service.db import get_engine

    try:
        count = import_capacities(get_engine(), round_, file, actor, discard_run)
    except RunDiscardError as error:
        _refuse_discard(error)
        return
    typer.echo(f"places of {count} schools stored for round {round_}"
               + (" (a stored run, if any, was discarded)" if discard_run else ""))


@app.command("check-addresses")
def check_addresses(
    round_: Annotated[str, typer.Option("--round", help="The round id.")],
    tolerance_m: Annotated[float, typer.Option(
        help="Flag a home this many metres or more outside its declared ward.")] = 50.0,
    shared_limit: Annotated[int, typer.Option(
        help="Flag homes shared by more applicants than this.")] = 4,
    out: Annotated[Path | None, typer.Option("--out", help="Write the flags as CSV here.")] = None,
    actor: ActorOption = "cli",
) -> None:
    """Flag applicants whose home lies outside their declared ward or is shared by many.

    The flags are for an officer to check; the allocation is not changed.
    """
    from admissions.address_checks import CheckLimits, address_flags, ward_check_note
    from admissions.rounds import get_round
    from gis_service.audit import audit
    from gis_service.csv_cells import write_frame
    from gis_service.db import get_engine

    engine = get_engine()
    get_round(engine, round_)  # an unknown round is an error, not "no flags"
    flags = address_flags(engine, round_, CheckLimits(tolerance_m, shared_limit))
    with engine.begin() as conn:
        audit(conn, actor, "check_addresses", round_, {"flags": len(flags)})
    if out is not None:
        write_frame(flags, out)
    counts = flags["check"].value_counts()
    typer.echo(f"round {round_}: {len(flags)} flag(s): "
               f"{int(counts.get('ward_mismatch', 0))} home(s) outside the declared ward by more "
               f"than {tolerance_m:g} m, {int(counts.get('shared_home', 0))} at a home shared by "
               f"more than {shared_limit} applicants" + (f"; written to {out}" if out else ""))
    note = ward_check_note(engine)
    if note is not None:
        typer.echo(f"{note[0]} / {note[1]}")
    if out is None:
        for row in flags.itertuples(index=False):
            typer.echo(f"{row.applicant_id}\t{row.check}\t{row.reason_vi}")
