"""``edugis db ...``: manage the embedded database (or report the configured server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from gis_service.embedded import Cluster

# The database layer (SQLAlchemy, pydantic settings) is imported inside the commands, so that
# ``edugis --help`` and the other commands start without it.

app = typer.Typer(help="Database: the embedded PostGIS cluster, or the server in DATABASE_URL.",
                  no_args_is_help=True)


def _cluster() -> Cluster | None:
    from gis_service.embedded import Cluster
    from gis_service.settings import get_settings

    settings = get_settings()
    return None if settings.database_url else Cluster.of(settings)


@app.command()
def up() -> None:
    """Initialise and start the embedded cluster, create the database and migrate it."""
    from gis_service.db import prepare, server_url

    cluster = _cluster()
    url = server_url()
    prepare(url)
    where = f"embedded cluster in {cluster.data_dir}" if cluster else "DATABASE_URL server"
    typer.echo(f"database ready ({where}): {url}")


@app.command()
def down() -> None:
    """Stop the embedded cluster."""
    cluster = _cluster()
    if cluster is None:
        typer.echo("DATABASE_URL is set: edugis does not manage that server")
        return
    typer.echo("stopped" if cluster.down() else "not running")


@app.command()
def status() -> None:
    """Say whether the embedded cluster is initialised and running."""
    cluster = _cluster()
    if cluster is None:
        typer.echo("using DATABASE_URL")
        return
    state = "running" if cluster.is_running() else (
        "stopped" if cluster.is_initialised() else "not initialised")
    typer.echo(f"{state}: {cluster.data_dir}")
    if state != "running":
        raise typer.Exit(code=3)


@app.command()
def url() -> None:
    """Print the SQLAlchemy URL of the database (starting the embedded cluster if needed)."""
    from gis_service.db import server_url

    typer.echo(server_url())
