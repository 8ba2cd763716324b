"""Streaming after grade 9 (issue 15): leavers, public grade-10 seats in reach, the rest.

Kernel tests on small hand-made cases, then the demo city in PostGIS: leavers are the cohort
projection's grade 9, the city never gets more public seats than it has, the remainder is
what the public seats leave, a larger threshold never lowers the seats in reach, and a
vocational centre (GDNN-GDTX) is a place for the remainder, not a public grade-10 seat.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.schools import read_schools
from basemaps.store import store_schools
from forecasting import queries
from forecasting.enrolment import cohort_forecast
from forecasting.streaming import (
    grade9_leavers,
    project_grade_counts,
    share_seats,
    two_step_fca_total,
)
from forecasting.streaming_service import (
    StreamingForecast,
    grade10_places,
    road_times,
    streaming_forecast,
)
from gis_service.errors import InputError

THRESHOLDS_MIN = (3.0, 6.0, 10.0, 20.0)


def _frames(demand: dict[str, float], seats: dict[str, float],
            times: list[tuple[str, str, float]]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (pd.DataFrame({"ward_code": list(demand), "demand": list(demand.values())}),
            pd.DataFrame({"school_code": list(seats), "seats": list(seats.values())}),
            pd.DataFrame(times, columns=["origin_id", "school_code", "time_s"]))


def test_2sfca_loses_seats_with_a_larger_threshold_and_shared_seats_do_not() -> None:
    # W1 (1 leaver) is next to A (100 seats); W2 (100 leavers) next to B (100 seats) and,
    # within 20 minutes only, A. 2SFCA spreads A over both and caps W2 at its demand: the city
    # total falls from 101 to 100.99. The flow seats W2 at B and W1 at A either way.
    demand, seats, times = _frames({"W1": 1, "W2": 100}, {"A": 100, "B": 100},
                                   [("W1", "A", 60), ("W2", "B", 60), ("W2", "A", 900)])
    assert two_step_fca_total(demand, seats, times, 10) == pytest.approx(101)
    assert two_step_fca_total(demand, seats, times, 20) < 101 - 0.005
    for minutes in (10, 20):
        shared = share_seats(demand, seats, times, minutes)
        assert shared["seated"].tolist() == pytest.approx([1, 100])


def test_every_ward_in_reach_gets_the_same_floor_share_before_nearer_wards_get_more() -> None:
    # A's 100 seats are 1 minute from W1 and 5 from W2 (100 leavers each); B's 60 seats only
    # W1 reaches. The least time alone would seat W1 at A in full and leave W2 nothing; the
    # floor gives W2 its share first: 160 seats for 200 leavers is 80 % each at best.
    demand, seats, times = _frames({"W1": 100, "W2": 100}, {"A": 100, "B": 60},
                                   [("W1", "A", 60), ("W2", "A", 300), ("W1", "B", 120)])
    shared = share_seats(demand, seats, times, 10)
    assert shared["seated"].tolist() == pytest.approx([80, 80], abs=1e-6)
    # with nobody competing the nearer ward is served in full
    alone = share_seats(demand.assign(demand=[100, 0]), seats, times, 10)
    assert alone["seated"].tolist() == pytest.approx([100, 0], abs=1e-6)


def test_shared_seats_keep_their_bounds_and_grow_with_the_threshold() -> None:
    rng = np.random.default_rng(15)
    for _ in range(40):
        n_wards, n_schools = int(rng.integers(1, 9)), int(rng.integers(1, 6))
        demand = {f"W{i}": float(rng.choice([0.0, *rng.uniform(0, 300, 3)])) for i in range(n_wards)}
        seats = {f"S{j}": float(rng.uniform(0, 400)) for j in range(n_schools)}
        times = [(w, s, float(rng.uniform(0, 1800))) for w in demand for s in seats
                 if rng.random() < 0.6]
        frames = _frames(demand, seats, times)
        totals, within = [], []
        for minutes in (5, 10, 15, 30):
            shared = share_seats(*frames, minutes)
            assert (shared["seated"] >= -1e-9).all()
            assert (shared["seated"] <= frames[0]["demand"] + 1e-6).all()
            assert shared["seated"].sum() <= sum(seats.values()) + 1e-6
            totals.append(shared["seated"].sum())
            within.append(shared["within_threshold"].to_numpy())
        assert all(b >= a - 1e-6 for a, b in itertools.pairwise(totals))
        assert all((b >= a - 1e-9).all() for a, b in itertools.pairwise(within))


@pytest.fixture(scope="module")
def times_40(demo_engine: Engine) -> pd.DataFrame:
    """Road times (motorbike) from every ward to every grade-10 school within 40 minutes."""
    points = queries.ward_points(demo_engine)
    return road_times(demo_engine)(points, grade10_places(demo_engine), 40 * 60.0)


def _from(times: pd.DataFrame):  # type: ignore[no-untyped-def]
    """A travel-time source answering from ``times`` (a scenario would pass its graph's)."""
    def source(origins: pd.DataFrame, schools: pd.DataFrame, threshold_s: float) -> pd.DataFrame:
        assert threshold_s <= 40 * 60.0
        return times[times["time_s"] <= threshold_s]
    return source


@pytest.fixture(scope="module")
def forecasts(demo_engine: Engine, times_40: pd.DataFrame) -> dict[float, StreamingForecast]:
    return {m: streaming_forecast(demo_engine, 2028, m, travel_times=_from(times_40))
            for m in THRESHOLDS_MIN}


def test_leavers_are_the_cohort_projection_of_grade_9(
    demo_engine: Engine, forecasts: dict[float, StreamingForecast]
) -> None:
    data = queries.enrolment_inputs(demo_engine)
    assert data.last_year == 2025
    grades = project_grade_counts(data, 3)
    # the grades are the projection of the stored forecasts: grades 6-9 sum to the cohort
    # model's lower-secondary total, ward by ward and year by year
    total = cohort_forecast(data, 2025, 3)
    total = total[(total["level"] == "lower_secondary") & (total["measure"] == "total")]
    summed = (grades[grades["grade"].between(6, 9) & (grades["year"] > 2025)]
              .groupby(["ward_code", "year"])["count"].sum())
    expected = total.set_index(["ward_code", "year"])["predicted"]
    pd.testing.assert_series_equal(summed.sort_index(), expected.sort_index(), check_names=False)
    # admission 2028 takes the grade 9 of the school year 2027
    nine = grades[(grades["year"] == 2027) & (grades["grade"] == 9)].set_index("ward_code")["count"]
    wards = forecasts[10.0].wards.set_index("ward_code")
    assert forecasts[10.0].projected
    assert nine.sum() > 1000
    pd.testing.assert_series_equal(wards["leavers"].reindex(nine.index), nine, check_names=False)
    assert wards["leavers"].drop(nine.index).eq(0).all()  # wards without lower secondary


def test_leavers_of_next_year_are_the_grade_9_pupils_counted(demo_engine: Engine) -> None:
    data = queries.enrolment_inputs(demo_engine)
    with demo_engine.connect() as conn:
        counted: dict[str, int] = dict(conn.execute(sa.text(
            "SELECT s.ward_code, sum(e.headcount) FROM enrolment e JOIN schools s ON s.code ="
            " e.school_code WHERE e.year = 2025 AND e.grade = 9 GROUP BY s.ward_code")).all())
    leavers = grade9_leavers(data, 2026).set_index("ward_code")
    assert not leavers["projected"].any()
    assert leavers["leavers"].to_dict() == pytest.approx({k: float(v) for k, v in counted.items()})
    with pytest.raises(InputError, match="first admission year is 2017"):
        grade9_leavers(data, 2016)


def test_public_seats_never_exceed_the_city_s_and_the_rest_is_the_remainder(
    demo_engine: Engine, forecasts: dict[float, StreamingForecast]
) -> None:
    with demo_engine.connect() as conn:
        public_total = conn.execute(sa.text(
            "SELECT sum(capacity_grade10) FROM schools WHERE level = 'upper_secondary'"
            " AND ownership = 'public'")).scalar_one()
    for result in forecasts.values():
        wards = result.wards
        assert result.public_seats_total == pytest.approx(float(public_total))
        assert wards["public_seats"].sum() <= float(public_total) + 1e-6
        assert (wards["public_seats"] <= wards["public_seats_within_threshold"] + 1e-6).all()
        assert (wards["remainder"] >= 0).all()
        assert wards["remainder"].to_numpy() == pytest.approx(
            (wards["leavers"] - wards["public_seats"]).to_numpy(), abs=1e-6)
        assert (wards["other_places"] <= wards["remainder"] + 1e-6).all()
        assert wards["other_places"].sum() <= result.other_places_total + 1e-6
        assert wards["without_place"].to_numpy() == pytest.approx(
            (wards["remainder"] - wards["other_places"]).to_numpy(), abs=1e-6)
    totals = forecasts[20.0].totals()
    assert 0 < totals["public_seats"] < totals["leavers"]  # the demo city streams some leavers


def test_a_larger_threshold_never_lowers_the_seats_in_reach(
    forecasts: dict[float, StreamingForecast]
) -> None:
    seated = [forecasts[m].totals()["public_seats"] for m in THRESHOLDS_MIN]
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(seated)), seated
    assert seated[-1] > seated[0]
    within = [forecasts[m].wards.set_index("ward_code")["public_seats_within_threshold"].sort_index()
              for m in THRESHOLDS_MIN]
    for smaller, larger in itertools.pairwise(within):
        assert (larger >= smaller).all()


