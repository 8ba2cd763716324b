"""Scenario edits on the demo city: a new bridge across its river, a metro line, a closure."""

from __future__ import annotations

import numpy as np

from basemaps.demo_city import _grid_size
from basemaps.road_layer import RoadLayer
from routing.scenario_edits import ClosureEdit, MetroEdit, RoadEdit

NCOLS = _grid_size(60_000)[0]


def _grid_nodes(layer: RoadLayer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ids = layer.nodes["node_id"].to_numpy()
    return ids, (ids - 1) // NCOLS, (ids - 1) % NCOLS


def _street_midpoint(layer: RoadLayer, node: int) -> np.ndarray:
    """Middle of a street leaving ``node`` east or west (so the new road splits it)."""
    ends = layer.edges[["u", "v"]].to_numpy()
    for other in (node + 1, node - 1):
        if ((ends == [node, other]).all(axis=1) | (ends == [other, node]).all(axis=1)).any():
            xy = layer.nodes.set_index("node_id").loc[[node, other], ["lon", "lat"]].to_numpy()
            return np.asarray(xy.mean(axis=0), np.float64)
    raise AssertionError(f"no street east or west of node {node}")


def bridge_edit(layer: RoadLayer, column: int = 115, speed_kmh: float = 40.0) -> RoadEdit:
    """A bridge across the river at ``column`` (midway between two existing ones)."""
    ids, _, cols = _grid_nodes(layer)
    here = np.sort(ids[cols == column])
    gap = int(np.flatnonzero(np.diff((here - 1) // NCOLS) > 1)[0])
    south, north = int(here[gap]), int(here[gap + 1])
    coords = np.array([_street_midpoint(layer, south), _street_midpoint(layer, north)])
    return RoadEdit(coords=coords, highway="primary", speed_kmh=speed_kmh, label="Cầu thử")


def bridge_closure(layer: RoadLayer) -> ClosureEdit:
    """Close the first existing demo bridge (a short line across its middle)."""
    import shapely

    bridge = layer.edges[layer.edges["name"].str.startswith("Cầu")].iloc[0]["geometry"]
    mid = np.asarray(bridge.interpolate(0.5, normalized=True).coords[0])
    step = np.array([0.0005, 0.0])
    return ClosureEdit(geometry=shapely.LineString([mid - step, mid + step]),
                       label="Cấm cầu")


def metro_edit(layer: RoadLayer, row: int = 30, columns: tuple[int, ...] = (20, 90, 160, 230),
               speed_kmh: float = 35.0, headway_s: float = 360.0) -> MetroEdit:
    """A metro line along grid ``row`` with stations at ``columns`` (south of the river)."""
    table = layer.nodes.set_index("node_id")
    ids = [row * NCOLS + c + 1 for c in columns]
    stations = table.loc[ids, ["lon", "lat"]].to_numpy(np.float64) + np.array([0.0, 0.0004])
    step = np.array([0.002, 0.0])
    coords = np.vstack([stations[0] - step, stations, stations[-1] + step])
    return MetroEdit(coords=coords, stations=stations,
                     station_names=tuple(f"Ga {k + 1}" for k in range(len(ids))),
                     speed_kmh=speed_kmh, headway_s=headway_s, label="Metro thử")
