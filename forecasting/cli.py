"""The ``edugis forecast ...`` and ``edugis plan ...`` commands: :data:`forecast_app`, :data:`plan_app`.

:mod:`web.cli` mounts them under the main command.

With the CSV options a command reads files and writes ``--out`` (file mode); without them
``forecast enrolment``, ``plan gaps`` and ``plan sites`` read the database through
:mod:`forecasting.service` and store their results there. Input errors exit with code 2 and
name the file, row and field; an unknown model, level, method or decay exits with code 2
naming the allowed values.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from forecasting.streaming_cli import streaming_command
from forecasting.vocabulary import Decay, ForecastMethod, ModelName, SitingMethod
from gis_service.errors import InputError, Problem
from gis_service.levels import GeneralLevelName

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.enrolment import EnrolmentData

# The implementation (pandas, scikit-learn, OR-Tools) is imported inside the commands, so that
# ``edugis --help`` and the other commands start without it.

forecast_app = typer.Typer(
    name="forecast",
    help="Forecast enrolment by ward and level, and grade-10 cut-offs; backtest them.",
    no_args_is_help=True,
)
plan_app = typer.Typer(
    name="plan",
    help="Capacity gaps (2SFCA) and new-school siting (p-median, maximal coverage).",
    no_args_is_help=True,
)

#: Above this many demand x candidate pairs, ``--method auto`` runs only the heuristic.
EXACT_AUTO_MAX_PAIRS = 1_000_000

PopulationOption = Annotated[
    Path | None, typer.Option("--population", help="ward_code,year,age,count CSV (omit: database).")
]
BirthsOption = Annotated[Path | None, typer.Option("--births", help="ward_code,year,births CSV.")]
EnrolmentOption = Annotated[
    Path | None, typer.Option("--enrolment", help="(ward_code|school_code),year,grade,count CSV.")
]
LevelOption = Annotated[GeneralLevelName, typer.Option("--level", help="Database mode: school level.")]
YearOption = Annotated[int | None, typer.Option("--year", help="Database mode: forecast year.")]
SchoolWardsOption = Annotated[
    Path | None, typer.Option("--school-wards", help="school_code,ward_code CSV (school-level input).")
]
AreasOption = Annotated[Path | None, typer.Option("--ward-areas", help="ward_code,area_km2 CSV.")]


def _fail(error: Exception) -> NoReturn:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=2) from error


def _write(frame: pd.DataFrame, out: Path) -> None:
    """Write ``frame`` to the ``--out`` file, its text cells safe to open in a spreadsheet."""
    from gis_service.csv_cells import write_frame

    write_frame(frame, out)


def _read(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.exists():
        raise InputError(Problem(str(path), None, None, "file not found"))
    return pd.read_csv(path, encoding="utf-8", dtype={"ward_code": str, "school_code": str,
                                                      "origin_id": str, "site_id": str, "code": str})


def _enrolment_data(
    population: Path, births: Path, enrolment: Path, school_wards: Path | None, ward_areas: Path | None
) -> EnrolmentData:
    from forecasting.enrolment import EnrolmentData, ward_enrolment

    wards = _read(school_wards) if school_wards is not None else None
    areas = None
    if ward_areas is not None:
        frame = _read(ward_areas)
        areas = frame.set_index(frame["ward_code"].astype(str))["area_km2"].astype(float)
    return EnrolmentData(
        _read(population), _read(births), ward_enrolment(_read(enrolment), wards), areas
    )


@forecast_app.command("enrolment")
def enrolment_command(
    population: PopulationOption = None,
    births: BirthsOption = None,
    enrolment: EnrolmentOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Forecast CSV.")] = None,
    horizon: Annotated[int, typer.Option("--horizon", help="Years ahead (1-10).")] = 10,
    method: Annotated[
        ForecastMethod,
        typer.Option("--method", help="auto (backtest winner per level), cohort, challenger, naive."),
    ] = "auto",
    backtest_horizon: Annotated[
        int, typer.Option("--backtest-horizon", help="Longest horizon backtested for the intervals.")
    ] = 5,
    school_wards: SchoolWardsOption = None,
    ward_areas: AreasOption = None,
) -> None:
    """Forecast entry-grade and total enrolment per ward and level, with 80 % intervals.

    Without the CSV options, reads the database and stores the forecast there for the maps.
    """
    if population is None and births is None and enrolment is None:
        from forecasting import service
        from gis_service.db import get_engine

        result, report = service.forecast_and_store(get_engine(), horizon)
        if out is not None:
            _write(result, out)
        for line in report.lines():
            typer.echo(line)
        typer.echo(f"{len(result)} forecast rows stored in enrolment_forecasts")
        return
    if population is None or births is None or enrolment is None or out is None:
        raise typer.BadParameter("file mode needs --population, --births, --enrolment and --out")
    from forecasting.backtest import forecast_enrolment, run_backtest
    from gis_service.levels import LEVELS

    try:
        data = _enrolment_data(population, births, enrolment, school_wards, ward_areas)
        report = run_backtest(data, max_horizon=backtest_horizon)
        forced: dict[str, str] | None = (
            None if method == "auto" else {level.name: method for level in LEVELS}
        )
        result = forecast_enrolment(data, horizon, report, forced)
    except (InputError, ValueError) as error:
        _fail(error)
    _write(result, out)
    for line in report.lines():
        typer.echo(line)
    if forced:
        typer.echo(f"method forced by --method: {method}")


@forecast_app.command("cutoffs")
def cutoffs_command(
    history: Annotated[Path, typer.Option("--history", help="school_name,year,cutoff_score CSV.")],
    year: Annotated[int, typer.Option("--year", help="Year to forecast.")],
    out: Annotated[Path, typer.Option(
        "--out", help="school_name,year,predicted_cutoff,lower,upper CSV, with horizon, model,"
                      " nominal_coverage, backtest_coverage and backtest_n.")],
    coverage: Annotated[float, typer.Option("--coverage", help="Interval coverage.")] = 0.8,
) -> None:
    """Forecast each school's grade-10 NV1 cut-off (regular programme) with an interval.

    The yearly-level model and the interval come from a rolling-origin backtest of the
    history; the band's coverage in that backtest is printed and written next to it.
    """
    from forecasting.cutoffs import forecast_cutoffs

    try:
        forecast = forecast_cutoffs(_read(history), year, coverage)
    except (InputError, ValueError) as error:
        _fail(error)
    _write(forecast, out)
    first = forecast.iloc[0]
    measured = (f"{first['backtest_coverage']:.1%} of {first['backtest_n']} school-years"
                if first["backtest_n"] else "not measured (a single history year)")
    typer.echo(f"{len(forecast)} schools forecast for {year} ({first['horizon']} year(s) ahead,"
               f" level model {first['model']}): {coverage:.0%} bands ±"
               f"{(forecast['upper'] - forecast['lower']).median() / 2:.2f},"
               f" backtest coverage {measured}")


@forecast_app.command("backtest")
def backtest_command(
    population: Annotated[Path | None, typer.Option("--population", help="Population CSV.")] = None,
    births: Annotated[Path | None, typer.Option("--births", help="Births CSV.")] = None,
    enrolment: Annotated[Path | None, typer.Option("--enrolment", help="Enrolment CSV.")] = None,
    school_wards: SchoolWardsOption = None,
    ward_areas: AreasOption = None,
    max_horizon: Annotated[int, typer.Option("--max-horizon", help="Longest horizon.")] = 5,
    cutoffs: Annotated[
        Path | None, typer.Option("--cutoffs", help="Backtest cut-offs from this history instead.")
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="Held-out cut-off year.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Scores CSV.")] = None,
) -> None:
    """Rolling-origin backtest of enrolment methods (MAPE at 1, 3, 5 years) or of cut-offs.

    For cut-offs: MAE per level model and horizon, the model chosen, each horizon's band
    and its leave-one-school-out coverage, then the held-out ``--year`` against last value.
    """
    from forecasting.backtest import run_backtest
    from forecasting.cutoffs import backtest_cutoffs, calibrate_cutoffs

    try:
        if cutoffs is not None:
            history = _read(cutoffs)
            held_out = year if year is not None else int(history["year"].max())
            for line in calibrate_cutoffs(history, max_horizon).lines():
                typer.echo(line)
            result = backtest_cutoffs(history, held_out)
            typer.echo(f"cut-off MAE model: {result.mae_model:.3f}")
            typer.echo(f"cut-off MAE last value: {result.mae_last_value:.3f}")
            typer.echo(f"ratio model/last value: {result.ratio_to_baseline:.3f}")
            typer.echo(f"held-out {held_out} interval coverage: {result.interval_coverage:.3f}"
                       f" ({result.n_schools} schools)")
            if out is not None:
                _write(result.predictions, out)
            return
        if population is None or births is None or enrolment is None:
            raise typer.BadParameter("give --population, --births and --enrolment, or --cutoffs")
        data = _enrolment_data(population, births, enrolment, school_wards, ward_areas)
        report = run_backtest(data, max_horizon=max_horizon)
    except (InputError, ValueError) as error:
        if isinstance(error, typer.BadParameter):
            raise
        _fail(error)
    for line in report.lines():
        typer.echo(line)
    if out is not None:
        _write(report.scores, out)


@plan_app.command("gaps")
def gaps_command(
    demand: Annotated[Path | None, typer.Option("--demand", help="ward_code,demand CSV.")] = None,
    schools: Annotated[
        Path | None, typer.Option("--schools", help="Schools CSV (school_code or code).")
    ] = None,
    times: Annotated[
        Path | None,
        typer.Option("--times", help="origin_id,school_code,time_s CSV (e.g. route nearest output)."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Gap table CSV.")] = None,
    level: LevelOption = "primary",
    year: YearOption = None,
    minutes: Annotated[float, typer.Option("--minutes", help="Catchment in minutes.")] = 15.0,
    seats_column: Annotated[
        str, typer.Option("--seats-column", help="Column of seats, e.g. capacity_grade10.")
    ] = "seats",
    decay: Annotated[Decay, typer.Option("--decay", help="binary or gaussian.")] = "binary",
) -> None:
    """Seats within reach per ward (2SFCA) against demand; largest shortfall first.

    Without the CSV options: stored forecast demand of ``--level`` in ``--year`` against the
    schools' entry seats within ``--minutes`` by motorbike on the imported roads; stored.
    """
    if demand is None and schools is None and times is None:
        from forecasting import service
        from gis_service.db import get_engine

        if year is None:
            raise typer.BadParameter("database mode needs --year", param_hint="--year")
        table = service.gaps_and_store(get_engine(), level, year, minutes)
        if out is not None:
            _write(table, out)
        typer.echo(f"{len(table)} wards; shortfall {table['shortfall_seats'].sum():.0f} seats of "
                   f"demand {table['demand'].sum():.0f} within {minutes:g} min (stored)")
        return
    if demand is None or schools is None or times is None or out is None:
        raise typer.BadParameter("file mode needs --demand, --schools, --times and --out")
    from forecasting.accessibility import capacity_gaps

    try:
        school_frame = _read(schools)
        if "school_code" not in school_frame.columns and "code" in school_frame.columns:
            school_frame = school_frame.rename(columns={"code": "school_code"})
        if seats_column not in school_frame.columns:
            raise InputError(Problem(str(schools), None, seats_column, "seats column is missing"))
        school_frame = school_frame.assign(seats=school_frame[seats_column].fillna(0.0))
        table = capacity_gaps(_read(demand), school_frame, _read(times), minutes, decay)
    except (InputError, ValueError) as error:
        _fail(error)
    _write(table, out)
    typer.echo(
        f"{len(table)} wards; shortfall {table['shortfall_seats'].sum():.0f} seats "
        f"of demand {table['demand'].sum():.0f} within {minutes:g} min"
    )


@plan_app.command("sites")
def sites_command(
    demand: Annotated[Path | None, typer.Option("--demand", help="ward_code,demand CSV.")] = None,
    candidate_times: Annotated[
        Path | None, typer.Option("--candidate-times", help="origin_id,site_id,time_s CSV.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Chosen sites CSV.")] = None,
    level: LevelOption = "primary",
    year: YearOption = None,
    what_if_round: Annotated[
        str | None, typer.Option("--what-if-round", help="Database mode: rerun this round with the sites.")
    ] = None,
    p: Annotated[int, typer.Option("--p", help="Number of new schools.")] = 5,
    model: Annotated[ModelName, typer.Option("--model", help="p_median or max_coverage.")] = "p_median",
    minutes: Annotated[float, typer.Option("--minutes", help="Coverage threshold.")] = 15.0,
    existing_times: Annotated[
        Path | None, typer.Option("--existing-times", help="origin_id,school_code,time_s CSV.")
    ] = None,
    method: Annotated[SitingMethod, typer.Option("--method", help="auto, exact or heuristic.")] = "auto",
    time_limit: Annotated[float, typer.Option("--time-limit", help="Exact solver limit, s.")] = 60.0,
) -> None:
    """Choose p new school sites; print coverage and mean time before and after as JSON.

    Without the CSV options: road nodes of the under-served wards (from ``plan gaps``) are the
    candidates, stored forecast demand the weights; the sites are stored, and
    ``--what-if-round`` reruns that admission round with them added as schools.
    """
    if demand is None and candidate_times is None:
        from forecasting import service
        from gis_service.db import get_engine

        if year is None:
            raise typer.BadParameter("database mode needs --year", param_hint="--year")
        engine = get_engine()
        run = service.sites_and_store(engine, level, year, p, minutes, model)
        typer.echo(f"run {run.run_id} ({run.method}); sites:")
        typer.echo(run.sites.to_string(index=False))
        typer.echo(run.summary.to_string(index=False))
        if what_if_round is not None:
            typer.echo(service.what_if_sites(engine, run.run_id, what_if_round).to_string(index=False))
        return
    if demand is None or candidate_times is None or out is None:
        raise typer.BadParameter("file mode needs --demand, --candidate-times and --out")
    import numpy as np
    import pandas as pd

    from forecasting.siting import (
        SitingProblem,
        best_of,
        siting_model,
        siting_summary,
        solve_exact,
        solve_heuristic,
    )

    threshold_s = minutes * 60.0
    siting = siting_model(model, p, threshold_s)
    try:
        existing = _read(existing_times) if existing_times is not None else None
        problem = SitingProblem.from_long(_read(demand), _read(candidate_times), existing)
        heuristic = solve_heuristic(problem, siting)
        result = heuristic
        exact = None
        pairs = problem.time_s.size
        if method == "exact" or (method == "auto" and pairs <= EXACT_AUTO_MAX_PAIRS):
            exact = solve_exact(problem, siting, time_limit)
            result = best_of(siting, exact, heuristic)
    except (InputError, ValueError) as error:
        _fail(error)
    _write(pd.DataFrame(
        {
            "site_id": [problem.candidate_ids[int(j)] for j in result.sites],
            "model": siting.name,
            "method": result.method,
        }
    ), out)
    summary = siting_summary(problem, result.sites, threshold_s).set_index("scenario")
    figures: dict[str, Any] = {
        "model": siting.name,
        "method": result.method,
        "objective": result.objective,
        "heuristic_objective": heuristic.objective,
        "exact_bound": None if exact is None else exact.bound,
        "proven_optimal": None if exact is None else exact.proven_optimal,
        "heuristic_gap_to_bound": None
        if exact is None or exact.bound is None
        else abs(heuristic.objective - exact.bound) / max(abs(exact.bound), 1e-12),
    }
    for scenario in ("before", "after"):
        for column in ("covered_share", "mean_time_s"):
            value = float(summary.loc[scenario, column])
            figures[f"{column}_{scenario}"] = None if np.isnan(value) else value
    json.dump(figures, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


# ---- edugis import cutoffs / population / enrolment / capacities ------------------------------

MapOption = Annotated[list[str] | None, typer.Option(
    "--map", help="'name=code': match this name to this code (repeatable).")]
ImportFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="input CSV file")]


def import_cutoffs_command(
    file: ImportFile,
    mapping: MapOption = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="CSV of the names not matched, with candidates (default: "
        "<file>_unmatched.csv beside the file, or in the working directory when that is read-only)."
    )] = None,
    strict: Annotated[bool, typer.Option(
        help="refuse the whole file when any name is unmatched or ambiguous")] = False,
) -> None:
    """Import grade-10 cut-offs by school name (diacritics folded, THPT/Trường dropped).

    CSV: school_name,year,cutoff_score[,district_section,admission_round,program,max_score].
    Matched rows are stored in one transaction; names not matched are listed in the report
    file and not stored (exit code 0, counts printed) unless --strict.
    """
    from forecasting._import_rows import report_path
    from forecasting._matching import parse_overrides
    from forecasting.cutoff_import import import_cutoffs
    from gis_service.db import get_engine

    done = import_cutoffs(get_engine(), file, parse_overrides(mapping or []),
                          report_path(report, file, "_unmatched.csv"), strict)
    typer.echo(done.report.summary())


def import_population_command(
    file: ImportFile,
    year: Annotated[int | None, typer.Option(
        help="the year of every row (files without a year column)")] = None,
    count_column: Annotated[str, typer.Option(help="the column holding the counts")] = "count",
    mapping: MapOption = None,
    skip_invalid: Annotated[bool, typer.Option(help="store the good rows and report the bad ones")] = False,
) -> None:
    """Import population by ward or district, with or without age, as ward x single age.

    CSV: a unit column (ward_code, district_code, code, ward_name, district_name or name),
    year, count [, age | age_from, age_to]. District totals go to wards by the length of
    residential streets of the basemap in use (by area where that is missing), ages by the
    2019 national age structure; each row's method is stored with it.
    """
    from forecasting._matching import parse_overrides
    from forecasting.population_import import PopulationFile, import_population
    from gis_service.db import get_engine

    report = import_population(get_engine(), PopulationFile(file, year, count_column),
                               parse_overrides(mapping or []), skip_invalid)
    typer.echo(report.summary())
    for problem in report.problems:
        typer.echo(f"  skipped: {problem}", err=True)


def import_enrolment_command(file: ImportFile) -> None:
    """Import enrolment history (CSV: school_code,year,grade,headcount), one transaction."""
    from forecasting.school_tables import import_enrolment
    from gis_service.db import get_engine

    typer.echo(import_enrolment(get_engine(), file).summary())


def import_capacities_command(file: ImportFile) -> None:
    """Import entry-grade places per school (CSV: school_code,grade|level,capacity).

    grade is 1, 6 or 10, level primary, lower_secondary or upper_secondary; the places go to
    the school's capacity_grade1/6/10.
    """
    from forecasting.school_tables import import_capacities
    from gis_service.db import get_engine

    typer.echo(import_capacities(get_engine(), file).summary())


def add_import_commands(import_app: typer.Typer) -> None:
    """Add the imports forecasting reads (cut-offs, population, enrolment, capacities) to ``import_app``.

    :mod:`web.cli` calls it on ``edugis import``, whose other commands live in
    :mod:`basemaps.cli` (which may not import forecasting).
    """
    import_app.command("cutoffs")(import_cutoffs_command)
    import_app.command("population")(import_population_command)
    import_app.command("enrolment")(import_enrolment_command)
    import_app.command("capacities")(import_capacities_command)


forecast_app.command("streaming")(streaming_command)
