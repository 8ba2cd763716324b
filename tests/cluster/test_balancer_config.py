"""HAProxy accepts the configuration edugis writes (``haproxy -c``), with and without read nodes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from web.balancer import haproxy_config


@pytest.mark.parametrize("readers", [None, {"read1": 9011, "read2": 9012}])
def test_haproxy_accepts_the_configuration(tmp_path: Path, readers: dict[str, int] | None) -> None:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        pytest.skip("HAProxy is not installed (bin/setup installs it)")
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(8999, {"app1": 9001, "app2": 9002}, tmp_path / "stats.sock",
                                     readers=readers), encoding="utf-8")
    checked = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # a POST is resent only with a well-formed one-time key, never with an empty one
    text = config.read_text(encoding="utf-8")
    assert "acl keyed_form req.body_param(request_key) -m reg ^[0-9a-f]{32}$" in text
    assert "disable-l7-retry unless { method GET HEAD } or keyed_form" in text
