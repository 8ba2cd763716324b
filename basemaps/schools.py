"""Read school files (CSV contract of ARCHITECTURE.md §8, or GeoJSON) with row-level checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import CRS

from basemaps._frames import parse_float, parse_int, read_csv, read_vector
from gis_service.crs import parse_crs, to_storage
from gis_service.csv_cells import csv_text
from gis_service.errors import InputError, Problem
from gis_service.levels import SCHOOL_LEVELS
from gis_service.models import OWNERSHIPS
from gis_service.text_search import fold

REQUIRED = ("code", "name", "level", "ownership")
OPTIONAL_TEXT = ("district_code", "ward_code", "address")
CAPACITIES = ("capacity_grade1", "capacity_grade6", "capacity_grade10")
#: Longest value of the coded columns (``schools.code``, ``district_code``, ``ward_code``).
MAX_CHARS = {"code": 32, "district_code": 16, "ward_code": 16}
SCHOOL_COLUMNS = ["code", "name", "level", "ownership", "lon", "lat", *OPTIONAL_TEXT, *CAPACITIES,
                  "programmes", "levels"]
#: Separator of the optional ``programmes`` column ("Thường (đại trà); Tích hợp"), and of the
#: levels of a multi-level school ("primary;lower_secondary").
PROGRAMME_SEPARATOR = LEVEL_SEPARATOR = ";"
#: ``level`` of a multi-level school (trường liên cấp) whose ``levels`` column lists them.
MULTI_LEVEL = ("lien_cap", "lien cap")
#: Ownership as Vietnamese files write it, folded (công lập is public; tư thục, dân lập and
#: ngoài công lập are private).
OWNERSHIP_WORDS = {"cong lap": "public", "tu thuc": "private", "dan lap": "private",
                   "ngoai cong lap": "private"}
#: Vocational and continuing-education centres as Vietnamese files name them, folded
#: (trung tâm GDNN-GDTX, GDTX, trung cấp): the level ``vocational``.
LEVEL_WORDS = {word: "vocational" for word in (
    "gdnn-gdtx", "gdnn_gdtx", "gdnn gdtx", "gdtx", "gdnn", "trung tam gdnn-gdtx", "trung cap",
    "giao duc nghe nghiep - giao duc thuong xuyen")}

#: Why a school row or file is refused, as (Vietnamese, English) ``str.format`` templates.
REASONS: dict[str, tuple[str, str]] = {
    "xy_need_crs": ("cột x,y cần hệ tọa độ: thêm --crs (ví dụ EPSG:9210)",
                    "x,y columns need their CRS: pass --crs (e.g. EPSG:9210)"),
    "missing_columns": ("thiếu cột {columns}; cần các cột code,name,level,ownership,lon,lat",
                        "missing column(s) {columns}; expected code,name,level,ownership,lon,lat"),
    "missing_code": ("thiếu mã trường", "missing school code"),
    "duplicate_code": ("mã {code} bị trùng (xuất hiện lần đầu ở dòng {first})",
                       "duplicate code {code} (first at row {first})"),
    "missing_name": ("thiếu tên trường", "missing name"),
    "unknown_level": ("cấp học không hợp lệ {value!r}; dùng một trong {allowed}"
                      " (trung tâm GDNN-GDTX, trung cấp: vocational)",
                      "unknown level {value!r}; one of {allowed}"
                      " (vocational and continuing-education centres, GDNN-GDTX: vocational)"),
    "lien_cap_levels": ("trường liên cấp cần cột levels (ví dụ primary;lower_secondary)",
                        "a multi-level (lien_cap) school needs a levels column, e.g."
                        " primary;lower_secondary"),
    "unknown_ownership": ("loại hình không hợp lệ {value!r}; dùng public hoặc private",
                          "unknown ownership {value!r}; public or private"),
    "bad_coordinates": ("tọa độ không hợp lệ {lon!r}, {lat!r}", "bad coordinates {lon!r}, {lat!r}"),
    "coordinates_range": ("tọa độ nằm ngoài phạm vi: {lon}, {lat}", "coordinates out of range: {lon}, {lat}"),
    "not_whole": ("không phải số nguyên: {value!r}", "not a whole number: {value!r}"),
    "no_rows": ("tệp không có dòng dữ liệu nào: không lưu gì",
                "the file has no data rows: nothing is stored"),
    "too_long": ("dài {length} ký tự, tối đa {limit}", "{length} characters, at most {limit}"),
    "negative_capacity": ("chỉ tiêu âm {value}", "negative capacity {value}"),
}


def read_schools(path: str | Path, crs: str | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Read and check a school file; return clean rows (lon/lat in EPSG:4326) and problems.

    CSV rows carry ``lon,lat`` (WGS84) or ``x,y`` in the CRS given by ``crs``.
    """
    path = Path(path)
    if path.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp"):
        frame = read_vector(path, crs)
        # pandas 3 keeps a missing value missing through astype(str): blank it first
        cells = pd.DataFrame(frame.drop(columns="geometry")).astype(object)
        table = cells.where(cells.notna(), "").astype(str)
        points = frame.geometry
        bad_geom = points.isna() | points.is_empty | (points.geom_type != "Point")
        table["lon"] = np.where(bad_geom, "", points.x.where(~bad_geom).astype(str))
        table["lat"] = np.where(bad_geom, "", points.y.where(~bad_geom).astype(str))
        source_crs: str | None = "EPSG:4326"
    else:
        table = read_csv(path)
        source_crs = crs if crs else "EPSG:4326"
        if "x" in table.columns and "y" in table.columns and "lon" not in table.columns:
            if not crs:
                raise InputError(Problem.of(str(path), None, "x", REASONS["xy_need_crs"]))
            table = table.rename(columns={"x": "lon", "y": "lat"})
    if table.empty:
        raise InputError(Problem.of(str(path), None, None, REASONS["no_rows"]))
    missing = [c for c in (*REQUIRED, "lon", "lat") if c not in table.columns]
    if missing:
        raise InputError(Problem.of(str(path), None, missing[0], REASONS["missing_columns"],
                                    columns=", ".join(missing)))
    return _check_rows(path, table, source_crs)


