"""Long data frames <-> dense ward x year x age (or grade) arrays, with validation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gis_service.errors import InputError, Problem

FloatArray = npt.NDArray[np.float64]


def require_columns(frame: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    """Raise :class:`InputError` naming every missing column."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError([Problem(source, None, c, "required column is missing") for c in missing])


def require_numeric(frame: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    """Raise :class:`InputError` for non-numeric or negative values (rows are 1-based)."""
    problems: list[Problem] = []
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        for position in np.flatnonzero((values.isna() | (values < 0)).to_numpy()):
            problems.append(Problem(source, int(position) + 1, column, "not a non-negative number"))
            if len(problems) > 200:
                raise InputError(problems)
    if problems:
        raise InputError(problems)


@dataclass(frozen=True)
class Panel:
    """A dense array over ``wards x years x keys`` with NaN where the input had no row."""

    wards: list[str]
    years: list[int]
    keys: list[int]
    values: FloatArray

    def year_index(self, year: int) -> int:
        """Position of ``year`` in :attr:`years`."""
        return self.years.index(year)


def to_panel(
    frame: pd.DataFrame,
    key_column: str,
    value_column: str,
    source: str,
    wards: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    keys: Sequence[int] | None = None,
) -> Panel:
    """Pivot ``ward_code, year, <key>, <value>`` into a dense array (sums duplicate rows).

    Parameters
    ----------
    frame
        Long frame.
    key_column
        ``age`` or ``grade``.
    value_column
        ``count``.
    source
        Name for error messages.
    wards, years, keys
        Axis labels; default the sorted values present (years filled to a contiguous range).
    """
    require_columns(frame, ["ward_code", "year", key_column, value_column], source)
    require_numeric(frame, ["year", key_column, value_column], source)
    ward_codes = frame["ward_code"].astype(str).to_numpy()
    year_values = frame["year"].to_numpy(dtype=np.int64)
    key_values = frame[key_column].to_numpy(dtype=np.int64)
    ward_axis = list(wards) if wards is not None else sorted(set(ward_codes.tolist()))
    if years is not None:
        year_axis = list(years)
    else:
        year_axis = list(range(int(year_values.min()), int(year_values.max()) + 1))
    key_axis = list(keys) if keys is not None else sorted(set(key_values.tolist()))
    w = pd.Index(ward_axis).get_indexer(ward_codes)
    y = pd.Index(year_axis).get_indexer(year_values)
    k = pd.Index(key_axis).get_indexer(key_values)
    keep = (w >= 0) & (y >= 0) & (k >= 0)
    values = np.zeros((len(ward_axis), len(year_axis), len(key_axis)))
    seen = np.zeros(values.shape, dtype=bool)
    np.add.at(values, (w[keep], y[keep], k[keep]), frame[value_column].to_numpy(float)[keep])
    seen[w[keep], y[keep], k[keep]] = True
    return Panel(ward_axis, year_axis, key_axis, np.where(seen, values, np.nan))


def births_array(
    births: pd.DataFrame, wards: Sequence[str], years: Sequence[int], source: str = "births"
) -> FloatArray:
    """Births as a ``wards x years`` array (NaN where absent)."""
    require_columns(births, ["ward_code", "year", "births"], source)
    require_numeric(births, ["year", "births"], source)
    w = pd.Index(list(wards)).get_indexer(births["ward_code"].astype(str))
    y = pd.Index(list(years)).get_indexer(births["year"].to_numpy(dtype=np.int64))
    keep = (w >= 0) & (y >= 0)
    values = np.full((len(wards), len(years)), np.nan)
    values[w[keep], y[keep]] = births["births"].to_numpy(float)[keep]
    return values


def panel_to_frame(
    wards: Sequence[str], years: Sequence[int], keys: Sequence[int], values: FloatArray,
    key_column: str, value_column: str,
) -> pd.DataFrame:
    """Inverse of :func:`to_panel`: a ``wards x years x keys`` array to a long frame."""
    w, y, k = np.meshgrid(
        np.arange(len(wards)), np.arange(len(years)), np.arange(len(keys)), indexing="ij"
    )
    return pd.DataFrame(
        {
            "ward_code": np.asarray(wards, dtype=object)[w.ravel()],
            "year": np.asarray(years, dtype=np.int64)[y.ravel()],
            key_column: np.asarray(keys, dtype=np.int64)[k.ravel()],
            value_column: values.ravel(),
        }
    )
