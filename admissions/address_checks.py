"""Address checks: applicants whose home does not fit their residence record.

Grade 1 and 6 places go by residence and distance, so a home typed near a sought-after
school, or many children registered at one address, changes who gets in. Two checks run in
PostGIS over a round's applicants; they flag, they never change an allocation, and an
officer decides:

- ``ward_mismatch``: the home point lies more than ``tolerance_m`` outside the ward of the
  residence record (``ward_code``); within the tolerance it is geocoding noise at a
  boundary, not a reason to call a family. A home in no ward (off the city's edge) is
  judged the same way, and a record naming an unknown ward is always flagged. Without
  any ward of today in the database this check has nothing to compare with and is skipped;
  :func:`ward_check_note` then says so (:data:`NO_WARDS`), so that no flag does not read as
  every home checked.
- ``shared_home``: more than ``shared_limit`` applicants of the round have their home at
  the same point (to about a metre).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

#: A home this far outside its declared ward is flagged (metres).
DEFAULT_TOLERANCE_M = 50.0
#: More applicants than this at one home are flagged.
DEFAULT_SHARED_LIMIT = 4
#: Homes closer than this (degrees, about 1.1 m) are the same home.
_SAME_HOME_DEG = 1e-5

#: Why the ward check was skipped, (Vietnamese, English).
NO_WARDS = ("Chưa có ranh giới phường/xã nào để đối chiếu: chưa kiểm tra nhà có nằm trong phường"
            " khai báo không (nạp ranh giới bằng `edugis import boundaries`)",
            "no wards loaded to check against: homes were not checked against their declared"
            " ward (load them with `edugis import boundaries`)")

FLAG_COLUMNS = ("applicant_id", "check", "ward_code", "home_ward_code", "outside_m",
                "shared_count", "reason_vi", "reason_en")


@dataclass(frozen=True)
class CheckLimits:
    """The thresholds of the checks (see the module docstring)."""

    tolerance_m: float = DEFAULT_TOLERANCE_M
    shared_limit: int = DEFAULT_SHARED_LIMIT

    def __post_init__(self) -> None:
        """Refuse a negative tolerance or a shared-home limit below 1."""
        if not self.tolerance_m >= 0:
            raise ValueError("the ward tolerance must be a number of metres >= 0")
        if self.shared_limit < 1:
            raise ValueError("the shared-home limit must be at least 1")


_WARD_MISMATCH = sa.text("""
    SELECT a.applicant_id, a.ward_code, h.code AS home_ward_code,
           ST_Distance(d.geom::geography, a.geom::geography) AS outside_m
    FROM applicants a
    LEFT JOIN admin_units d ON d.code = a.ward_code AND d.level = 'ward'
    LEFT JOIN LATERAL (SELECT w.code FROM admin_units w WHERE w.level = 'ward'
                       AND (w.valid_to IS NULL OR w.valid_to > now())
                       AND ST_Contains(w.geom, a.geom) ORDER BY w.code LIMIT 1) h ON true
    WHERE a.round_id = :r AND a.geom IS NOT NULL AND a.ward_code IS NOT NULL
      AND (CAST(:a AS text) IS NULL OR a.applicant_id = :a)
      AND EXISTS (SELECT 1 FROM admin_units WHERE level = 'ward' AND valid_to IS NULL)
      AND h.code IS DISTINCT FROM a.ward_code
      AND (d.geom IS NULL OR ST_Distance(d.geom::geography, a.geom::geography) > :tol)
    ORDER BY a.applicant_id""")

_SHARED_HOME = sa.text("""
    SELECT * FROM (
        SELECT applicant_id, ward_code, count(*) OVER (PARTITION BY cell) AS shared_count
        FROM (SELECT applicant_id, ward_code, ST_SnapToGrid(geom, :grid) AS cell
              FROM applicants WHERE round_id = :r AND geom IS NOT NULL) a) counted
    WHERE shared_count > :limit AND (CAST(:a AS text) IS NULL OR applicant_id = :a)
    ORDER BY applicant_id""")


def address_flags(engine: Engine, round_id: str, limits: CheckLimits | None = None, *,
                  applicant_id: str | None = None) -> pd.DataFrame:
    """Return the flagged applicants of ``round_id`` (or the flags of one applicant).

    One row per applicant and check, with the columns :data:`FLAG_COLUMNS` and the reason in
    Vietnamese and English.
    """
    limits = limits or CheckLimits()
    with engine.connect() as conn:
        mismatch = pd.DataFrame(conn.execute(_WARD_MISMATCH, {
            "r": round_id, "a": applicant_id, "tol": limits.tolerance_m}).all(),
            columns=["applicant_id", "ward_code", "home_ward_code", "outside_m"])
        shared = pd.DataFrame(conn.execute(_SHARED_HOME, {
            "r": round_id, "a": applicant_id, "grid": _SAME_HOME_DEG,
            "limit": limits.shared_limit}).all(),
            columns=["applicant_id", "ward_code", "shared_count"])
    rows = []
    for r in mismatch.itertuples(index=False):
        if r.home_ward_code is None:
            vi = f"Nhà không nằm trong phường nào (hồ sơ khai phường {r.ward_code})"
            en = f"the home lies in no ward (the record says ward {r.ward_code})"
        else:
            away = "" if pd.isna(r.outside_m) else f", cách phường {r.ward_code} {r.outside_m:.0f} m"
            away_en = "" if pd.isna(r.outside_m) else f", {r.outside_m:.0f} m outside ward {r.ward_code}"
            vi = f"Nhà nằm ở phường {r.home_ward_code}, hồ sơ khai phường {r.ward_code}{away}"
            en = f"the home lies in ward {r.home_ward_code}, the record says {r.ward_code}{away_en}"
        rows.append({"applicant_id": r.applicant_id, "check": "ward_mismatch",
                     "ward_code": r.ward_code, "home_ward_code": r.home_ward_code,
                     "outside_m": None if pd.isna(r.outside_m) else round(float(r.outside_m), 1),
                     "shared_count": None, "reason_vi": vi, "reason_en": en})
    for r in shared.itertuples(index=False):
        rows.append({"applicant_id": r.applicant_id, "check": "shared_home",
                     "ward_code": r.ward_code, "home_ward_code": None, "outside_m": None,
                     "shared_count": int(r.shared_count),
                     "reason_vi": f"{r.shared_count} hồ sơ có cùng vị trí nhà",
                     "reason_en": f"{r.shared_count} applicants have their home at this point"})
    frame = pd.DataFrame(rows, columns=list(FLAG_COLUMNS)).astype(
        {"outside_m": "float64", "shared_count": "Int64"})
    return frame.sort_values(["applicant_id", "check"], kind="stable").reset_index(drop=True)


def ward_check_note(engine: Engine) -> tuple[str, str] | None:
    """Return :data:`NO_WARDS` when no ward of today is loaded (the ward check is skipped)."""
    with engine.connect() as conn:
        loaded = conn.execute(sa.text(
            "SELECT EXISTS (SELECT 1 FROM admin_units WHERE level = 'ward' AND valid_to IS NULL)"
        )).scalar()
    return None if loaded else NO_WARDS