#: A refusal found in one row: (field, key of :data:`REASONS`, values of its templates).
Finding = tuple[str, str, dict[str, object]]
#: Columns whose value must be one of a vocabulary, with the reason of a value outside it.
CHOICES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("ownership", OWNERSHIPS, "unknown_ownership"),
)


def _check_rows(
    path: Path, table: pd.DataFrame, source_crs: str | None
) -> tuple[pd.DataFrame, list[Problem]]:
    problems: list[Problem] = []
    records: list[dict[str, object]] = []
    first_row: dict[str, int] = {}
    crs = parse_crs(source_crs)
    for row_number, row in enumerate(table.to_dict("records"), start=1):
        code = row["code"].strip()
        findings = _text_findings(row, code, first_row)
        if code and code not in first_row:
            first_row[code] = row_number
        lon, lat, position_findings = _position(row, crs)
        capacities, capacity_findings = _capacities(row)
        findings += position_findings + capacity_findings
        if findings:
            problems.extend(Problem.of(str(path), row_number, field, REASONS[key], **values)
                            for field, key, values in findings)
            continue
        records.append(_record(row, code, lon, lat, capacities, row_number))
    frame = pd.DataFrame(records, columns=[*SCHOOL_COLUMNS, "row"])
    return frame, problems


def _text_findings(row: dict[str, str], code: str, first_row: dict[str, int]) -> list[Finding]:
    """Check the code (present, not seen before), the coded columns' lengths and the choices."""
    findings: list[Finding] = []
    if not code:
        findings.append(("code", "missing_code", {}))
    elif code in first_row:
        findings.append(("code", "duplicate_code", {"code": code, "first": first_row[code]}))
    for column, limit in MAX_CHARS.items():
        text = (row.get(column) or "").strip()
        if len(text) > limit:
            findings.append((column, "too_long", {"length": len(text), "limit": limit}))
    if not row["name"].strip():
        findings.append(("name", "missing_name", {}))
    for column, allowed, key in CHOICES:
        if _ownership(row[column]) not in allowed:
            findings.append((column, key, {"value": row[column], "allowed": ", ".join(allowed)}))
    return findings + _levels(row)[1]


