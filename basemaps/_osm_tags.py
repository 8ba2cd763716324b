"""OSM road tags read the same way by every road reader: usable classes, speed, access, direction.

The readers are those of OSM files, GraphML and the city basemap's lines.
"""

from __future__ import annotations

import re

import numpy as np

#: highway values that are not (yet) usable roads
NOT_ROADS = frozenset({
    "proposed", "construction", "abandoned", "platform", "raceway", "bus_stop", "elevator",
    "rest_area", "services", "razed", "planned", "emergency_bay", "no", "disused",
})
_ACCESS_RANK = {"no": 5, "private": 4, "agricultural": 3, "forestry": 3, "delivery": 2,
                "customers": 2, "destination": 2, "permissive": 1, "yes": 0, "designated": 0}


def parse_maxspeed(value: object) -> float:
    """km/h from an OSM ``maxspeed`` ("50", "30 mph", "40;60", ["50", "60"]); NaN if none."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    values = value if isinstance(value, list) else re.split(r"[;|,]", str(value))
    speeds = []
    for raw in values:
        match = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph|knots)?", str(raw))
        if match:
            factor = {"mph": 1.609344, "knots": 1.852}.get(match.group(2) or "", 1.0)
            speeds.append(float(match.group(1)) * factor)
    return min(speeds) if speeds else float("nan")


def combine_access(tags: dict[str, str]) -> str:
    """Return the most restrictive of ``access``, ``vehicle`` and ``motor_vehicle`` ("" if none)."""
    values = [tags.get(k, "") for k in ("access", "vehicle", "motor_vehicle")]
    values = [v for v in values if v]
    if not values:
        return ""
    return max(values, key=lambda v: _ACCESS_RANK.get(v, 1))


def oneway_direction(tags: dict[str, str]) -> int:
    """+1 one-way along the drawing, -1 against it, 0 both ways (vehicles)."""
    value = tags.get("oneway", "")
    if value in ("yes", "true", "1"):
        return 1
    if value in ("-1", "reverse"):
        return -1
    if value in ("no", "false", "0", "alternating", "reversible"):
        return 0
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        return 1
    return 0
