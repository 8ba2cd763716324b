"""``edugis scenario ...``: transport what-if scenarios (new roads, bridges, metro, closures).

``create``, ``add`` (a GeoJSON file of one kind), ``list``, ``show``, ``delete`` keep the
scenarios in the database (:mod:`routing.scenario_store`); ``compare`` prints the scenario
against the basemap in use (:mod:`forecasting.transport_whatif`). The basemap is never
changed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

# numpy, pandas, shapely and SQLAlchemy are imported inside the commands (fast --help).

app = typer.Typer(help="Transport what-if scenarios: roads, bridges, metro lines, closures.",
                  no_args_is_help=True)

ActorOpt = Annotated[str, typer.Option("--actor", help="who acts, for the audit log")]


@app.command("create")
def create(name: str, description: Annotated[str, typer.Option("--description")] = "",
           actor: ActorOpt = "system") -> None:
    """Create an empty scenario on the basemap in use."""
    from gis_service.db import get_engine
    from routing.scenario_store import create_scenario

    scenario = create_scenario(get_engine(), name, description, actor)
    typer.echo(f"scenario {scenario.name} created on basemap {scenario.basemap}")


@app.command("add")
def add(
    name: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON (WGS 84)")],
    kind: Annotated[str, typer.Option("--kind", help="road, metro or closure")],
    speed_kmh: Annotated[float | None, typer.Option(
        "--speed", help="km/h, for features without speed_kmh")] = None,
    highway: Annotated[str | None, typer.Option(
        "--highway", help="road class of new roads (default primary)")] = None,
    oneway: Annotated[bool | None, typer.Option("--oneway/--two-way")] = None,
    headway_min: Annotated[float | None, typer.Option(
        "--headway-min", help="metro: minutes between trains (wait = half)")] = None,
    actor: ActorOpt = "system",
) -> None:
    """Add the features of a GeoJSON file to a scenario, checked against its roads."""
    from gis_service.db import get_engine
    from routing.scenario_edits import edits_from_geojson, read_geojson
    from routing.scenario_store import add_edits

    edits = edits_from_geojson(
        read_geojson(file), kind, file.name, speed_kmh=speed_kmh, highway=highway,
        oneway=oneway, headway_s=None if headway_min is None else headway_min * 60.0)
    scenario = add_edits(get_engine(), name, edits, actor, source=file.name)
    typer.echo(f"scenario {name}: {len(edits)} {kind} edit(s) added, {len(scenario.edits)} in all")


@app.command("list")
def list_() -> None:
    """List the scenarios."""
    from gis_service.db import get_engine
    from routing.scenario_store import list_scenarios

    table = list_scenarios(get_engine())
    typer.echo(table.drop(columns=["created_at"]).to_string(index=False) if len(table)
               else "no scenarios")


@app.command("show")
def show(name: str) -> None:
    """Print a scenario's edits as GeoJSON."""
    from gis_service.db import get_engine
    from routing.scenario_store import edits_geojson, load_scenario

    scenario = load_scenario(get_engine(), name)
    typer.echo(f"# {scenario.name} on basemap {scenario.basemap}: {scenario.description}")
    typer.echo(json.dumps(edits_geojson(scenario), ensure_ascii=False, indent=1))


@app.command("delete")
def delete(name: str, actor: ActorOpt = "system") -> None:
    """Delete a scenario (the basemap is untouched)."""
    from gis_service.db import get_engine
    from routing.scenario_store import delete_scenario

    delete_scenario(get_engine(), name, actor)
    typer.echo(f"scenario {name} deleted")


@app.command("compare")
def compare(
    name: str,
    level: Annotated[str, typer.Option("--level", help="primary, lower_secondary, upper_secondary")],
    round_id: Annotated[str | None, typer.Option("--round", help="rerun this round")] = None,
    sites: Annotated[str | None, typer.Option(
        "--sites", help="also with this siting run's proposed sites (needs --round)")] = None,
    mode: Annotated[str, typer.Option("--mode")] = "motorbike",
    year: Annotated[int | None, typer.Option("--year", help="2SFCA demand year")] = None,
    threshold_min: Annotated[float, typer.Option("--threshold-min")] = 15.0,
) -> None:
    """Print the scenario against the base network: wards, gaps, catchments, admissions."""
    import time

    import pandas as pd

    from forecasting.transport_whatif import scenario_what_if
    from gis_service.db import get_engine

    started = time.perf_counter()
    result = scenario_what_if(get_engine(), name, level, mode=mode, year=year,
                              threshold_min=threshold_min, round_id=round_id, sites_run=sites)
    with pd.option_context("display.width", 160, "display.max_columns", 20,
                           "display.float_format", "{:.1f}".format):
        typer.echo(json.dumps(result.summary(), ensure_ascii=False))
        typer.echo("\n# travel time to the nearest school per ward (s)")
        wards = result.wards.sort_values("change_s")
        typer.echo(wards[["ward_code", "ward_name", "population", "origins", "time_before_s",
                          "time_after_s", "change_s", "change_pct"]].to_string(index=False))
        typer.echo("\n# 2SFCA seats per child and shortfall")
        typer.echo(result.gaps.to_string(index=False))
        typer.echo("\n# catchments: origins whose nearest public school changes; derived rule")
        changed = result.catchments[(result.catchments["catchment_changed"] > 0)
                                    | result.catchments["derived_changed"]]
        typer.echo(changed.to_string(index=False) if len(changed) else "no change")
        if result.admissions is not None:
            typer.echo(f"\n# admission round {round_id} rerun (nothing stored)")
            typer.echo(result.admissions.to_string(index=False))
    typer.echo(f"\n({time.perf_counter() - started:.1f} s)")
