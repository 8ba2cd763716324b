"""The words of forecasting and planning, as the ``Literal`` aliases the CLI and web accept.

Typer and FastAPI refuse any other string with a message listing these, so a misspelt
model or level fails at the boundary instead of silently becoming another one. The module
imports nothing heavy: the command modules annotate their options with it at import time.
Tests check that each alias lists exactly what the implementation knows.
"""

from __future__ import annotations

from typing import Literal

#: ``entry``: the level's first grade; ``total``: every grade of the level.
Measure = Literal["entry", "total"]
#: Siting models (:data:`forecasting.siting.MODELS`); the name is stored with each run.
ModelName = Literal["p_median", "max_coverage"]
#: How a siting run is solved: both and keep the better, the MILP, or the heuristic alone.
SitingMethod = Literal["auto", "exact", "heuristic"]
#: Distance decay of the 2SFCA (:func:`forecasting.accessibility.decay_weights`).
Decay = Literal["binary", "gaussian"]
#: Enrolment forecast methods: ``auto`` is the backtest's winner per level, the others
#: are :data:`forecasting.backtest.FORECASTERS`.
ForecastMethod = Literal["auto", "cohort", "challenger", "naive"]
