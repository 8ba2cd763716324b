"""What the enrolment forecast reads: the advice when inputs are missing, births from age 0."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from forecasting import queries
from gis_service import db
from gis_service.errors import StateError
from tests.conftest import _clone


@pytest.fixture()
def empty(template_url: str) -> Iterator[Engine]:
    """A database with the schema and nothing in it."""
    url = _clone(template_url)
    engine = db.create_engine(url)
    yield engine
    engine.dispose()
    db.drop_database(url)


def test_no_history_says_what_to_import_in_vietnamese_and_english(empty: Engine) -> None:
    with pytest.raises(StateError) as caught:
        queries.enrolment_inputs(empty)
    error = caught.value
    assert error.message_vi is not None and str(error).startswith(error.message_vi)
    assert "dân số" in error.message_vi and "sĩ số học sinh" in error.message_vi
    for text in (error.message, error.message_vi):
        assert "edugis import population FILE" in text and "edugis import enrolment FILE" in text
        assert "demo" not in text


def test_births_missing_for_a_ward_and_year_come_from_its_age_zero() -> None:
    births = pd.DataFrame({"ward_code": ["W1"], "year": [2023], "births": [90.0]})
    population = pd.DataFrame({"ward_code": ["W1", "W1", "W1", "W2"],
                               "year": [2023, 2024, 2024, 2024], "age": [0, 0, 1, 0],
                               "count": [80.0, 85.0, 70.0, 40.0]})
    filled = queries._with_age_zero(births, population).sort_values(["ward_code", "year"])
    assert list(filled.itertuples(index=False, name=None)) == [
        ("W1", 2023, 90.0), ("W1", 2024, 85.0), ("W2", 2024, 40.0)]  # recorded births kept
    assert queries._with_age_zero(births, population[population["age"] > 0]).equals(births)