def _ownership(text: str) -> str:
    """Return ``public`` / ``private`` for the English or Vietnamese word (else the text)."""
    return OWNERSHIP_WORDS.get(fold(text), text.strip())


def _levels(row: dict[str, str]) -> tuple[list[str], list[Finding]]:
    """Return every level of the row's school, youngest first, and what is wrong with them.

    ``level`` holds one level, several separated by ``;``, or ``lien_cap`` with the levels in
    the ``levels`` column; levels in ``levels`` are added to the one in ``level``.
    """
    level = row["level"].strip()
    listed = [t.strip() for t in (row.get("levels") or "").split(LEVEL_SEPARATOR) if t.strip()]
    if fold(level) in MULTI_LEVEL:
        if not listed:
            return [], [("levels", "lien_cap_levels", {})]
        named = listed
    else:
        named = [t.strip() for t in level.split(LEVEL_SEPARATOR) if t.strip()] + listed
    named = [LEVEL_WORDS.get(fold(t), t) for t in named]
    unknown = [t for t in named if t not in SCHOOL_LEVELS]
    if unknown or not named:
        field = "level" if not unknown or unknown[0] not in listed else "levels"
        return [], [(field, "unknown_level", {"value": unknown[0] if unknown else level,
                                              "allowed": ", ".join(SCHOOL_LEVELS)})]
    return [lv for lv in SCHOOL_LEVELS if lv in named], []


def _position(row: dict[str, str], crs: CRS) -> tuple[float, float, list[Finding]]:
    """Return the row's lon/lat in EPSG:4326 (NaN when unreadable) and what is wrong with them."""
    x, y = parse_float(row["lon"]), parse_float(row["lat"])
    raw: dict[str, object] = {"lon": row["lon"], "lat": row["lat"]}
    if x is None or y is None or not (np.isfinite(x) and np.isfinite(y)):
        return float("nan"), float("nan"), [("lon" if x is None else "lat", "bad_coordinates", raw)]
    lon_a, lat_a = to_storage(x, y, crs)
    lon, lat = float(lon_a), float(lat_a)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return lon, lat, [("lon", "coordinates_range", raw)]
    return lon, lat, []


def _capacities(row: dict[str, str]) -> tuple[dict[str, int | None], list[Finding]]:
    """Return the row's capacities (``None`` when blank) and the cells that are not one."""
    capacities: dict[str, int | None] = {}
    findings: list[Finding] = []
    for column in CAPACITIES:
        raw = row.get(column, "")
        value = parse_int(raw) if raw is not None else None
        if raw and raw.strip() and value is None:
            findings.append((column, "not_whole", {"value": raw}))
        elif value is not None and value < 0:
            findings.append((column, "negative_capacity", {"value": value}))
        capacities[column] = value
    return capacities, findings


def _record(row: dict[str, str], code: str, lon: float, lat: float,
            capacities: dict[str, int | None], row_number: int) -> dict[str, object]:
    """Return the clean record of an accepted row (the columns of :data:`SCHOOL_COLUMNS`)."""
    levels = _levels(row)[0]
    return {
        "code": code, "name": row["name"].strip(), "level": levels[0], "levels": levels,
        "ownership": _ownership(row["ownership"]), "lon": lon, "lat": lat,
        **{c: (row.get(c) or "").strip() or None for c in OPTIONAL_TEXT},
        **capacities, "row": row_number,
        "programmes": [p.strip() for p in (row.get("programmes") or "").split(PROGRAMME_SEPARATOR)
                       if p.strip()],
    }


#: Columns of the problem report (``import schools --report``).
PROBLEM_COLUMNS = ("file", "row", "field", "reason_vi", "reason")


def write_problems(problems: list[Problem], path: Path) -> None:
    """Write every problem (not only the first 50 an error message shows) to a CSV file."""
    path.write_text(csv_text(({"file": p.file, "row": p.row, "field": p.field,
                               "reason_vi": p.reason_vi, "reason": p.reason} for p in problems),
                             PROBLEM_COLUMNS), encoding="utf-8")
