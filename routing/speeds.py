"""Travel modes: which roads each mode may use, in which direction, and how fast.

The defaults describe Ho Chi Minh City traffic (congested arterials, motorbikes in
alleys), not free-flow speeds. Every number is configurable through
:meth:`ModeProfile.with_speeds` / :func:`dataclasses.replace`.

Speed rule, the same for every mode: an edge whose ``maxspeed_kmh`` is known runs at
``min(maxspeed_kmh, profile.max_speed_kmh)``; otherwise at the profile's speed for its
highway class. Highway classes absent from ``speeds_kmh`` are not routable for the mode.

Default speeds (km/h)
---------------------
=================  =====  =======  =========  ====
highway            walk   bicycle  motorbike  car
=================  =====  =======  =========  ====
motorway(_link)    --     --       --         60/40
trunk(_link)       5      14       35/30      30/25
primary(_link)     5      14       30/25      25/20
secondary(_link)   5      14       27/22      23/20
tertiary(_link)    5      14       25/20      22/18
unclassified/road  5      13       22/20      20/18
residential        5      13       20         18
living_street      5      10       12         10
service (alleys)   5      10       15         10
track              5      10       10         8
cycleway           5      15       --         --
pedestrian         5      --       --         --
footway/path       5      10(path) --         --
steps              2      --       --         --
=================  =====  =======  =========  ====

Caps applied to ``maxspeed_kmh``: walk 5, bicycle 15, motorbike 60, car 80. The
off-road leg from a point to its snapped road position is covered at
``offroad_speed_kmh`` (walk 5, bicycle 5: pushing, motorbike 8, car 5: the last metres
on foot).

Direction: ``motorbike``, ``car`` and ``bicycle`` respect ``oneway``; ``walk`` uses every
way in both directions. Access values in ``excluded_access`` close a way to the mode
(``no``/``private`` for vehicles; only ``private`` for walking and cycling, because
the road layer keeps the most restrictive of ``access``/``motor_vehicle``, and a
``motor_vehicle=no`` street is still open to pedestrians).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from gis_service.errors import InvalidValueError

MODES = ("walk", "bicycle", "motorbike", "car")
#: Points farther than this from every road of a mode are refused when snapped (metres).
DEFAULT_MAX_OFFROAD_M = 500.0


@dataclass(frozen=True)
class ModeProfile:
    """Access rules and speeds of one travel mode.

    Parameters
    ----------
    name
        Mode name, one of :data:`MODES` (or a custom name).
    speeds_kmh
        Speed per OSM highway class; classes absent are closed to the mode.
    respect_oneway
        Whether ``oneway`` ways may only be travelled from ``u`` to ``v``.
    max_speed_kmh
        Cap applied to a known ``maxspeed_kmh``.
    offroad_speed_kmh
        Speed of the straight leg between a point and its snapped road position.
    excluded_access
        ``access`` values that close a way to the mode.
    """

    name: str
    speeds_kmh: Mapping[str, float]
    respect_oneway: bool
    max_speed_kmh: float
    offroad_speed_kmh: float
    excluded_access: frozenset[str] = field(default_factory=lambda: frozenset({"private"}))

    def __post_init__(self) -> None:
        """Refuse a speed that is not positive and freeze ``speeds_kmh``."""
        bad = {k: v for k, v in self.speeds_kmh.items() if not v > 0}
        if bad or not self.max_speed_kmh > 0 or not self.offroad_speed_kmh > 0:
            raise ValueError(f"speeds must be positive in mode {self.name!r}: {bad}")
        object.__setattr__(self, "speeds_kmh", MappingProxyType(dict(self.speeds_kmh)))

    def with_speeds(self, **speeds_kmh: float) -> ModeProfile:
        """Return a copy with some highway-class speeds replaced or added."""
        merged = dict(self.speeds_kmh)
        merged.update(speeds_kmh)
        return replace(self, speeds_kmh=merged)

    def digest(self) -> str:
        """Short hex digest of every rule; part of the graph cache key."""
        payload = json.dumps(
            {
                "name": self.name,
                "speeds": sorted(self.speeds_kmh.items()),
                "oneway": self.respect_oneway,
                "max": self.max_speed_kmh,
                "offroad": self.offroad_speed_kmh,
                "access": sorted(self.excluded_access),
            },
            sort_keys=True,
        )
        return hashlib.blake2b(payload.encode(), digest_size=6).hexdigest()


def _links(speeds: dict[str, float], link_speeds: dict[str, float]) -> dict[str, float]:
    speeds.update({f"{k}_link": v for k, v in link_speeds.items()})
    return speeds


_WALK = dict.fromkeys(
    [
        "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link",
        "tertiary", "tertiary_link", "unclassified", "road", "residential", "living_street",
        "service", "track", "cycleway", "pedestrian", "footway", "path", "bridleway",
        "corridor",
    ],
    5.0,
)
_WALK["steps"] = 2.0

_BICYCLE = _links(
    {
        "trunk": 14.0, "primary": 14.0, "secondary": 14.0, "tertiary": 14.0,
        "unclassified": 13.0, "road": 13.0, "residential": 13.0, "living_street": 10.0,
        "service": 10.0, "track": 10.0, "cycleway": 15.0, "path": 10.0,
    },
    {"trunk": 14.0, "primary": 14.0, "secondary": 14.0, "tertiary": 14.0},
)

_MOTORBIKE = _links(
    {
        "trunk": 35.0, "primary": 30.0, "secondary": 27.0, "tertiary": 25.0,
        "unclassified": 22.0, "road": 20.0, "residential": 20.0, "living_street": 12.0,
        "service": 15.0, "track": 10.0,
    },
    {"trunk": 30.0, "primary": 25.0, "secondary": 22.0, "tertiary": 20.0},
)

_CAR = _links(
    {
        "motorway": 60.0, "trunk": 30.0, "primary": 25.0, "secondary": 23.0,
        "tertiary": 22.0, "unclassified": 20.0, "road": 18.0, "residential": 18.0,
        "living_street": 10.0, "service": 10.0, "track": 8.0,
    },
    {"motorway": 40.0, "trunk": 25.0, "primary": 20.0, "secondary": 20.0, "tertiary": 18.0},
)

_VEHICLE_CLOSED = frozenset({"no", "private"})

DEFAULT_PROFILES: Mapping[str, ModeProfile] = MappingProxyType(
    {
        "walk": ModeProfile("walk", _WALK, respect_oneway=False, max_speed_kmh=5.0,
                            offroad_speed_kmh=5.0),
        "bicycle": ModeProfile("bicycle", _BICYCLE, respect_oneway=True, max_speed_kmh=15.0,
                               offroad_speed_kmh=5.0),
        "motorbike": ModeProfile("motorbike", _MOTORBIKE, respect_oneway=True,
                                 max_speed_kmh=60.0, offroad_speed_kmh=8.0,
                                 excluded_access=_VEHICLE_CLOSED),
        "car": ModeProfile("car", _CAR, respect_oneway=True, max_speed_kmh=80.0,
                           offroad_speed_kmh=5.0, excluded_access=_VEHICLE_CLOSED),
    }
)


def profile_for(mode: str | ModeProfile) -> ModeProfile:
    """Return the profile of ``mode`` (a name of :data:`MODES` or a profile itself).

    Raises
    ------
    ValueError
        When ``mode`` names no known mode.
    """
    if isinstance(mode, ModeProfile):
        return mode
    try:
        return DEFAULT_PROFILES[mode]
    except KeyError:
        raise InvalidValueError(f"unknown travel mode {mode!r}; choose one of {', '.join(MODES)}") from None
