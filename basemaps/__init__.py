"""Base maps: read, check and store roads, administrative boundaries and schools.

Readers (``roads``, ``road_lines``, ``boundaries``, ``schools``) turn files in any declared
CRS into clean frames and row-level problems (``osm_boundaries`` assembles OSM boundary
relations; ``admin_mapping`` carries former wards over to the wards of today); ``store``
writes them to PostGIS, ``fetch`` reads the stored road layer back, ``in_use`` pins the
basemap the city routes on, ``demo_city`` and ``demo_store`` generate and store the
synthetic demo city, and ``cli`` holds the ``edugis import`` and ``edugis basemap`` commands.
"""
