"""File mode: ``edugis admissions run`` and ``compare``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from admissions.cli import app
from tests.support.admissions_cases import GRADE1, GRADE10, SCHOOLS

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (("schools", SCHOOLS), ("g10", GRADE10), ("g1", GRADE1)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def test_run_grade10_hcmc_writes_contract_csv_and_json(files: dict[str, Path],
                                                       tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    result = runner.invoke(app, [
        "run", "--grade", "10", "--applicants", str(files["g10"]), "--schools",
        str(files["schools"]), "--mechanism", "hcmc", "--seed", "1", "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["mechanism"] == "hcmc" and figures["justified_envy"] == 1
    assert figures["distance_kind"] == "straight_line"
    assert "straight-line" in figures["note"]
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame.columns[:5]) == [
        "applicant_id", "school_code", "choice_rank", "distance_m", "reason"
    ]
    assert frame["school_code"].tolist() == ["H1", "H1", "H3", "H2", "H2", "H3"]
    assert frame["choice_rank"].tolist() == ["1", "1", "3", "1", "1", "3"]
    assert "đường chim bay" in frame["reason"].iat[2]


def test_rerun_gives_the_identical_file(files: dict[str, Path], tmp_path: Path) -> None:
    outputs = []
    for name in ("a.csv", "b.csv"):
        result = runner.invoke(app, [
            "run", "--grade", "1", "--applicants", str(files["g1"]), "--schools",
            str(files["schools"]), "--seed", "9", "--out", str(tmp_path / name),
        ])
        assert result.exit_code == 0, result.output
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


def test_unplaced_applicant_has_empty_school(files: dict[str, Path], tmp_path: Path) -> None:
    applicants = tmp_path / "few.csv"
    applicants.write_text(
        "applicant_id,score,choice1,choice2,choice3\nx1,25,H1,,\nx2,24,H1,,\nx3,23,H1,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.csv"
    result = runner.invoke(app, [
        "run", "--grade", "10", "--applicants", str(applicants), "--schools",
        str(files["schools"]), "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert frame["school_code"].tolist() == ["H1", "H1", ""]
    assert frame["choice_rank"].tolist() == ["1", "1", ""]
    assert frame["reason_en"].iat[2].startswith("Not placed: NV1 THPT Bùi Thị Xuân full")


def test_bad_file_exits_2_and_lists_rows(files: dict[str, Path], tmp_path: Path) -> None:
    applicants = tmp_path / "bad.csv"
    applicants.write_text(
        "applicant_id,score,choice1,choice2,choice3\nx1,35,H1,,\nx1,24,HX,,\n", encoding="utf-8"
    )
    result = runner.invoke(app, [
        "run", "--grade", "10", "--applicants", str(applicants), "--schools",
        str(files["schools"]), "--out", str(tmp_path / "r.csv"),
    ])
    assert result.exit_code == 2
    assert "bad.csv, row 1, field 'score'" in result.stderr
    assert "bad.csv, row 2, field 'applicant_id'" in result.stderr
    assert "bad.csv, row 2, field 'choice1'" in result.stderr
    assert not (tmp_path / "r.csv").exists()


def test_compare_prints_all_mechanisms(files: dict[str, Path]) -> None:
    result = runner.invoke(app, [
        "compare", "--grade", "10", "--applicants", str(files["g10"]), "--schools",
        str(files["schools"]), "--penalties", "0,1,2",
    ])
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[1].split()
    assert header == ["da", "hcmc", "hcmc_penalised", "mincost"]
    assert "justified_envy" in result.stdout
    assert "straight-line" in result.stdout.splitlines()[0]


def test_grade6_uses_lower_secondary_schools(tmp_path: Path) -> None:
    schools = tmp_path / "s.csv"
    schools.write_text(
        "code,name,level,ownership,lon,lat,capacity_grade6\n"
        "S1,THCS Văn Lang,lower_secondary,public,106.70,10.77,1\n"
        "S2,THCS Minh Đức,lower_secondary,public,106.71,10.77,1\n"
        "P1,TH Kim Đồng,primary,public,106.70,10.77,\n", encoding="utf-8")
    applicants = tmp_path / "a.csv"
    applicants.write_text("applicant_id,lon,lat,tier\nb1,106.7001,10.77,2\nb2,106.7002,10.77,1\n",
                          encoding="utf-8")
    out = tmp_path / "r.csv"
    result = runner.invoke(app, ["run", "--grade", "6", "--applicants", str(applicants),
                                 "--schools", str(schools), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    # b2 (tier 1) takes S1 although b1 lives nearer; b1 goes to S2.
    assert frame["school_code"].tolist() == ["S2", "S1"]