@pytest.fixture
def with_centre(demo_copy: Engine, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """The demo city with a GDNN-GDTX centre of 300 grade-10 places in its busiest ward."""
    ward = streaming_forecast(demo_copy, 2028, 10.0).wards.iloc[0]["ward_code"]
    with demo_copy.connect() as conn:
        lon, lat = conn.execute(sa.text(
            "SELECT ST_X(p), ST_Y(p) FROM admin_units, ST_PointOnSurface(geom) p"
            " WHERE code = :w"), {"w": ward}).one()
    path = tmp_path / "centre.csv"
    path.write_text("code,name,level,ownership,lon,lat,capacity_grade10\n"
                    f"GDTX-1,Trung tâm GDNN-GDTX Quận Mẫu,Trung tâm GDNN-GDTX,công lập,{lon},{lat},300\n",
                    encoding="utf-8")
    schools, problems = read_schools(path)
    assert problems == [] and schools["level"].tolist() == ["vocational"]
    store_schools(demo_copy, schools, problems, str(path))
    yield demo_copy, str(ward)


def test_a_vocational_centre_is_a_place_for_the_remainder_not_a_public_seat(
    demo_engine: Engine, with_centre: tuple[Engine, str],
    forecasts: dict[float, StreamingForecast]
) -> None:
    engine, ward = with_centre
    places = grade10_places(engine).set_index("school_code")
    assert places.loc["GDTX-1", "seats"] == 300 and not places.loc["GDTX-1", "public"]
    before = forecasts[10.0]
    after = streaming_forecast(engine, 2028, 10.0)
    assert after.public_seats_total == before.public_seats_total
    assert after.other_places_total == before.other_places_total + 300
    old, new = before.wards.set_index("ward_code"), after.wards.set_index("ward_code")
    pd.testing.assert_series_equal(new["public_seats"].sort_index(), old["public_seats"].sort_index(),
                                   atol=1e-6)
    reach = "other_places_within_threshold"
    assert new.loc[ward, reach] >= old.loc[ward, reach] + 300
    assert new["other_places"].sum() > old["other_places"].sum()
    assert new["without_place"].sum() < old["without_place"].sum()


def test_the_importer_names_the_vocational_level_when_a_level_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("code,name,level,ownership,lon,lat\nX1,Trường nghề,college,public,106.7,10.77\n",
                    encoding="utf-8")
    _, problems = read_schools(path)
    assert len(problems) == 1 and problems[0].field == "level"
    assert "vocational" in problems[0].reason and "GDNN-GDTX" in problems[0].reason
    assert "GDNN-GDTX" in str(problems[0].reason_vi) and "cấp học không hợp lệ" in str(problems[0].reason_vi)


def test_the_command_prints_the_city_and_writes_one_row_per_ward(
    demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from forecasting.cli import forecast_app
    from tests.conftest import database_env

    out = tmp_path / "streaming.csv"
    with database_env(demo_engine, monkeypatch):
        result = CliRunner().invoke(forecast_app, ["streaming", "--year", "2028", "--threshold-min",
                                                   "10", "--out", str(out)])
        refused = CliRunner().invoke(forecast_app, ["streaming", "--year", "2028",
                                                    "--threshold-min", "500"])
    assert result.exit_code == 0, result.output
    assert "grade-9 leavers (projected)" in result.output and "public grade-10 seats" in result.output
    table = pd.read_csv(out, dtype={"ward_code": str})
    assert len(table) == len(queries.ward_points(demo_engine))
    assert {"leavers", "public_seats", "remainder", "other_places", "year"} <= set(table.columns)
    assert (table["remainder"] >= 0).all() and (table["year"] == 2028).all()
    assert refused.exit_code == 2 and "threshold_min must be between 1 and 120" in refused.output


def test_a_new_bridge_never_lowers_the_seats_in_reach_and_brings_some(
    demo_engine: Engine, forecasts: dict[float, StreamingForecast]
) -> None:
    """The same forecast on a transport scenario's network: a bridge only adds roads."""
    from basemaps.fetch import load_road_layer
    from forecasting.streaming import compare_streaming
    from forecasting.streaming_service import graph_times
    from routing.cache import build_graph
    from routing.scenario_graph import scenario_graph
    from tests.support.scenarios import bridge_edit

    layer = load_road_layer(demo_engine)
    base = build_graph(layer, "motorbike")
    bridged = scenario_graph(base, layer.edges, [bridge_edit(layer)])
    # the base graph as a source gives what the default source gives
    pd.testing.assert_frame_equal(
        streaming_forecast(demo_engine, 2028, 10.0, travel_times=graph_times(base)).wards,
        forecasts[10.0].wards)
    # 12 minutes: the bridge brings ward DM0602 within reach of DM-THPT-011 (740 s -> 650 s)
    before = streaming_forecast(demo_engine, 2028, 12.0, travel_times=graph_times(base))
    after = streaming_forecast(demo_engine, 2028, 12.0, travel_times=graph_times(bridged))
    old, new = (r.wards.set_index("ward_code").sort_index() for r in (before, after))
    assert (new["public_seats_within_threshold"] >= old["public_seats_within_threshold"]).all()
    gained = new["public_seats_within_threshold"] > old["public_seats_within_threshold"]
    assert "DM0602" in set(gained[gained].index)
    assert (new["nearest_public_time_s"] <= old["nearest_public_time_s"] + 1e-6).all()
    assert after.totals()["public_seats"] >= before.totals()["public_seats"] - 1e-6
    both = compare_streaming(before.wards, after.wards)
    assert both["public_seats_change"].to_numpy() == pytest.approx(
        (both["public_seats"] - both["public_seats_base"]).to_numpy())


def test_the_command_compares_a_stored_scenario_with_the_network_in_use(
    demo_copy: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from basemaps.fetch import load_road_layer
    from forecasting.cli import forecast_app
    from routing.scenario_store import add_edits, create_scenario
    from tests.conftest import database_env
    from tests.support.scenarios import bridge_edit

    create_scenario(demo_copy, "cau-moi", "a bridge across the river")
    add_edits(demo_copy, "cau-moi", [bridge_edit(load_road_layer(demo_copy))])
    out = tmp_path / "scenario.csv"
    with database_env(demo_copy, monkeypatch):
        result = CliRunner().invoke(forecast_app, ["streaming", "--year", "2028", "--threshold-min",
                                                   "10", "--scenario", "cau-moi", "--out", str(out)])
        unknown = CliRunner().invoke(forecast_app, ["streaming", "--year", "2028",
                                                    "--scenario", "khong-co"])
    assert result.exit_code == 0, result.output
    assert "base network: admission year 2028" in result.output
    assert "scenario cau-moi: admission year 2028" in result.output
    table = pd.read_csv(out, dtype={"ward_code": str})
    assert (table["scenario"] == "cau-moi").all()
    assert {"public_seats_base", "remainder_base", "public_seats_change"} <= set(table.columns)
    assert unknown.exit_code == 2 and "khong-co" in unknown.output
