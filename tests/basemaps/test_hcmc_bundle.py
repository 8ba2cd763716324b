"""bin/make-hcmc-bundle rebuilds data/hcmc byte for byte from the shared HCMC data."""

from __future__ import annotations

from pathlib import Path

from basemaps.hcmc_bundle import BUNDLE_FILES, build_bundle

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_bundle_is_what_the_build_makes(hcmc: Path, tmp_path: Path) -> None:
    report = build_bundle(hcmc, tmp_path)
    assert any(line.startswith("boundaries: 22 of 24 districts") for line in report.lines)
    for name in BUNDLE_FILES:
        assert (tmp_path / name).read_bytes() == (REPO / "data" / "hcmc" / name).read_bytes(), name

