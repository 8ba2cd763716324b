"""Pages of features, single features and extents of the published collections.

The queries behind OGC API - Features (``web/ogc_features.py``) over the sources of
:mod:`gis_service.collections`. PostGIS writes each feature's GeoJSON (geometry, properties
and links), so a page is one string spliced into the answer as it is: Python never builds
or re-writes a feature.

A page is one statement. Its ``numberMatched`` costs a second scan of the source only when
it cannot be known otherwise: a page that is not full ends the matches; a count made before
is reused while the versions of the collection's tables (:mod:`gis_service.changes`), read
in the same statement and so the same snapshot, are unchanged. Paging through the roads
therefore counts them once, not once per page.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from gis_service.collections import Collection, OutputCrs
from gis_service.errors import InvalidValueError

#: A box (minx, miny, maxx, maxy); x is lon or easting.
Box = tuple[float, float, float, float]
#: Counts of matches kept for reuse (:class:`_Stamped`): one per filter asked lately.
COUNTS_KEPT = 1024


@dataclass(frozen=True)
class FeatureFilter:
    """Which features of a collection a page is taken from.

    Attributes
    ----------
    boxes
        Boxes in ``bbox_srid`` a feature must intersect one of; ``None`` for no bbox, an
        empty tuple for a bbox that holds nothing.
    bbox_srid
        PostGIS SRID of the boxes' coordinates.
    when
        Instant or interval (open ends ``None``) a feature's validity must meet; only for
        collections with a ``temporal`` pair of columns (ignored by the others).
    equals
        ``(property, value)`` pairs compared as text; each property one of the
        collection's ``filters``.
    """

    boxes: tuple[Box, ...] | None = None
    bbox_srid: int = 4326
    when: tuple[datetime | None, datetime | None] | None = None
    equals: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FeaturePage:
    """One page of features.

    Attributes
    ----------
    features
        The features as GeoJSON, comma-separated (to be put between ``[`` and ``]``).
    returned
        How many features the page holds.
    matched
        How many features match the filter, on every page.
    """

    features: str
    returned: int
    matched: int


def _where(collection: Collection, found: FeatureFilter, params: dict[str, Any]) -> str:
    """Return the SQL condition of ``found``, its values added to ``params``."""
    clauses = ["true"]
    if found.boxes is not None:
        tests = []
        for i, box in enumerate(found.boxes):
            params.update({f"minx{i}": box[0], f"miny{i}": box[1], f"maxx{i}": box[2],
                           f"maxy{i}": box[3]})
            envelope = (f"ST_MakeEnvelope(%(minx{i})s, %(miny{i})s, %(maxx{i})s, %(maxy{i})s,"
                        f" {found.bbox_srid:d})")
            if found.bbox_srid != 4326:
                envelope = f"ST_Transform(ST_Segmentize({envelope}, 100), 4326)"
            tests.append(f"ST_Intersects(geom, {envelope})")
        clauses.append(f"({' OR '.join(tests)})" if tests else "false")
    if found.when is not None and collection.temporal is not None:
        start_col, end_col = collection.temporal
        start, end = found.when
        if start is not None and end is not None and start > end:
            clauses.append("false")
        if end is not None:
            clauses.append(f"({start_col} IS NULL OR {start_col} <= CAST(%(t_end)s AS date))")
            params["t_end"] = end.date()
        if start is not None:
            clauses.append(f"({end_col} IS NULL OR {end_col} > CAST(%(t_start)s AS date))")
            params["t_start"] = start.date()
    for name, value in found.equals:
        if name not in collection.filters:
            raise InvalidValueError(f"{collection.id} cannot be filtered by {name!r}; "
                                    f"only by {', '.join(collection.filters) or 'nothing'}")
        index = collection.filters.index(name)
        clauses.append(f"CAST({name} AS text) = %(f{index})s")
        params[f"f{index}"] = value
    return " AND ".join(clauses)


def _geometry_sql(crs: OutputCrs) -> str:
    geom = "geom" if crs.srid == 4326 else f"ST_Transform(geom, {crs.srid:d})"
    if crs.lat_first:
        geom = f"ST_FlipCoordinates({geom})"
    return f"ST_AsGeoJSON({geom}, {crs.decimals:d}, 0)"


def _rows_sql(collection: Collection) -> str:
    """Return the columns of a source's rows a feature is written from."""
    return f"fid, {', '.join(collection.properties)}, geom"


