"""Where the real HCMC reference files live (read-only, never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def hcmc_data_dir() -> Path:
    """Return the folder of the shared HCMC files.

    Read from ``EDUGIS_HCMC_DATA``; defaults to ``../shared/data/hcmc`` relative to the
    repository root. The folder may not exist: callers decide whether to skip.
    """
    configured = os.environ.get("EDUGIS_HCMC_DATA")
    if configured:
        return Path(configured).expanduser().resolve()
    return (REPO_ROOT / ".." / "shared" / "data" / "hcmc").resolve()


def hcmc_cutoffs_nv1_path() -> Path:
    """Return the path of the grade-10 NV1 cut-off history 2022-2024."""
    return hcmc_data_dir() / "schools" / "hcmc_grade10_cutoffs_nv1_2022_2024.csv"
