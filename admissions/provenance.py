"""What makes a run reproducible: a checksum of its inputs, its parameters and the code version.

Every :class:`~admissions.allocation.Allocation` carries a :class:`Provenance`; running the same
mechanism on inputs with the same checksum, seed and parameters with the same code version
gives the identical allocation.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from admissions.problem import AdmissionProblem


@dataclass(frozen=True)
class Provenance:
    """Identity of one run.

    Parameters
    ----------
    input_sha256
        SHA-256 of the problem's canonical arrays (:func:`problem_checksum`).
    seed
        Seed of the tie-breaking lottery.
    mechanism
        ``"da"``, ``"hcmc"`` or ``"mincost"``.
    parameters
        Every other setting that changes the outcome (JSON-compatible values only).
    code_version
        Package version plus a digest of the ``admissions`` sources.
    """

    input_sha256: str
    seed: int
    mechanism: str
    parameters: dict[str, Any] = field(default_factory=dict)
    code_version: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dictionary."""
        return {
            "input_sha256": self.input_sha256,
            "seed": self.seed,
            "mechanism": self.mechanism,
            "parameters": self.parameters,
            "code_version": self.code_version,
        }


def _update(digest: Any, name: str, values: NDArray[Any] | None) -> None:
    digest.update(name.encode() + b"\x00")
    if values is None:
        digest.update(b"none\x00")
        return
    if values.dtype.kind in "UO":
        digest.update("\x1f".join(str(v) for v in values.ravel().tolist()).encode())
    else:
        array = np.ascontiguousarray(values)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    digest.update(b"\x00")


def problem_checksum(problem: AdmissionProblem) -> str:
    """SHA-256 over the canonical arrays of a problem, in input order.

    Order matters (it decides who draws which lottery number), so it is part of the checksum.
    """
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            {
                "grade": problem.grade,
                "distance_kind": problem.distance_kind,
                "preference_kind": problem.preference_kind,
            },
            sort_keys=True,
        ).encode()
    )
    _update(digest, "applicant_ids", problem.applicant_ids)
    _update(digest, "school_codes", problem.school_codes)
    _update(digest, "school_names", problem.school_names)
    _update(digest, "capacity", problem.capacity.astype(np.int64))
    _update(digest, "choices", problem.choices.astype(np.int32))
    _update(digest, "distance_m", problem.distance_m.astype(np.float64))
    _update(digest, "time_s", problem.time_s.astype(np.float64))
    _update(digest, "tier", None if problem.tier is None else problem.tier.astype(np.int8))
    _update(digest, "score", None if problem.score is None else problem.score.astype(np.float64))
    _update(digest, "bonus", None if problem.bonus is None else problem.bonus.astype(np.float64))
    return digest.hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """``<package version>+<first 12 hex of a SHA-256 of the admissions sources>``."""
    try:
        version = metadata.version("edugis")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for source in sorted(package.glob("*.py")):
        digest.update(source.name.encode() + b"\x00" + source.read_bytes())
    return f"{version}+{digest.hexdigest()[:12]}"
