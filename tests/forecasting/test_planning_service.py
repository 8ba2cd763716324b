"""Planning on the demo city in PostGIS: forecasts, gaps, sites and the what-if, stored."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from basemaps.demo_city import generate_demo_city
from forecasting import service
from gis_service import db
from gis_service.errors import InvalidValueError
from tests.conftest import _clone
from web.demo_data import load_demo_city

LEVEL, YEAR, MINUTES = "primary", 2027, 10.0


@pytest.fixture(scope="module")
def planned(template_url: str) -> Iterator[Engine]:
    """A demo-city database where forecasts and gaps have been computed and stored."""
    url = _clone(template_url)
    engine = db.create_engine(url)
    load_demo_city(engine, generate_demo_city())
    service.forecast_and_store(engine, horizon_years=10)
    service.gaps_and_store(engine, LEVEL, YEAR, MINUTES)
    yield engine
    engine.dispose()
    db.drop_database(url)


def _frame(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql)).all()]


def test_forecasts_stored_for_every_ward_level_and_year(planned: Engine) -> None:
    (wards,) = _frame(planned, "SELECT count(*) FROM admin_units WHERE level = 'ward'")[0]
    rows = _frame(planned, "SELECT level, measure, count(DISTINCT ward_code), count(DISTINCT year),"
                           " bool_and(0 <= lower AND lower < upper)"
                           " FROM enrolment_forecasts GROUP BY 1, 2 ORDER BY 1, 2")
    assert len(rows) == 6  # 3 levels x (entry, total)
    for _level, _measure, n_wards, n_years, ordered in rows:
        assert n_wards == wards and n_years == 10 and ordered is True
    (methods,) = _frame(planned, "SELECT count(DISTINCT method) FROM enrolment_forecasts")[0]
    assert 1 <= int(methods) <= 3  # type: ignore[call-overload]


def test_gaps_stored_per_ward_and_consistent(planned: Engine) -> None:
    rows = _frame(planned, f"SELECT demand, accessible_seats, shortfall_seats FROM capacity_gaps"
                           f" WHERE level = '{LEVEL}' AND year = {YEAR}")
    (wards,) = _frame(planned, "SELECT count(*) FROM admin_units WHERE level = 'ward'")[0]
    assert len(rows) == wards
    demand, accessible, shortfall = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    np.testing.assert_allclose(shortfall, np.maximum(demand - accessible, 0), atol=1e-6)
    (seats,) = _frame(planned, "SELECT sum(capacity_grade1) FROM schools WHERE level = 'primary'")[0]
    assert accessible.sum() <= float(seats) + 1e-6  # type: ignore[arg-type]


def test_sites_are_stored_in_underserved_wards_and_help(planned: Engine) -> None:
    run = service.sites_and_store(planned, LEVEL, YEAR, p=2, threshold_min=MINUTES,
                                  max_candidates=300)
    stored = _frame(planned, f"SELECT rank, ward_code FROM proposed_sites WHERE run_id = '{run.run_id}'"
                             " ORDER BY rank")
    assert [r[0] for r in stored] == [1, 2]
    short = {r[0] for r in _frame(planned, "SELECT ward_code FROM capacity_gaps"
                                           " WHERE shortfall_seats > 0")}
    assert {r[1] for r in stored} <= short
    before, after = run.summary.set_index("scenario")["mean_time_s"]
    assert after <= before
    if run.gap_to_bound is not None:
        assert run.gap_to_bound < 0.01

    what_if = service.what_if_sites(planned, run.run_id, "demo-2026-g1").set_index("scenario")
    assert what_if.loc["after", "schools"] == what_if.loc["before", "schools"] + 2
    assert what_if.loc["after", "unplaced"] <= what_if.loc["before", "unplaced"]
    assert what_if.loc["after", "placed"] >= what_if.loc["before", "placed"]


@pytest.mark.parametrize(("level", "model", "allowed"), [
    # an unknown model used to become max_coverage without a word
    (LEVEL, "max_cover", "choose one of p_median, max_coverage"),
    ("preschool", "p_median", "choose one of primary, lower_secondary, upper_secondary"),
])
def test_an_unknown_model_or_level_is_refused_naming_the_known_ones(
        planned: Engine, level: str, model: str, allowed: str) -> None:
    runs = _frame(planned, "SELECT count(*) FROM proposed_sites")
    with pytest.raises(InvalidValueError, match=allowed):
        service.sites_and_store(planned, level, YEAR, p=2, model=model)  # type: ignore[arg-type]
    assert _frame(planned, "SELECT count(*) FROM proposed_sites") == runs
    with pytest.raises(InvalidValueError, match="choose one of primary"):
        service.gaps_and_store(planned, "nursery", YEAR)  # type: ignore[arg-type]
