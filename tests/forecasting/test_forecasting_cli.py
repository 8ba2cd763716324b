"""The forecast and plan command groups in file mode, and the words they refuse in any mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from forecasting.cli import forecast_app, plan_app
from forecasting.synthetic import synthetic_city

runner = CliRunner()


@pytest.fixture(scope="module")
def city_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("city")
    city = synthetic_city(n_wards=12, first_year=2014, last_year=2023, seed=31)
    paths = {name: folder / f"{name}.csv" for name in ("population", "births", "enrolment")}
    city.population.to_csv(paths["population"], index=False)
    city.births.to_csv(paths["births"], index=False)
    city.enrolment.to_csv(paths["enrolment"], index=False)
    return paths


def test_forecast_enrolment_writes_ten_years_per_ward_and_level(
    city_files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "forecast.csv"
    result = runner.invoke(forecast_app, [
        "enrolment", "--population", str(city_files["population"]), "--births",
        str(city_files["births"]), "--enrolment", str(city_files["enrolment"]),
        "--horizon", "10", "--backtest-horizon", "3", "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["ward_code", "level", "measure", "year", "horizon", "method",
                                   "predicted", "lower", "upper"]
    assert len(frame) == 12 * 3 * 2 * 10
    assert "chosen method for primary" in result.output


def test_forecast_backtest_prints_mape_with_ratio_to_naive(city_files: dict[str, Path]) -> None:
    result = runner.invoke(forecast_app, [
        "backtest", "--population", str(city_files["population"]), "--births",
        str(city_files["births"]), "--enrolment", str(city_files["enrolment"]), "--max-horizon", "3",
    ])
    assert result.exit_code == 0, result.output
    assert "MAPE primary total h=3:" in result.output
    assert "cohort/naive=" in result.output


def test_forecast_cutoffs_follows_the_file_contract(tmp_path: Path, hcmc_cutoffs_nv1: Path) -> None:
    path = hcmc_cutoffs_nv1
    out = tmp_path / "cutoffs.csv"
    result = runner.invoke(forecast_app, ["cutoffs", "--history", str(path), "--year", "2025",
                                          "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns)[:5] == ["school_name", "year", "predicted_cutoff", "lower", "upper"]
    assert len(frame) == 105 and (frame["year"] == 2025).all()
    assert f"backtest coverage {frame['backtest_coverage'].iloc[0]:.1%} of 210" in result.output
    backtest = runner.invoke(forecast_app, ["backtest", "--cutoffs", str(path), "--year", "2024"])
    assert backtest.exit_code == 0, backtest.output
    assert "cut-off MAE last value" in backtest.output
    assert "h=2: 80% interval" in backtest.output and "leave-one-school-out" in backtest.output


def test_bad_history_exits_with_code_two_and_names_the_column(tmp_path: Path) -> None:
    history = tmp_path / "h.csv"
    pd.DataFrame({"school_name": ["A"], "year": [2023]}).to_csv(history, index=False)
    result = runner.invoke(forecast_app, ["cutoffs", "--history", str(history), "--year", "2024",
                                          "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "cutoff_score" in result.output


def test_plan_gaps_and_sites(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    wards = [f"W{i}" for i in range(15)]
    homes = rng.uniform(0, 10000, (15, 2))
    schools = rng.uniform(0, 10000, (3, 2))
    sites = rng.uniform(0, 10000, (9, 2))
    demand = pd.DataFrame({"ward_code": wards, "demand": rng.integers(50, 300, 15)})
    school_frame = pd.DataFrame({"code": ["S0", "S1", "S2"], "capacity_grade10": [300, 200, 400]})
    school_times = pd.DataFrame([
        {"origin_id": w, "school_code": f"S{j}", "time_s": float(np.linalg.norm(homes[i] - schools[j]) / 6)}
        for i, w in enumerate(wards) for j in range(3)
    ])
    site_times = pd.DataFrame([
        {"origin_id": w, "site_id": f"C{j}", "time_s": float(np.linalg.norm(homes[i] - sites[j]) / 6)}
        for i, w in enumerate(wards) for j in range(9)
    ])
    for name, frame in (("demand", demand), ("schools", school_frame), ("school_times", school_times),
                        ("site_times", site_times)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    gaps = runner.invoke(plan_app, [
        "gaps", "--demand", str(tmp_path / "demand.csv"), "--schools", str(tmp_path / "schools.csv"),
        "--times", str(tmp_path / "school_times.csv"), "--seats-column", "capacity_grade10",
        "--minutes", "10", "--out", str(tmp_path / "gaps.csv"),
    ])
    assert gaps.exit_code == 0, gaps.output
    assert len(pd.read_csv(tmp_path / "gaps.csv")) == 15
    sites_run = runner.invoke(plan_app, [
        "sites", "--demand", str(tmp_path / "demand.csv"), "--candidate-times",
        str(tmp_path / "site_times.csv"), "--existing-times", str(tmp_path / "school_times.csv"),
        "--p", "2", "--model", "max_coverage", "--minutes", "10", "--out", str(tmp_path / "sites.csv"),
    ])
    assert sites_run.exit_code == 0, sites_run.output
    figures = json.loads(sites_run.output)
    assert figures["proven_optimal"] is True
    assert figures["covered_share_after"] >= figures["covered_share_before"]
    assert len(pd.read_csv(tmp_path / "sites.csv")) == 2


@pytest.mark.parametrize(("app", "args", "option", "allowed"), [
    # an unknown model used to become max_coverage, in database mode without a word
    (plan_app, ["sites", "--year", "2027", "--model", "p-median"], "--model",
     ("p_median", "max_coverage")),
    (plan_app, ["sites", "--year", "2027", "--method", "fast"], "--method",
     ("auto", "exact", "heuristic")),
    (plan_app, ["gaps", "--year", "2027", "--level", "nursery"], "--level",
     ("primary", "lower_secondary", "upper_secondary")),
    (plan_app, ["gaps", "--decay", "linear"], "--decay", ("binary", "gaussian")),
    (forecast_app, ["enrolment", "--method", "arima"], "--method",
     ("auto", "cohort", "challenger", "naive")),
])
def test_unknown_words_exit_with_code_two_naming_the_known_ones(
    app: typer.Typer, args: list[str], option: str, allowed: tuple[str, ...]
) -> None:
    # refused while parsing, before any file or the database is read
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output
    for word in allowed:
        assert f"'{word}'" in result.output
