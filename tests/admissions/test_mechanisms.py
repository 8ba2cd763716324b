"""Mechanisms as parameter objects: names parsed at the boundaries, unknown ones refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from admissions import DeferredAcceptance, MinCost, RankRounds, allocate, mechanism_from
from admissions.cli import app
from admissions.mechanisms import REGISTRY, mechanism_of_run
from admissions.names import MECHANISMS
from tests.support.admissions_cases import GRADE10, SCHOOLS, grade10


def test_every_name_has_a_class_of_that_name() -> None:
    assert tuple(REGISTRY) == MECHANISMS
    assert all(REGISTRY[name].name == name for name in MECHANISMS)


def test_an_unknown_mechanism_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="one of da, hcmc, mincost, not 'gale'"):
        mechanism_from("gale")
    with pytest.raises(ValueError, match="one of da, hcmc, mincost"):
        allocate(grade10([20.0], [[0]], [1]), "gale")  # type: ignore[arg-type]


def test_an_unknown_cost_is_refused_instead_of_becoming_time() -> None:
    with pytest.raises(ValueError, match="cost must be one of distance_m, time_s, not 'speed'"):
        MinCost("speed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one of distance_m, time_s"):
        mechanism_from("mincost", cost="distance")
    assert mechanism_from("mincost", cost="time_s") == MinCost("time_s")


def test_a_parameter_of_another_mechanism_is_refused() -> None:
    with pytest.raises(ValueError, match="the da mechanism takes no penalties"):
        mechanism_from("da", penalties=(0, 1, 2))
    with pytest.raises(ValueError, match="the hcmc mechanism takes no cost"):
        mechanism_from("hcmc", cost="time_s")
    # parameters left unset (None) keep the defaults
    assert mechanism_from("hcmc", penalties=None, cost=None) == RankRounds()


def test_a_run_records_the_name_and_parameters_it_is_read_back_from() -> None:
    problem = grade10([22.0, 21.0, 20.0], [[0, 1], [0, 1], [1, 0]], [1, 2])
    for mechanism in (DeferredAcceptance(), RankRounds(), RankRounds(penalties=(0, 1, 2))):
        provenance = allocate(problem, mechanism, seed=3).provenance
        assert provenance.mechanism == mechanism.name
        assert mechanism_of_run(provenance.mechanism, provenance.parameters) == mechanism
    assert allocate(problem, RankRounds((0, 1, 2))).provenance.parameters == {
        "grade": 10, "rank_penalties": [0, 1, 2]}


def test_the_command_line_refuses_unknown_mechanisms_and_costs(tmp_path: Path) -> None:
    schools, applicants = tmp_path / "schools.csv", tmp_path / "g10.csv"
    schools.write_text(SCHOOLS, encoding="utf-8")
    applicants.write_text(GRADE10, encoding="utf-8")
    base = ["run", "--grade", "10", "--applicants", str(applicants), "--schools", str(schools),
            "--out", str(tmp_path / "r.csv")]
    runner = CliRunner()

    def refusal(*options: str) -> str:
        """The error of a refused command, as one line (the box around it unwrapped)."""
        result = runner.invoke(app, [*base, *options])
        assert result.exit_code == 2, result.output
        return " ".join(result.output.replace("│", " ").split())

    assert "'gale' is not one of 'da', 'hcmc', 'mincost'" in refusal("--mechanism", "gale")
    assert "'speed' is not one of 'distance_m', 'time_s'" in refusal(
        "--mechanism", "mincost", "--cost", "speed")
    assert "the da mechanism takes no cost" in refusal("--mechanism", "da", "--cost", "time_s")
    assert "'7' is not one of '1', '6', '10'" in refusal("--grade", "7")
    # the cost asked for is the one used: straight lines give distances but no times
    assert "mincost needs time_s" in refusal("--mechanism", "mincost", "--cost", "time_s")
    by_distance = runner.invoke(app, [*base, "--mechanism", "mincost", "--cost", "distance_m"])
    assert by_distance.exit_code == 0, by_distance.output
    assert '"cost": "distance_m"' in by_distance.stdout
