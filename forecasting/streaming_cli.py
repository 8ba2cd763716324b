"""``edugis forecast streaming``: streaming after grade 9 from the database (issue 15).

Registered on ``edugis forecast`` by :mod:`forecasting.cli`; the implementation is imported
inside the command so ``edugis --help`` stays light (``tests/test_cli_startup.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_service.errors import EdugisError

if TYPE_CHECKING:
    from forecasting.streaming_service import StreamingForecast


def streaming_command(
    year: Annotated[int, typer.Option("--year", help="Admission year (grade 10 starts then).")],
    threshold_min: Annotated[float, typer.Option(
        "--threshold-min", help="Largest travel time to a school, minutes (1-120).")] = 15.0,
    mode: Annotated[str, typer.Option("--mode", help="Travel mode of the road times.")] = "motorbike",
    out: Annotated[Path | None, typer.Option("--out", help="CSV, one row per ward.")] = None,
    scenario: Annotated[str | None, typer.Option(
        "--scenario", help="A stored transport scenario: its network, next to the base.")] = None,
) -> None:
    """Forecast grade-9 leavers per ward, public grade-10 seats in reach, and the remainder.

    The remainder needs a private school, a vocational or continuing-education centre
    (GDNN-GDTX) or a trade school; the places of those within the threshold are shared
    among the wards' remainders. With ``--scenario`` the same on the scenario's network, the
    base network's figures next to it. Reads the database; stores nothing.
    """
    from forecasting.streaming import compare_streaming
    from forecasting.streaming_service import scenario_times, streaming_forecast
    from gis_service.csv_cells import write_frame
    from gis_service.db import get_engine

    engine = get_engine()
    try:
        result = streaming_forecast(engine, year, threshold_min, mode=mode)
        changed = (streaming_forecast(engine, year, threshold_min, mode=mode,
                                      travel_times=scenario_times(engine, scenario, mode))
                   if scenario else None)
    except (EdugisError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    _say("base network", result, mode)
    wards = result.wards
    if changed is not None:
        _say(f"scenario {scenario}", changed, mode)
        wards = compare_streaming(result.wards, changed.wards)
        typer.echo(f"public seats in reach change by "
                   f"{wards['public_seats_change'].sum():+.0f}; "
                   f"{int((wards['public_seats_change'] > 0.5).sum())} wards gain, "
                   f"{int((wards['public_seats_change'] < -0.5).sum())} lose")
    if out is not None:
        write_frame(wards.assign(year=year, threshold_min=threshold_min,
                                 scenario=scenario or "").round(2), out)
        typer.echo(f"{len(wards)} wards written to {out}")


def _say(network: str, result: StreamingForecast, mode: str) -> None:
    """Print the city's figures of ``result`` on one line."""
    totals = result.totals()
    kind = "projected" if result.projected else "counted"
    year, threshold_min = result.year, result.threshold_min
    typer.echo(f"{network}: admission year {year}, within {threshold_min:g} min by {mode}: "
               f"{totals['leavers']:.0f} grade-9 leavers ({kind}), "
               f"{totals['public_seats']:.0f} public grade-10 seats in reach "
               f"(of {result.public_seats_total:.0f} in the city), "
               f"remainder {totals['remainder']:.0f}, of whom {totals['other_places']:.0f} "
               f"have a private or GDNN-GDTX place in reach (of {result.other_places_total:.0f}), "
               f"{totals['without_place']:.0f} none")
