"""A small hand-made two-tier geography: a province of today with two wards, and the two
former districts and three former wards it replaced on 1 July 2025.

    106.6      106.7      106.8                107.0
      | D1: W1a,W1b | D2: W2 |  (former Bình Dương)  |   10.7 - 10.8 (districts, history)
      |        N1 (W1a + W1b + W2)  |       N2         |   10.7 - 11.0 (wards of today)
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import shapely
from sqlalchemy.engine import Engine

from basemaps.store import store_boundaries

JULY_2025 = date(2025, 7, 1)


def _units(rows: list[tuple[str, str, str, str | None, tuple[float, float, float, float]]]
           ) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        [{"code": c, "name": n, "level": lv, "parent_code": p} for c, n, lv, p, _ in rows],
        geometry=[shapely.MultiPolygon([shapely.box(*b)]) for *_, b in rows], crs="EPSG:4326")


def store_history(engine: Engine) -> None:
    """Store the former districts and wards (valid until 1 July 2025)."""
    store_boundaries(engine, _units([
        ("D1", "Quận Một", "district", None, (106.6, 10.7, 106.7, 10.8)),
        ("D2", "Quận Hai", "district", None, (106.7, 10.7, 106.8, 10.8)),
        ("W1a", "Phường 1A", "ward", "D1", (106.6, 10.7, 106.65, 10.8)),
        ("W1b", "Phường 1B", "ward", "D1", (106.65, 10.7, 106.7, 10.8)),
        ("W2", "Phường 2", "ward", "D2", (106.7, 10.7, 106.8, 10.8)),
    ]), [], "history", valid_to=JULY_2025)


def store_today(engine: Engine, with_province: bool = True) -> None:
    """Store the wards of today (and the province, unless ``with_province`` is false)."""
    province = [("P", "Thành phố Thử", "province", None, (106.6, 10.7, 107.0, 11.0))]
    store_boundaries(engine, _units([
        *(province if with_province else []),
        ("N1", "Phường Mới Một", "ward", None, (106.6, 10.7, 106.8, 10.8)),
        ("N2", "Phường Mới Hai", "ward", None, (106.8, 10.7, 107.0, 11.0)),
    ]), [], "today", valid_from=JULY_2025)
