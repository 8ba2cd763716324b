"""A round's own places per school: checked row by row, stored all or none, used by the run."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from admissions import service
from admissions.round_capacities import import_capacities
from gis_service.errors import InputError


def _new_round(engine: Engine) -> str:
    round_id = f"cap-{uuid.uuid4().hex[:8]}"
    service.create_round(engine, round_id, 10, 2026, "da", seed=1)
    return round_id


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_rows_are_named_in_both_languages_and_nothing_is_stored(demo_engine: Engine,
                                                                     tmp_path: Path) -> None:
    round_id = _new_round(demo_engine)
    bad = _write(tmp_path / "chitieu.csv", "school_code,capacity\n\nDM-THPT-001,40\nDM-NOPE,10\n"
                 "DM-TH-001,10\nDM-THPT-002,-3\nDM-THPT-001,12\nDM-THPT-003,1.5\n")
    with pytest.raises(InputError) as caught:
        import_capacities(demo_engine, round_id, bad)
    found = {(p.row, p.field) for p in caught.value.problems}
    assert found == {(2, "school_code"), (3, "school_code"), (4, "capacity"), (5, "school_code"),
                     (6, "capacity")}
    by_row = {p.row: p for p in caught.value.problems}
    assert "unknown school code 'DM-NOPE'" in by_row[2].reason
    assert by_row[2].reason_vi is not None and "không có trường nào mã" in by_row[2].reason_vi
    # the first listing is on spreadsheet line 3: the header is line 1, a blank line 2
    assert "listed twice (first on spreadsheet line 3)" in by_row[5].reason
    assert "lần đầu ở dòng 3 của bảng tính" in (by_row[5].reason_vi or "")
    with demo_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM round_capacities WHERE round_id = :r"),
                            {"r": round_id}).scalar_one() == 0


def test_the_run_uses_the_rounds_places(demo_engine: Engine, tmp_path: Path) -> None:
    round_id = _new_round(demo_engine)
    rows = [f"A{i:03d},{25 - i * 0.1:.1f},DM-THPT-001,DM-THPT-002," for i in range(30)]
    applicants = _write(tmp_path / "hoso.csv", "applicant_id,score,choice1,choice2,choice3\n"
                        + "\n".join(rows) + "\n")
    service.import_applicants(demo_engine, round_id, applicants)
    service.run_round(demo_engine, round_id)
    import_capacities(demo_engine, round_id, _write(tmp_path / "chitieu.csv",
                                                    "school_code,capacity\nDM-THPT-001,7\n"),
                      discard_run=True)  # a confirmed import into a run round
    assert service.get_round(demo_engine, round_id).status == "draft"  # the old run is dropped
    with demo_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM allocations WHERE round_id = :r"),
                            {"r": round_id}).scalar_one() == 0
    figures = service.run_round(demo_engine, round_id)
    assert figures["placed"] == 30
    with demo_engine.connect() as conn:
        placed = dict(conn.execute(sa.text(
            "SELECT school_code, count(*) FROM allocations WHERE round_id = :r GROUP BY 1"),
            {"r": round_id}).all())
    assert placed == {"DM-THPT-001": 7, "DM-THPT-002": 23}  # the 7 best scores at NV1
    service.publish_round(demo_engine, round_id)
    with pytest.raises(service.RoundStateError):
        import_capacities(demo_engine, round_id, tmp_path / "chitieu.csv")


@pytest.mark.parametrize("content", ["", "school_code,capacity\nDM-THPT-001,\u00b2\n",
                                     "school_code,capacity\nDM-THPT-001,99999999999\n"])
def test_odd_files_are_refused_as_problems(demo_engine: Engine, tmp_path: Path, content: str) -> None:
    round_id = _new_round(demo_engine)
    with pytest.raises(InputError):
        import_capacities(demo_engine, round_id, _write(tmp_path / "chitieu.csv", content))
