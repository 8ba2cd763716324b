"""Import speed: the HCMC PBF and the demo city, against osmnx reading the same roads.

Prints one line per figure and a ratio against the baseline measured in the same run:
osmnx's ``graph_from_xml`` on the same extract (converted to OSM XML with osmium-tool),
which is how osmnx users read a local file.

Usage: ``.venv/bin/python bench/basemaps_import.py`` (real data from EDUGIS_HCMC_DATA or
../shared/data/hcmc; stores into a throw-away database on the embedded cluster).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
import warnings
from pathlib import Path

from sqlalchemy.engine import make_url

from basemaps.demo_city import generate_demo_city
from basemaps.roads import read_roads
from basemaps.store import store_roads
from gis_service import db
from web.demo_data import load_demo_city

HCMC = Path(os.environ.get("EDUGIS_HCMC_DATA", Path(__file__).resolve().parents[2] / "shared/data/hcmc"))


def main() -> None:
    url = make_url(db.server_url()).set(database=f"edugis_bench_{uuid.uuid4().hex[:6]}")
    rendered = url.render_as_string(hide_password=False)
    db.prepare(rendered)
    engine = db.create_engine(rendered)
    try:
        pbf = HCMC / "roads" / "hcmc_osm_2018-01-01.osm.pbf"
        started = time.perf_counter()
        layer, _ = read_roads(pbf)
        read_s = time.perf_counter() - started
        report = store_roads(engine, layer, "bench")
        total_s = time.perf_counter() - started
        print(f"hcmc pbf read: {read_s:.2f} s ({layer.node_count} nodes, {layer.edge_count} edges)")
        print(f"hcmc pbf read + store in PostGIS: {total_s:.2f} s (store {report.seconds:.2f} s)")

        started = time.perf_counter()
        city = generate_demo_city()
        generated_s = time.perf_counter() - started
        counts = load_demo_city(engine, city)
        print(f"demo city generate: {generated_s:.2f} s; load: {counts['seconds']} s; "
              f"total {time.perf_counter() - started:.2f} s "
              f"({counts['road_nodes']} road nodes, {counts['schools']} schools, "
              f"{counts['applicants']} applicants)")

        if shutil.which("osmium") is None:
            print("baseline skipped: osmium-tool (apt) is needed to convert the PBF to XML")
            return
        import osmnx as ox

        with tempfile.TemporaryDirectory() as tmp:
            xml = Path(tmp) / "hcmc.osm"
            subprocess.run(["osmium", "cat", str(pbf), "-o", str(xml)], check=True)
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                graph = ox.graph_from_xml(xml, simplify=False, retain_all=True)
            baseline_s = time.perf_counter() - started
        print(f"baseline osmnx graph_from_xml (all ways, unsimplified): {baseline_s:.2f} s "
              f"({graph.number_of_nodes()} nodes)")
        print(f"ratio osmnx / edugis read: {baseline_s / read_s:.1f}x")
    finally:
        engine.dispose()
        db.drop_database(rendered)


if __name__ == "__main__":
    main()
