"""Fixtures of the forecasting tests: the real HCMC grade-10 cut-off history."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import hcmc_data_dir


@pytest.fixture(scope="session")
def hcmc_cutoffs_nv1() -> Path:
    """The grade-10 NV1 cut-off history 2022-2024 (read-only, never copied into the repo);
    tests using it skip, with the reason, when it is absent."""
    path = hcmc_data_dir() / "schools" / "hcmc_grade10_cutoffs_nv1_2022_2024.csv"
    if not path.exists():
        pytest.skip(f"real HCMC cut-off file not found at {path} (set EDUGIS_HCMC_DATA)")
    return path
