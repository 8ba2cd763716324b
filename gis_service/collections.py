"""The feature collections edugis publishes, as SQL sources over the core tables.

What OGC API - Features and Tiles serve (``web/ogc_features.py``, ``web/tiles.py``) is
defined here, with the queries that read it in :mod:`gis_service.features` and
:mod:`gis_service.vector_tiles`. Only public columns are listed, so personal data
(applicants, allocations, users) can never be published by accident. Every table a source
reads is a core table of ``gis_service/models.py`` with a data version
(:data:`gis_service.changes.WATCHED_TABLES`), so the sources live at this layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutputCrs:
    """How to write coordinates in one supported CRS.

    Attributes
    ----------
    uri
        The OGC URI of the CRS.
    srid
        SRID for PostGIS ``ST_Transform`` (the custom EPSG:6960-pinned one for VN-2000).
    lat_first
        True when the CRS's first axis is latitude (EPSG:4326), so coordinates are flipped.
    decimals
        Digits kept in GeoJSON output: 1e-8 degrees or 1 mm.
    """

    uri: str
    srid: int
    lat_first: bool
    decimals: int


@dataclass(frozen=True)
class Collection:
    """One published collection: where its rows come from and which columns are public.

    Attributes
    ----------
    id, title, description
        As shown in ``/ogc/collections``.
    source
        A SQL ``FROM`` item (table or sub-select) with columns ``fid``, ``geom`` and the
        ``properties``.
    properties
        Public columns, in output order.
    filters
        Query parameters that filter by equality on a property (``level=primary``).
    temporal
        ``(start, end)`` columns for ``datetime`` filtering, when the rows have a validity.
    attribution
        Shown with the data (OSM licence where OSM data is included).
    tables
        The tables ``source`` reads: their versions (:mod:`gis_service.changes`) decide
        when a cached tile of the collection is stale.
    max_limit
        Most features one ``/items`` page holds: a larger ``limit`` is served as this one,
        with a ``next`` link (large collections page smaller, so that no anonymous request
        holds a worker for long).
    order_by
        The SQL ``ORDER BY`` of the pages: a total order, preferably one an index gives.
    """

    id: str
    title: str
    description: str
    source: str
    properties: tuple[str, ...]
    filters: tuple[str, ...] = ()
    temporal: tuple[str, str] | None = None
    attribution: str = "edugis, Sở Giáo dục và Đào tạo TP.HCM"
    keywords: tuple[str, ...] = field(default_factory=tuple)
    tables: tuple[str, ...] = ()
    max_limit: int = 10_000
    order_by: str = "fid"


def _kids(age: int) -> str:
    return (f"(SELECT ward_code, sum(count) AS n FROM population WHERE age = {age}"
            " AND year = (SELECT max(year) FROM population) GROUP BY ward_code)")


def _places(column: str) -> str:
    return f"(SELECT ward_code, sum({column}) AS n FROM schools GROUP BY ward_code)"


def _census_gaps(level: str, age: int, column: str) -> str:
    """Return the SQL of the fallback rows of one level, for the latest population year.

    Children of entry age in the ward are set against the places of the ward's own schools
    (no travel time).
    """
    return (
        f"SELECT w.code || '.{level}' AS fid, w.geom, w.code, w.name, w.parent_code AS district_code,"
        f" CAST('{level}' AS text) AS level, (SELECT max(year) FROM population) AS year,"
        " CAST(NULL AS float8) AS threshold_min, CAST(coalesce(k.n, 0) AS float8) AS demand,"
        " CAST(coalesce(p.n, 0) AS float8) AS seats_within_threshold,"
        " CAST(p.n AS float8) / NULLIF(k.n, 0) AS seats_per_child,"
        " CAST(least(coalesce(p.n, 0), coalesce(k.n, 0)) AS float8) AS accessible_seats,"
        " CAST(greatest(coalesce(k.n, 0) - coalesce(p.n, 0), 0) AS float8) AS shortfall_seats,"
        " CAST(NULL AS float8) AS nearest_time_s, CAST('ward_census' AS text) AS basis"
        f" FROM admin_units w LEFT JOIN {_kids(age)} k ON k.ward_code = w.code"
        f" LEFT JOIN {_places(column)} p ON p.ward_code = w.code WHERE w.level = 'ward'"
    )


#: The stored gaps (forecast demand against seats reachable by road, 2SFCA) when the planners
#: have computed any; otherwise, per ward, census children against the ward's own places.
_CAPACITY_GAPS_SQL = (
    "(SELECT g.ward_code || '.' || g.level || '.' || g.year || '.' || g.threshold_min AS fid,"
    " w.geom, g.ward_code AS code, w.name, w.parent_code AS district_code, CAST(g.level AS text) AS level,"
    " g.year, g.threshold_min, g.demand, g.seats_within_threshold, g.seats_per_child,"
    " g.accessible_seats, g.shortfall_seats, g.nearest_time_s, CAST('forecast_2sfca' AS text) AS basis"
    " FROM capacity_gaps g JOIN admin_units w ON w.code = g.ward_code AND w.level = 'ward'"
    f" UNION ALL SELECT * FROM ({_census_gaps('primary', 6, 'capacity_grade1')}"
    f" UNION ALL {_census_gaps('lower_secondary', 11, 'capacity_grade6')}) census"
    " WHERE NOT EXISTS (SELECT 1 FROM capacity_gaps)) AS src"
)

COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    Collection(
        id="schools", title="Trường học / Schools",
        description="Schools of every level with ownership, address and entry-grade capacity.",
        source="(SELECT code AS fid, geom, code, name, level, ownership, address, district_code,"
               " ward_code, capacity_grade1, capacity_grade6, capacity_grade10 FROM schools) AS src",
        properties=("code", "name", "level", "ownership", "address", "district_code", "ward_code",
                    "capacity_grade1", "capacity_grade6", "capacity_grade10"),
        filters=("level", "ownership", "district_code", "ward_code"),
        keywords=("schools", "education", "trường học"), tables=("schools",),
    ),
    Collection(
        id="wards", title="Phường, xã / Wards and communes",
        description="The wards, communes and special zone of today (since 1 July 2025 the "
                    "city has no districts: parent_code is the province), with the date each "
                    "took effect. Former wards are in 'former-wards'.",
        source="(SELECT code AS fid, geom, code, name, parent_code, valid_from, valid_to"
               " FROM admin_units WHERE level = 'ward' AND valid_to IS NULL) AS src",
        properties=("code", "name", "parent_code", "valid_from", "valid_to"),
        filters=("parent_code",), temporal=("valid_from", "valid_to"),
        keywords=("wards", "communes", "administrative units", "phường", "xã"),
        tables=("admin_units",),
    ),
    Collection(
        id="districts", title="Quận, huyện cũ (trước 1/7/2025) / Former districts",
        description="District boundaries with their validity period: history, since the "
                    "district level was abolished on 1 July 2025.",
        source="(SELECT code AS fid, geom, code, name, valid_from, valid_to FROM admin_units"
               " WHERE level = 'district') AS src",
        properties=("code", "name", "valid_from", "valid_to"),
        temporal=("valid_from", "valid_to"),
        keywords=("districts", "administrative units", "quận", "history"), tables=("admin_units",),
    ),
    Collection(
        id="former-wards", title="Phường, xã cũ / Former wards",
        description="Wards and communes that no longer exist (merged or renamed), with their "
                    "former district and validity period.",
        source="(SELECT code AS fid, geom, code, name, parent_code AS district_code, valid_from,"
               " valid_to FROM admin_units WHERE level = 'ward' AND valid_to IS NOT NULL) AS src",
        properties=("code", "name", "district_code", "valid_from", "valid_to"),
        filters=("district_code",), temporal=("valid_from", "valid_to"),
        keywords=("wards", "administrative units", "phường", "history"), tables=("admin_units",),
    ),
    Collection(
        id="catchments", title="Địa bàn tuyển sinh / Catchments",
        description="Per public primary (grade 1) and lower-secondary (grade 6) school, the wards "
                    "whose children have residence priority there, as one outline. Source "
                    "'imported' is the district's list; 'derived' means each school serves its "
                    "own ward and a ward without a school is served by the school nearest by road.",
        source="(SELECT c.school_code AS fid, ST_Multi(ST_Union(w.geom)) AS geom, c.school_code,"
               " s.name AS school_name, s.level, s.district_code,"
               " CASE s.level WHEN 'primary' THEN 1 ELSE 6 END AS grade,"
               " string_agg(c.ward_code, ',' ORDER BY c.ward_code) AS ward_codes,"
               " count(*) AS ward_count, min(c.source) AS source"
               " FROM catchments c JOIN schools s ON s.code = c.school_code"
               " JOIN admin_units w ON w.code = c.ward_code"
               " GROUP BY c.school_code, s.name, s.level, s.district_code) AS src",
        properties=("school_code", "school_name", "level", "district_code", "grade", "ward_codes",
                    "ward_count", "source"),
        filters=("level", "district_code", "source"),
        keywords=("catchments", "admissions", "địa bàn tuyển sinh"),
        tables=("catchments", "schools", "admin_units"),
    ),
    Collection(
        id="capacity-gaps", title="Cân đối chỗ học / Capacity gaps",
        description="Per ward, level, year and travel-time threshold: forecast entry demand against "
                    "the seats reachable by road (two-step floating catchment, basis "
                    "'forecast_2sfca') as computed by the planners; before any is computed, census "
                    "children of entry age against the places of the ward's own schools (basis "
                    "'ward_census'). shortfall_seats > 0 means too few places.",
        source=_CAPACITY_GAPS_SQL,
        properties=("code", "name", "district_code", "level", "year", "threshold_min", "demand",
                    "seats_within_threshold", "seats_per_child", "accessible_seats",
                    "shortfall_seats", "nearest_time_s", "basis"),
        filters=("district_code", "level", "year", "threshold_min", "basis"),
        keywords=("capacity", "planning", "chỗ học"),
        tables=("capacity_gaps", "admin_units", "population", "schools"),
    ),
    Collection(
        id="roads", title="Đường giao thông / Roads",
        description="The road network the city routes on (basemap or OpenStreetMap), one"
                    " feature per edge.",
        source="(SELECT basemap || '.' || edge_id AS fid, geom, basemap, edge_id, highway, name,"
               " oneway, maxspeed_kmh, length_m FROM road_edges WHERE basemap ="
               " (SELECT value FROM app_settings WHERE key = 'basemap')) AS src",
        properties=("basemap", "edge_id", "highway", "name", "oneway", "maxspeed_kmh", "length_m"),
        filters=("highway", "basemap"),
        attribution="© OpenStreetMap contributors (ODbL) where imported from OSM",
        keywords=("roads", "transport", "đường"), tables=("road_edges", "app_settings"),
        # a page of 1,000 edges is ~0.6 MB of GeoJSON (~0.1 MB gzipped); the primary key
        # (basemap, edge_id) gives the order without sorting every edge for each page
        max_limit=1_000, order_by="basemap, edge_id",
    ),
)}