def _feature_sql(collection: Collection, crs: OutputCrs) -> str:
    """Return the SQL writing one row of :func:`_rows_sql` as a GeoJSON feature (text).

    Its links need the parameters ``item_href`` (the URL of a feature without its id) and
    ``collection_link`` (the JSON of the link to the collection).
    """
    properties = ", ".join(f"'{name}', {name}" for name in collection.properties)
    return (
        """'{"type":"Feature","id":' || to_json(fid)::text"""
        f""" || ',"geometry":' || coalesce({_geometry_sql(crs)}, 'null')"""
        f""" || ',"properties":' || json_build_object({properties})::text"""
        """ || ',"links":[{"href":' || to_json(CAST(%(item_href)s AS text) || fid)::text"""
        """ || ',"rel":"self","type":"application/geo+json","title":"this feature"},'"""
        """ || CAST(%(collection_link)s AS text) || ']}'"""
    )


def _stamp_sql(collection: Collection) -> str:
    """Return the SQL of the versions of the collection's tables, then the database's oid.

    A count made under the same stamp is still right (every write to a watched table bumps
    its version in the writing transaction); the oid tells a database made again apart.
    """
    tables = ", ".join(f"'{table}'" for table in collection.tables)
    return (f"(ARRAY(SELECT version FROM data_changes WHERE table_name IN ({tables})"
            " ORDER BY table_name) || (SELECT oid::bigint FROM pg_database"
            " WHERE datname = current_database()))")


class _Stamped:
    """Values read lately (counts of matches, extents), each with the stamp it was read under.

    A value is only reused by a statement that reads the same stamp (:func:`_stamp_sql`).
    """

    def __init__(self, size: int = COUNTS_KEPT) -> None:
        self._values: OrderedDict[tuple[Any, ...], tuple[list[int], Any]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[list[int], Any] | None:
        with self._lock:
            return self._values.get(key)

    def put(self, key: tuple[Any, ...], stamp: list[int], value: Any) -> None:
        with self._lock:
            self._values[key] = (stamp, value)
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)


_COUNTS = _Stamped()
_EXTENTS = _Stamped()
_DATABASE_KEYS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _database_key(engine: Engine) -> str:
    """Return the URL of ``engine``'s database, rendered once per engine (it costs 0.2 ms)."""
    key = _DATABASE_KEYS.get(engine)
    if key is None:
        key = _DATABASE_KEYS[engine] = engine.url.render_as_string(hide_password=True)
    return key


