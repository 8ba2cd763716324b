"""Why a site was chosen: the demand each site serves and the shortfall it removes, checked by
hand on a small instance."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.siting import SitingProblem, site_contributions

THRESHOLD_S = 600.0


def test_each_site_counts_the_children_it_becomes_nearest_for() -> None:
    # four wards; existing school near ward 0 only (ward 3 has it at 900 s, beyond 10 min)
    time_s = np.array([[900.0, 900.0],
                       [300.0, 900.0],
                       [900.0, 200.0],
                       [500.0, 400.0]])
    weights = np.array([100.0, 40.0, 70.0, 25.0])
    existing = np.array([60.0, 1200.0, np.inf, 900.0])
    problem = SitingProblem.from_matrix(time_s, weights, existing)
    frame = site_contributions(problem, np.array([0, 1]), THRESHOLD_S)
    assert frame["points_served"].tolist() == [1, 2]
    # site 0 serves ward 1 (40, had 1200 s: newly covered); site 1 wards 2 and 3
    assert frame["demand_served"].tolist() == [40.0, 95.0]
    assert frame["newly_covered"].tolist() == [40.0, 95.0]
    # minutes saved where there was a school: ward 1 (1200 -> 300 s), ward 3 (900 -> 400 s)
    assert frame["minutes_saved"].tolist() == pytest.approx([15.0, 500 / 60])
    # nobody counts for a site beyond the threshold, nor when an existing school is nearer
    far = site_contributions(problem, np.array([0]), 250.0)
    assert far["demand_served"].tolist() == [0.0] and np.isnan(far["minutes_saved"].iloc[0])
