"""Chaos run of the highly available deployment (issue 14): the test module
``tests/cluster/test_chaos.py`` run with its figures printed.

Under a bounded mixed load through HAProxy (4 public clients of the mixed profile, one officer
creating rounds): ``kill -9`` of an app node (no request fails: the officer's form POST
carries a one-time key, so HAProxy resends it and it writes once), then ``kill -9`` of the
PostgreSQL primary (a standby promoted, seconds until writes succeed again, every
acknowledged write kept, the old primary back as a standby). The cluster
(2 app nodes, a primary and 2 synchronous standbys, ports 5640-5720) lives in a folder under
/tmp and is stopped at the end.

Run: ``.venv/bin/python bench/cluster_chaos.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    sys.exit(pytest.main(["-q", "-s", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                          str(ROOT / "tests" / "cluster" / "test_chaos.py")]))
