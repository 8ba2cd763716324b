"""The words the forecasting CLI and the planners' pages accept are exactly the ones the
implementation knows, so an unknown one fails at the boundary, naming the known ones."""

from __future__ import annotations

from typing import get_args

from forecasting.backtest import FORECASTERS
from forecasting.enrolment import MEASURES
from forecasting.siting import MODELS
from forecasting.vocabulary import Decay, ForecastMethod, Measure, ModelName


def test_every_alias_lists_exactly_what_the_implementation_knows() -> None:
    assert get_args(ModelName) == tuple(MODELS)
    assert get_args(Measure) == MEASURES
    assert get_args(ForecastMethod) == ("auto", *FORECASTERS)
    assert get_args(Decay) == ("binary", "gaussian")

