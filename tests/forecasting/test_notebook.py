"""The planners' notebook runs end to end on the demo city."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy.engine import Engine

from gis_service import db
from tests.conftest import REPO, _clone


@pytest.fixture
def empty_db(template_url: str) -> Iterator[Engine]:
    url = _clone(template_url)
    engine = db.create_engine(url)
    yield engine
    engine.dispose()
    db.drop_database(url)


def test_planner_notebook_runs(empty_db: Engine, monkeypatch: pytest.MonkeyPatch,
                               tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db.url.render_as_string(hide_password=False))
    notebook = nbformat.read(REPO / "notebooks" / "planner_walkthrough.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "leaflet.js" in html and "unpkg" not in html and "cdn" not in html.lower()
    assert "after" in html  # the what-if table
    # the transport scenario: a new bridge makes some wards faster, none slower
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    faster = re.search(r"'wards_faster': (\d+), 'wards_slower': (\d+)", text)
    assert faster is not None and int(faster.group(1)) > 0 and int(faster.group(2)) == 0, text[-2000:]
