"""The full recompile of a scenario network: the yardstick of the incremental graph.

:func:`edited_layer` writes the same resolved edits (:func:`routing.scenario_graph.resolve_edits`)
into a copy of the road layer: the base graph's roads minus those closed or split, plus the
pieces and the new roads. Compiling it (:func:`full_rebuild`) is what a scenario would cost
without the incremental graph; the tests require equal costs, the bench compares the time.

A metro line has no form in a road layer (boarding waits, stations-only access), so a
scenario with one is refused here; its graph is checked against a plain Dijkstra instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from basemaps.road_layer import RoadLayer
from routing.graph import ModeGraph, compile_graph
from routing.scenario_graph import ResolvedEdits


def edited_layer(layer: RoadLayer, resolved: ResolvedEdits) -> RoadLayer:
    """Return ``layer`` restricted to the base graph's roads, with the resolved edits applied."""
    if any(part in ("metro", "board", "alight") for part in resolved.part):
        raise ValueError("a metro line cannot be written into a road layer")
    base = resolved.base
    kept_rows = base.edge_row[~resolved.removed]
    edges = layer.edges.iloc[kept_rows]
    ids = np.concatenate([base.node_ids, base.node_ids.max(initial=0) + 1
                          + np.arange(len(resolved.new_node_lonlat), dtype=np.int64)])
    new_rows = []
    for k in range(len(resolved.u)):
        source = resolved.source_edge[k]
        if source >= 0:
            row = layer.edges.iloc[int(base.edge_row[source])].to_dict()
        else:
            row = {"osm_id": 0, "highway": resolved.highway[k], "access": "", "name": "",
                   "maxspeed_kmh": resolved.maxspeed_kmh[k], "oneway": not resolved.two_way[k]}
        row.update(u=int(ids[resolved.u[k]]), v=int(ids[resolved.v[k]]),
                   length_m=resolved.length_m[k],
                   geometry=shapely.LineString(resolved.coords_lonlat[k]))
        new_rows.append(row)
    all_edges = pd.concat([edges, pd.DataFrame(new_rows, columns=edges.columns)],
                          ignore_index=True)
    new_nodes = pd.DataFrame({
        "node_id": ids[base.node_count:],
        "lon": [p[0] for p in resolved.new_node_lonlat],
        "lat": [p[1] for p in resolved.new_node_lonlat],
    })
    nodes = pd.concat([layer.nodes, new_nodes], ignore_index=True)
    return RoadLayer(nodes=nodes, edges=all_edges, source=f"{layer.source} + scenario")


def full_rebuild(layer: RoadLayer, resolved: ResolvedEdits) -> ModeGraph:
    """Compile :func:`edited_layer` from scratch for the base graph's mode."""
    return compile_graph(edited_layer(layer, resolved), resolved.base.profile, "all")