def read_one(engine: Engine, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """Run one statement that only reads, outside a transaction; return its first row.

    ``None`` when it returns no row.

    On a pooled connection of ``engine``, through psycopg itself (``%(name)s`` parameters):
    for these small, frequent reads SQLAlchemy's ``Connection`` and ``text`` cost more CPU
    than the statement, and one statement sees one snapshot anyway, so without ``BEGIN`` and
    ``ROLLBACK`` around it a page is one round trip (after the pool's check), not three.
    """
    pooled = engine.raw_connection()
    try:
        conn: Any = pooled.driver_connection  # a psycopg.Connection
        conn.autocommit = True
        try:
            row: tuple[Any, ...] | None = conn.execute(sql, params).fetchone()
        finally:
            conn.autocommit = False
    except psycopg.OperationalError:  # the connection may be broken: never pooled again
        pooled.invalidate()
        raise
    finally:
        pooled.close()
    return row


def feature_page(engine: Engine, collection: Collection, found: FeatureFilter, crs: OutputCrs,
                 limit: int, offset: int, item_href: str, collection_link: str) -> FeaturePage:
    """Read one page of features, written as GeoJSON by PostGIS, in one statement.

    Parameters
    ----------
    found
        The filter; see :class:`FeatureFilter`.
    crs
        How coordinates are written.
    limit, offset
        The page: at most ``limit`` features after the first ``offset``, in the
        collection's ``order_by``.
    item_href
        The URL of a feature of the collection without its id (its ``self`` link).
    collection_link
        The JSON of every feature's link to the collection.
    """
    params: dict[str, Any] = {"limit": limit, "offset": offset, "item_href": item_href,
                              "collection_link": collection_link}
    where = _where(collection, found, params)
    key = (_database_key(engine), collection.id, where,
           tuple(sorted((k, str(v)) for k, v in params.items()
                        if k not in ("limit", "offset", "item_href", "collection_link"))))
    known = _COUNTS.get(key)
    params["known_stamp"], params["known_matched"] = known if known is not None else (None, None)
    # the count's scalar subquery is an InitPlan, run only when the CASE reaches it
    # the geometry is written for the page's rows only, not for those skipped by the offset;
    # a materialised CTE is read back in the order it was written, the page's
    sql = (
        f"WITH page AS MATERIALIZED (SELECT {_rows_sql(collection)} FROM {collection.source}"
        f" WHERE {where} ORDER BY {collection.order_by} LIMIT %(limit)s OFFSET %(offset)s),"
        " numbered AS (SELECT *, row_number() OVER () AS n FROM page),"
        f" stamp AS (SELECT {_stamp_sql(collection)} AS versions)"
        " SELECT count(*) AS returned,"
        f" coalesce(string_agg({_feature_sql(collection, crs)}, ',' ORDER BY n), '') AS features,"
        " CASE WHEN (SELECT versions FROM stamp) = CAST(%(known_stamp)s AS bigint[])"
        " THEN CAST(%(known_matched)s AS bigint)"
        " WHEN count(*) > 0 AND count(*) < %(limit)s THEN %(offset)s + count(*)"
        " WHEN count(*) = 0 AND %(offset)s = 0 THEN 0"
        f" ELSE (SELECT count(*) FROM {collection.source} WHERE {where}) END AS matched,"
        " (SELECT versions FROM stamp) AS versions"
        " FROM numbered"
    )
    row = read_one(engine, sql, params)
    assert row is not None  # an aggregate: always one row
    returned, features, matched, versions = row
    _COUNTS.put(key, list(versions), int(matched))
    return FeaturePage(features=features, returned=int(returned), matched=int(matched))


def feature(engine: Engine, collection: Collection, feature_id: str, crs: OutputCrs,
            item_href: str, collection_link: str) -> str | None:
    """Read one feature as GeoJSON written by PostGIS; ``None`` when there is no such feature.

    ``item_href`` and ``collection_link`` are as in :func:`feature_page`.
    """
    if "\x00" in feature_id:  # PostgreSQL text cannot hold NUL, so no feature has such an id
        return None
    sql = (f"SELECT {_feature_sql(collection, crs)} FROM (SELECT {_rows_sql(collection)}"
           f" FROM {collection.source} WHERE fid = %(fid)s LIMIT 1) page")
    row = read_one(engine, sql, {"fid": feature_id, "item_href": item_href,
                                 "collection_link": collection_link})
    return None if row is None else str(row[0])


def extent(engine: Engine, collection: Collection) -> Box | None:
    """Return the lon/lat bounds of the collection's features, ``None`` when it has none.

    Computed again only when the versions of the collection's tables moved since it was
    last (the roads' take some 40 ms); they are read in the same statement, as for counts.
    """
    key = (_database_key(engine), collection.id)
    known = _EXTENTS.get(key)
    # the extent's scalar subquery is an InitPlan, run only when the CASE reaches it
    row = read_one(engine, (
        "SELECT versions, fresh, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
        " (SELECT versions, versions IS DISTINCT FROM CAST(%(known)s AS bigint[]) AS fresh,"
        " CASE WHEN versions = CAST(%(known)s AS bigint[]) THEN NULL"
        f" ELSE (SELECT ST_Extent(geom) FROM {collection.source}) END AS e"
        f" FROM (SELECT {_stamp_sql(collection)} AS versions) stamp) x"),
        {"known": known[0] if known is not None else None})
    assert row is not None  # one row, from the stamp
    versions, fresh, *bounds = row
    if not fresh and known is not None:
        cached: Box | None = known[1]
        return cached
    box = None if bounds[0] is None else (float(bounds[0]), float(bounds[1]),
                                          float(bounds[2]), float(bounds[3]))
    _EXTENTS.put(key, list(versions), box)
    return box


def temporal_extent(engine: Engine, collection: Collection) -> list[str | None] | None:
    """Return the validity interval the collection's features cover, as ISO dates.

    ``[first start, last end]`` with ``None`` for an open end (a feature with no start, or
    one still valid); ``None`` for a collection without validity columns or without rows.
    """
    if collection.temporal is None:
        return None
    start, end = collection.temporal
    row = read_one(engine, (
        f"SELECT count(*), bool_or({start} IS NULL), min({start}), bool_or({end} IS NULL),"
        f" max({end}) FROM {collection.source}"), {})
    assert row is not None  # an aggregate has one row
    count, open_start, first, open_end, last = row
    if not count:
        return None
    return [None if open_start else first.isoformat(), None if open_end else last.isoformat()]
