"""The age structure used to split a population total into single years of age.

Source, stated honestly: Viet Nam's population by five-year age group at the 1 April 2019
census (General Statistics Office, *Completed results of the 2019 Viet Nam Population and
Housing Census*, 2020), as percentages **rounded to 0.1 and written from the published
population pyramid, not copied from the census tables**: treat them as approximate (they sum
to 98.0 % and are normalised). Each five-year group is spread evenly over its single years;
the open group 80+ over 80-89 (:data:`MAX_AGE`). They are national shares: Ho Chi Minh City
has fewer children and more people of working age (migration), so ward figures made with them
are a first estimate, and every population row made this way says so in ``population.method``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Oldest single year of age stored (the open group 80+ is spread over 80-89).
MAX_AGE = 89
#: Percent of the population in each five-year group 0-4, 5-9, ..., 75-79, 80+ (approximate).
FIVE_YEAR_PERCENT: tuple[float, ...] = (
    8.1, 8.3, 6.9, 6.8, 7.2, 8.3, 8.5, 7.7, 7.2, 6.5, 5.7, 5.1, 4.0, 2.8, 1.7, 1.2, 2.0,
)
#: How the shares are described in ``population.method``.
LABEL = "Vietnam 2019 census 5-year age shares (approximate), even within each group"


def single_year_shares() -> NDArray[np.float64]:
    """Return the share of each single year of age 0..:data:`MAX_AGE` (summing to 1)."""
    shares = np.zeros(MAX_AGE + 1)
    for group, percent in enumerate(FIVE_YEAR_PERCENT):
        first = 5 * group
        last = first + 4 if group < len(FIVE_YEAR_PERCENT) - 1 else MAX_AGE
        shares[first:last + 1] = percent / (last - first + 1)
    return np.asarray(shares / shares.sum(), dtype=np.float64)


def band_shares(age_from: int, age_to: int) -> NDArray[np.float64]:
    """Return the shares of ages ``age_from..age_to`` (inclusive) within that band, summing to 1."""
    shares = single_year_shares()[age_from:age_to + 1]
    return np.asarray(shares / shares.sum(), dtype=np.float64)
