"""Compare mechanisms on a realistic synthetic grade-10 round (100,000 applicants, 110 schools).

Prints the comparison table (justified envy, placement by choice rank, distances) and times.
Distances are straight-line from simulated homes, labelled as such.

Run: ``.venv/bin/python bench/admissions_compare.py``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from admissions_synthetic import grade10_round

from admissions import (
    Allocation,
    DeferredAcceptance,
    Mechanism,
    MinCost,
    RankRounds,
    allocate,
    comparison_table,
    explain,
)


def main() -> None:
    """Print the figures."""
    problem = grade10_round(100_000, 110)
    seed = 2023
    runs: dict[str, Allocation] = {}
    mechanisms: dict[str, Mechanism] = {
        "da": DeferredAcceptance(), "hcmc": RankRounds(),
        "hcmc_0_1_2": RankRounds(penalties=(0.0, 1.0, 2.0)), "mincost": MinCost(),
    }
    for name, mechanism in mechanisms.items():
        start = time.perf_counter()
        runs[name] = allocate(problem, mechanism, seed)
        print(f"{name} allocate: {(time.perf_counter() - start) * 1000:.0f} ms")
    start = time.perf_counter()
    explain(problem, runs["da"])
    print(f"da reasons (vi + en) for {problem.n_applicants} applicants: "
          f"{time.perf_counter() - start:.2f} s")
    table = comparison_table(problem, runs)
    print(f"input sha256 {runs['da'].provenance.input_sha256} seed {seed}; "
          "distances straight-line")
    print(table.to_string())
    envy = table.loc["justified_envy"]
    print(f"justified envy: da {envy['da']}, hcmc {envy['hcmc']}, "
          f"hcmc with penalties 0/1/2 {envy['hcmc_0_1_2']}, mincost {envy['mincost']}")


if __name__ == "__main__":
    main()
