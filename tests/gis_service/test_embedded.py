"""The embedded cluster: created from nothing, started, reused, stopped, restarted."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gis_service import db
from gis_service.embedded import Cluster


@pytest.fixture
def cluster_dir() -> Iterator[Path]:
    """A folder under the repo's var/: pytest's own tmp root is 0700 and reset by every
    pytest session, so the postgres user cannot rely on reaching it."""
    folder = Path("var/test-clusters").resolve() / uuid.uuid4().hex[:8]
    yield folder / "pg"
    shutil.rmtree(folder, ignore_errors=True)


def test_cluster_up_down_reuse(cluster_dir: Path) -> None:
    cluster = Cluster(cluster_dir)
    assert not cluster.is_initialised()
    assert cluster.up() is True  # initdb + start
    try:
        assert cluster.is_running()
        assert cluster.up() is False  # already running: reused, not restarted
        url = cluster.url("edugis")
        db.prepare(url)
        engine = db.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO admin_units (code, name, level, geom) VALUES ('X', 'X', 'district',"
                " ST_Multi(ST_MakeEnvelope(106, 10, 107, 11, 4326)))"))
        engine.dispose()
        assert cluster.down() is True
        assert not cluster.is_running()
        assert cluster.down() is False
        assert cluster.up() is True  # the same data folder, started again
        engine = db.create_engine(url)
        with engine.connect() as conn:  # data survived the restart
            assert conn.execute(sa.text("SELECT count(*) FROM admin_units")).scalar_one() == 1
            assert conn.execute(sa.text("SHOW listen_addresses")).scalar_one() == ""
        engine.dispose()
    finally:
        cluster.down()


def test_processes_starting_one_cluster_at_once_take_turns(cluster_dir: Path) -> None:
    """Two test workers (or the app and a command) bring up the same new cluster together:
    one initialises and starts it, the other finds it running."""
    code = ("import sys\nfrom pathlib import Path\nfrom gis_service.embedded import Cluster\n"
            "print(Cluster(Path(sys.argv[1])).up())")
    starts = [subprocess.Popen([sys.executable, "-c", code, str(cluster_dir)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    try:
        answers = [start.communicate(timeout=180) for start in starts]
        assert [start.returncode for start in starts] == [0, 0], [err for _, err in answers]
        assert sorted(out.strip() for out, _ in answers) == ["False", "True"]
        assert Cluster(cluster_dir).is_running()
    finally:
        Cluster(cluster_dir).down()


def test_socket_directory_stays_short_for_deep_folders(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 90) / "pg"
    cluster = Cluster(deep)
    assert len(str(cluster.socket_dir)) < 90


def test_a_running_cluster_of_an_older_edugis_is_made_durable(cluster_dir: Path) -> None:
    """Clusters made before 2026-12 had ``synchronous_commit = off`` in their configuration
    and outlive ``edugis serve``: ``up`` on the running cluster turns it back on."""
    cluster = Cluster(cluster_dir)
    assert cluster.up() is True
    try:
        cluster.down()
        with (cluster.pgdata / "postgresql.conf").open("a") as handle:
            handle.write("synchronous_commit = off\n")
        cluster._run(["pg_ctl", "start", "-w", "-D", str(cluster.pgdata), "-l",  # as it was
                      str(cluster.log_file)])
        url = cluster.url("postgres")

        def setting() -> str:
            engine = db.create_engine(url)
            with engine.connect() as conn:
                value: str = conn.execute(sa.text("SHOW synchronous_commit")).scalar_one()
            engine.dispose()
            return value

        assert setting() == "off"
        assert cluster.up() is False  # running: reused, and made durable
        deadline = time.monotonic() + 10  # the server reads its configuration on SIGHUP
        while setting() != "on":
            assert time.monotonic() < deadline, "still asynchronous commits"
            time.sleep(0.05)
        assert "synchronous_commit = off" not in (cluster.pgdata / "postgresql.conf").read_text()
    finally:
        cluster.down()
