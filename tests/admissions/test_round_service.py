"""A grade-10 round on the demo city, from import to publish through the CLI, in PostGIS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from admissions import service
from gis_service.errors import InputError
from tests.conftest import database_env
from web.cli import app


@pytest.fixture
def cli(demo_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    with database_env(demo_engine, monkeypatch):
        yield CliRunner()


def _school(engine: Engine, code: str) -> tuple[str, int]:
    with engine.connect() as conn:
        name, capacity = conn.execute(sa.text(
            "SELECT name, capacity_grade10 FROM schools WHERE code = :c"), {"c": code}).one()
    return name, capacity


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("applicant_id,score,choice1,choice2,choice3\n" + "\n".join(rows) + "\n",
                    encoding="utf-8")
    return path


def test_round_from_import_to_publish(cli: CliRunner, demo_engine: Engine, tmp_path: Path) -> None:
    first, second = "DM-THPT-001", "DM-THPT-002"
    first_name, capacity = _school(demo_engine, first)
    second_name, _ = _school(demo_engine, second)
    n = capacity + 40
    # distinct scores, best first: 29.75, 29.5, ... (applicant i has score 30 - 0.25 * (i + 1)
    # for the first 100, then a slower slope so nobody goes below 0)
    scores = [round(30 - 0.05 * (i + 1), 2) for i in range(n)]
    rows = [f"T{i:04d},{scores[i]},{first},{second}," for i in range(n - 1)]
    rows.append(f"T{n - 1:04d},{scores[n - 1]},{first},,")  # lists only the full school
    round_id = f"t-{uuid.uuid4().hex[:6]}"

    result = cli.invoke(app, ["admissions", "create-round", round_id, "--grade", "10",
                              "--year", "2026", "--mechanism", "da", "--seed", "11"])
    assert result.exit_code == 0, result.output

    bad = _write(tmp_path / "bad.csv", [*rows[:5], "T9999,31.5,DM-THPT-001,,", "T0001,20,X,,"])
    result = cli.invoke(app, ["admissions", "import", str(bad), "--round", round_id])
    assert isinstance(result.exception, InputError)
    message = str(result.exception)
    assert "bad.csv, row 6, field 'score'" in message
    assert "bad.csv, row 7, field 'applicant_id'" in message  # duplicate T0001
    assert "bad.csv, row 7, field 'choice1'" in message  # unknown school X
    with demo_engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM applicants WHERE round_id = :r"),
                              {"r": round_id}).scalar_one()
    assert stored == 0

    good = _write(tmp_path / "good.csv", rows)
    result = cli.invoke(app, ["admissions", "import", str(good), "--round", round_id])
    assert result.exit_code == 0, result.output
    result = cli.invoke(app, ["admissions", "run", "--round", round_id])
    assert result.exit_code == 0, result.output
    assert '"placed_by_choice"' in result.output

    top = service.explain_applicant(demo_engine, round_id, "T0000")
    assert top["reason_vi"] == f"trúng tuyển NV1, {first_name}"
    assert top["reason_en"] == f"admitted at NV1, {first_name}"
    cutoff = f"{scores[capacity - 1]:.2f}"  # the last admitted score at the full school
    moved = service.explain_applicant(demo_engine, round_id, f"T{capacity:04d}")
    assert moved["reason_vi"] == (f"NV1 {first_name} đã đủ chỉ tiêu: điểm chuẩn "
                                  f"{cutoff.replace('.', ',')}; trúng tuyển NV2, {second_name}")
    assert moved["reason_en"] == (f"NV1 {first_name} full: last admitted score {cutoff}; "
                                  f"admitted at NV2, {second_name}")
    last = service.explain_applicant(demo_engine, round_id, f"T{n - 1:04d}")
    assert last["school_code"] is None
    assert cutoff.replace(".", ",") in last["reason_vi"] and cutoff in last["reason_en"]

    rerun = service.results_frame(demo_engine, round_id)
    service.run_round(demo_engine, round_id)  # same seed, same input: identical result
    assert service.results_frame(demo_engine, round_id).equals(rerun)

    with pytest.raises(InputError, match="reason"):
        service.override_applicant(demo_engine, round_id, f"T{n - 1:04d}", second, "", "officer1")
    assert service.results_frame(demo_engine, round_id).equals(rerun)  # refused: unchanged
    result = cli.invoke(app, ["admissions", "override", f"T{n - 1:04d}", "--round", round_id,
                              "--school", second, "--reason", "Hoàn cảnh đặc biệt, hồ sơ 17/2026",
                              "--actor", "officer1"])
    assert result.exit_code == 0, result.output
    placed = service.explain_applicant(demo_engine, round_id, f"T{n - 1:04d}")
    assert placed["school_code"] == second
    assert "Hoàn cảnh đặc biệt, hồ sơ 17/2026" in placed["reason_vi"]
    others = service.results_frame(demo_engine, round_id)
    changed = others.compare(rerun)
    assert set(others.loc[changed.index, "applicant_id"]) == {f"T{n - 1:04d}"}

    result = cli.invoke(app, ["admissions", "publish", "--round", round_id])
    assert result.exit_code == 0, result.output
    with pytest.raises(service.RoundStateError, match="published"):
        service.run_round(demo_engine, round_id)
    with pytest.raises(service.RoundStateError, match="published"):
        service.import_applicants(demo_engine, round_id, good)
    with demo_engine.connect() as conn:
        actions = conn.execute(sa.text(
            "SELECT action FROM audit_log WHERE target = :r ORDER BY id"), {"r": round_id}
        ).scalars().all()
    assert actions == ["round.create", "round.import_applicants", "round.run", "round.run",
                       "round.override", "round.publish"]


def test_grade1_round_uses_road_distances_nearest_first(demo_engine: Engine) -> None:
    """The demo grade-1 round, run in the database: by road, no justified envy."""
    figures = service.run_round(demo_engine, "demo-2026-g1")
    assert figures["distance_kind"] == "road"
    assert figures["justified_envy"] == 0
    assert figures["placed"] > 0.8 * figures["applicants"]
    sample = service.results_frame(demo_engine, "demo-2026-g1").dropna(subset=["choice_rank"])
    assert (sample["distance_m"] > 0).all()


def test_round_two_shares_only_the_seats_round_one_left(cli: CliRunner, demo_engine: Engine,
                                                        tmp_path: Path) -> None:
    full, other = "DM-THPT-004", "DM-THPT-005"
    _, capacity = _school(demo_engine, full)
    n = capacity + 5
    first, second = f"r1-{uuid.uuid4().hex[:6]}", f"r2-{uuid.uuid4().hex[:6]}"
    rows = [f"U{i:04d},{round(29 - 0.05 * i, 2)},{full},," for i in range(n)]
    for round_id in (first, second):
        service.create_round(demo_engine, round_id, 10, 2026, "da", 3)
    service.import_applicants(demo_engine, first, _write(tmp_path / "r1.csv", rows))
    service.run_round(demo_engine, first)
    unplaced = [f"U{i:04d}" for i in range(capacity, n)]
    placed_one = "U0000"
    with pytest.raises(service.RoundStateError, match="published"):
        service.run_round(demo_engine, second, after=first)  # round 1 not published yet
    service.publish_round(demo_engine, first)

    again = _write(tmp_path / "r2-bad.csv",
                   [f"{a},20,{full},{other}," for a in [*unplaced, placed_one]])
    service.import_applicants(demo_engine, second, again)
    with pytest.raises(InputError, match=f"{placed_one} was placed in round {first}"):
        service.run_round(demo_engine, second, after=first)

    good = _write(tmp_path / "r2.csv", [f"{a},20,{full},{other}," for a in unplaced])
    service.import_applicants(demo_engine, second, good)
    result = cli.invoke(app, ["admissions", "run", "--round", second, "--after", first])
    assert result.exit_code == 0, result.output
    outcome = service.results_frame(demo_engine, second)
    assert set(outcome["school_code"]) == {other}  # the full school had no seat left
    assert set(outcome["choice_rank"]) == {2}
