"""The names of the admissions vocabulary, without the implementation behind them.

The command line and the web check a mechanism's or a cost's name against these
:class:`typing.Literal` types before anything heavy (numpy, numba) is loaded;
:mod:`admissions.mechanisms` maps each name to its class. Entry grades are
:data:`gis_service.levels.EntryGrade`.
"""

from __future__ import annotations

from typing import Literal, get_args

#: ``da`` (deferred acceptance), ``hcmc`` (the HCMC rank-round rule), ``mincost`` (minimum
#: total travel).
MechanismName = Literal["da", "hcmc", "mincost"]
#: Every mechanism's name, in the order comparisons list them.
MECHANISMS: tuple[MechanismName, ...] = get_args(MechanismName)
#: What min-cost flow may minimise.
CostKind = Literal["distance_m", "time_s"]
COSTS: tuple[CostKind, ...] = get_args(CostKind)
