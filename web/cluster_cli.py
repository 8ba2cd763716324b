"""``edugis cluster up|down|status``: the highly available deployment on one machine.

The implementation (``web.cluster``) is imported inside the commands, so that ``edugis
--help`` starts without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from web.cluster import LocalCluster

app = typer.Typer(help="A highly available edugis on this machine: PostgreSQL with automatic "
                       "failover (pg_auto_failover), N app nodes, HAProxy.",
                  no_args_is_help=True)

DirOption = Annotated[Path | None, typer.Option(
    "--dir", help="folder of the cluster (default <data_dir>/cluster)")]


def _root(folder: Path | None) -> Path:
    from gis_service.settings import get_settings

    return (folder or get_settings().data_dir / "cluster").resolve()


def _echo_status(status: dict[str, Any]) -> None:
    typer.echo(f"site: {status['site']}  (HAProxy: "
               f"{'running' if status['haproxy'] else 'stopped'})")
    for app_node in status["apps"]:
        kind = "read node (public GETs, on a standby)" if app_node["reads_only"] else "app node"
        typer.echo(f"  {kind} {app_node['name']}: {app_node['url']}  "
                   f"{'running' if app_node['running'] else 'stopped'}, in HAProxy "
                   f"{app_node['haproxy']}")
    typer.echo(f"database: pg_auto_failover monitor {status['monitor']} "
               f"({'running' if status['monitor_running'] else 'stopped'})")
    for node in status["database"]:
        state = node["state"] if node["state"] == node["assigned"] else \
            f"{node['state']} -> {node['assigned']}"
        typer.echo(f"  {node['name']}: {node['address']}  {state}"
                   f"{'' if node['healthy'] else ' (unreachable)'}")
    typer.echo(f"DATABASE_URL={status['database_url']}")
    typer.echo(f"folder: {status['root']}  (logs: {status['logs']})")


@app.command()
def up(
    nodes: Annotated[int, typer.Option(help="app nodes (edugis serve)")] = 2,
    standbys: Annotated[int, typer.Option(help="PostgreSQL standbys (synchronous)")] = 2,
    read_nodes: Annotated[int, typer.Option(
        help="app nodes on the standbys, for the public GETs (they go on during a failover)")] = 1,
    base_port: Annotated[int, typer.Option(
        help="first port: the monitor; PostgreSQL +1.., app nodes +11.., read nodes +21.., "
             "the site +80")] = 5600,
    workers: Annotated[int, typer.Option(help="uvicorn workers per app node")] = 1,
    city: Annotated[str, typer.Option(
        help="load a city before the app nodes start: real (the HCMC bundle, as edugis demo; "
             "once), synthetic (the demo city) or none")] = "none",
    folder: DirOption = None,
) -> None:
    """Build (first time) and start the whole cluster on 127.0.0.1; print where things are.

    A cluster made before keeps its layout (the options count only the first time).
    """
    if city not in ("real", "synthetic", "none"):
        raise typer.BadParameter("real, synthetic or none", param_hint="--city")
    from gis_service.settings import get_settings
    from web.cluster import LAYOUT_FILE, LocalCluster

    root = _root(folder)
    cluster: LocalCluster
    if (root / LAYOUT_FILE).exists():
        cluster = LocalCluster.load(root)
    else:
        cluster = LocalCluster(root, nodes=nodes, standbys=standbys, base_port=base_port,
                               workers=workers, data_dir=get_settings().data_dir.resolve(),
                               read_nodes=read_nodes)
    if city != "none":
        cluster.start_database(echo=typer.echo)
        _load_city(cluster.database_url, city)
    cluster.up(echo=typer.echo)
    _echo_status(cluster.status())
    typer.echo(f"load or import data with: DATABASE_URL='{cluster.database_url}' edugis ...")


def _load_city(database_url: str, city: str) -> None:
    """Load the real HCMC bundle (once) or the synthetic demo city into the cluster."""
    from gis_service.db import create_engine

    engine = create_engine(database_url)
    try:
        if city == "real":
            from web.real_city import load_real_city

            typer.echo("loading the real HCMC bundle (data/hcmc; applicants and population "
                       "synthetic) ...")
            load_real_city(engine, echo=typer.echo)
        else:
            from basemaps.demo_city import generate_demo_city
            from basemaps.in_use import use_basemap
            from web.demo_data import load_demo_city
            from web.real_city import remove_real_city

            typer.echo("loading the synthetic demo city ...")
            remove_real_city(engine)
            load_demo_city(engine, generate_demo_city())
            use_basemap(engine, "demo", actor="cluster")
    finally:
        engine.dispose()


@app.command()
def down(folder: DirOption = None) -> None:
    """Stop HAProxy, the app nodes and the database (the data stays for the next up)."""
    from web.cluster import LocalCluster

    stopped = LocalCluster.load(_root(folder)).down()
    typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status(folder: DirOption = None) -> None:
    """Print every service of the cluster and its state; exit code 3 unless all serve."""
    from web.cluster import LocalCluster

    state = LocalCluster.load(_root(folder)).status()
    _echo_status(state)
    if not state["running"]:
        raise typer.Exit(code=3)
