"""Shared helpers for reading tabular / vector inputs with row-level problems."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from gis_service.crs import STORAGE_CRS, parse_crs, to_storage
from gis_service.csv_cells import long_cells
from gis_service.errors import CRSError, InputError, Problem


def read_csv(path: Path) -> pd.DataFrame:
    """Read a UTF-8 CSV as strings (no type guessing), or raise an InputError naming the file.

    The error also names the row and field of each cell longer than
    :data:`gis_service.csv_cells.MAX_CELL_CHARS`.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(Problem(str(path), None, None, f"not a readable UTF-8 CSV: {exc}",
                                 reason_vi=f"không đọc được tệp CSV UTF-8: {exc}")) from exc
    problems = long_cells(frame, str(path))
    if problems:
        raise InputError(problems)
    return frame


def read_vector(path: Path, declared_crs: str | None) -> gpd.GeoDataFrame:
    """Read a GeoJSON / GeoPackage / Shapefile in storage CRS, refusing files with no CRS.

    A ``declared_crs`` that disagrees with the file's own CRS is an error, not a choice.
    """
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(Problem(str(path), None, None, f"not a readable vector file: {exc}",
                                 reason_vi=f"không đọc được tệp bản đồ: {exc}")) from exc
    file_crs = frame.crs
    declared = parse_crs(declared_crs, what=str(path)) if declared_crs else None
    if file_crs is None and declared is None:
        raise CRSError(f"{path}: the file declares no CRS; give one with --crs (e.g. EPSG:9210)")
    # GeoJSON is CRS84 by definition: a VN-2000 grid in it is a mislabelled file, which --crs fixes
    mislabelled_geojson = (
        file_crs is not None and CRS(file_crs) == STORAGE_CRS and _looks_projected(frame))
    if (file_crs is not None and declared is not None and CRS(file_crs) != declared
            and not mislabelled_geojson):
        raise CRSError(f"{path}: file says {CRS(file_crs).name}, --crs says {declared.name}")
    source = declared or CRS(file_crs)
    if _looks_projected(frame) and not source.is_projected:
        raise CRSError(
            f"{path}: coordinates look like metres but the CRS is {source.name}; "
            "declare the grid with --crs (e.g. EPSG:9210)"
        )
    return to_storage_frame(frame.set_crs(source, allow_override=True))


def _looks_projected(frame: gpd.GeoDataFrame) -> bool:
    minx, miny, maxx, maxy = frame.total_bounds
    return bool(max(abs(minx), abs(maxx)) > 360 or max(abs(miny), abs(maxy)) > 360)


def to_storage_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject ``frame`` to EPSG:4326 through :mod:`gis_service.crs` (VN-2000 via 6960)."""
    if CRS(frame.crs) == STORAGE_CRS:
        return frame
    import shapely

    source = CRS(frame.crs)

    def transform(coords: "shapely.typing.ArrayLike") -> "shapely.typing.ArrayLike":  # noqa: UP037
        import numpy as np

        lon, lat = to_storage(coords[:, 0], coords[:, 1], source)
        return np.column_stack([lon, lat])

    geometry = shapely.transform(frame.geometry.to_numpy(), transform)
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geometry, crs=STORAGE_CRS)


def parse_float(value: str) -> float | None:
    try:
        number = float(value.replace(",", ".")) if value.strip() else None
    except ValueError:
        return None
    return number


def parse_int(value: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        number = parse_float(text)
        return int(number) if number is not None and number.is_integer() else None
