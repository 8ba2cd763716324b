"""The ``edugis`` command starts without the heavy libraries: the command modules import the
implementation inside the commands, and the packages load their public names on first use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

#: Libraries that ``edugis --help`` (``import web.cli``) must not import: together they made
#: the command take ~3.5 s to start.
HEAVY = ("scipy", "sklearn", "numba", "pandas", "numpy", "shapely", "geopandas",
         "sqlalchemy", "geoalchemy2", "alembic", "ortools", "pydantic_settings")


def _imported_after(statement: str) -> list[str]:
    """The heavy top-level modules in ``sys.modules`` after ``statement``, in a fresh process."""
    code = (f"import sys\n{statement}\n"
            f"print('heavy:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    listed = done.stdout.rstrip().splitlines()[-1].removeprefix("heavy:")
    return [name for name in listed.split(",") if name]


@pytest.mark.parametrize("statement", [
    "import web.cli",
    "import admissions, forecasting, routing",
    "from routing.speeds import MODES",
])
def test_cli_import_loads_no_heavy_library(statement: str) -> None:
    assert _imported_after(statement) == []


def test_cli_help_loads_no_heavy_library() -> None:
    statement = ("import web.cli\nsys.argv = ['edugis', 'admissions', 'run', '--help']\n"
                 "try:\n    web.cli.main()\nexcept SystemExit:\n    pass")
    assert _imported_after(statement) == []


def test_cli_defaults_match_the_implementation() -> None:
    """The option default the admissions commands state without importing the implementation."""
    from admissions import cli as admissions_cli
    from admissions.files import DEFAULT_MAX_CHOICES

    assert admissions_cli.DEFAULT_MAX_CHOICES == DEFAULT_MAX_CHOICES


def test_lazy_package_names_import_as_before() -> None:
    """Public names load on first use; a function named like its submodule stays the function
    once the submodule is imported (``admissions.explain``, ``routing.snap``)."""
    code = """
import admissions.explain, admissions.second_round, routing.snap
import admissions, forecasting, routing
from admissions import allocate, explain, second_round, service
from admissions.explain import explain as explain_function
from forecasting import LEVELS, run_backtest
assert explain is explain_function and callable(second_round) and callable(allocate)
assert admissions.explain is explain and routing.snap is routing.snap_one
assert service.__name__ == "admissions.service" and LEVELS and callable(run_backtest)
for package in (admissions, forecasting, routing):
    assert all(getattr(package, name) is not None for name in package.__all__)
    assert set(package.__all__) <= set(dir(package))
try:
    from admissions import no_such_name  # noqa: F401
except ImportError:
    pass
else:
    raise AssertionError("an unknown name imported")
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_a_single_worker_compiles_after_the_city_loaded_with_parallel_kernels() -> None:
    """``edugis demo`` loads the city (numba's threads launched), then serves one worker in the
    same process: preparing the finder compiles more kernels, which numba refused once
    ``NUMBA_NUM_THREADS`` had been set meanwhile (every nearest-school search then answered 500)."""
    code = """
import numpy as np
from numba import njit, prange

@njit(parallel=True)
def total(a):
    s = 0.0
    for i in prange(a.size):
        s += a[i]
    return s

total(np.ones(1000))  # the threads are launched, as by the city's loading
from web.cli import worker_environment
worker_environment(1)  # what `edugis demo` does before serving

@njit
def later(x):  # a kernel compiled afterwards, as the finder's are
    return x + 1

assert later(1) == 2
import os
worker_environment(2)  # worker processes, started afresh, get one thread each
assert os.environ["NUMBA_NUM_THREADS"] == "1"
"""
    environment = {k: v for k, v in os.environ.items() if k != "NUMBA_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=environment)
    assert done.returncode == 0, done.stderr[-2000:]
