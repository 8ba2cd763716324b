"""``edugis forecast streaming``: streaming after grade 9 from the database (issue 15).

Registered on ``edugis forecast`` by :mod:`forecasting.cli`; the implementation is imported
inside the command so ``edugis --help`` stays light (``tests/test_cli_startup.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_service.errors import EdugisError


def streaming_command(
    year: Annotated[int, typer.Option("--year", help="Admission year (grade 10 starts then).")],
    threshold_min: Annotated[float, typer.Option(
        "--threshold-min", help="Largest travel time to a school, minutes (1-120).")] = 15.0,
    mode: Annotated[str, typer.Option("--mode", help="Travel mode of the road times.")] = "motorbike",
    out: Annotated[Path | None, typer.Option("--out", help="CSV, one row per ward.")] = None,
) -> None:
    """Forecast grade-9 leavers per ward, public grade-10 seats in reach, and the remainder.

    The remainder needs a private school, a vocational or continuing-education centre
    (GDNN-GDTX) or a trade school; the places of those within the threshold are shared
    among the wards' remainders. Reads the database; stores nothing.
    """
    from forecasting.streaming_service import streaming_forecast
    from gis_service.csv_cells import write_frame
    from gis_service.db import get_engine

    try:
        result = streaming_forecast(get_engine(), year, threshold_min, mode=mode)
    except (EdugisError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    totals = result.totals()
    kind = "projected" if result.projected else "counted"
    typer.echo(f"admission year {year}, within {threshold_min:g} min by {mode}: "
               f"{totals['leavers']:.0f} grade-9 leavers ({kind}), "
               f"{totals['public_seats']:.0f} public grade-10 seats in reach "
               f"(of {result.public_seats_total:.0f} in the city), "
               f"remainder {totals['remainder']:.0f}, of whom {totals['other_places']:.0f} "
               f"have a private or GDNN-GDTX place in reach (of {result.other_places_total:.0f}), "
               f"{totals['without_place']:.0f} none")
    if out is not None:
        write_frame(result.wards.assign(year=year, threshold_min=threshold_min).round(2), out)
        typer.echo(f"{len(result.wards)} wards written to {out}")
