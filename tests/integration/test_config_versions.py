"""haproxy/haproxy.cfg is one file for HAProxy 2.6 and 3.2: ``haproxy -c -dW`` (warnings are errors)
must accept it on both, with and without the ops listener, exactly as haproxy/env.sh sets it up."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.haproxy_versions import HAProxyBin
from tests.support.harness import ROOT


@pytest.mark.parametrize("ops", [False, True], ids=["no-ops", "ops"])
def test_gateway_config_has_no_warning(tmp_path, haproxy: HAProxyBin, ops: bool) -> None:
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "GATEWAY_RUN_DIR": str(tmp_path / "run"),
           "UPSTREAM_URL": "https://localhost:9", "UPSTREAM_ADDR": "127.0.0.1:9"}
    if ops:
        env["GATEWAY_METRICS_PORT"] = "9"
    script = f'. "{ROOT}/haproxy/env.sh" && exec "{haproxy.path}" -c -dW -f "{ROOT}/haproxy/haproxy.cfg"'
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "WARNING" not in r.stdout + r.stderr


def test_spop_backend_is_spop_on_3_1_and_later() -> None:
    """3.1+ runs SPOE over its SPOP multiplexer: the agents' backend must be "mode spop" there (set
    explicitly, so the config says what runs), and stay "mode tcp" on 2.6, which has no such mode."""
    text = (ROOT / "haproxy" / "haproxy.cfg").read_text()
    block = text.split("backend be_agents\n", 1)[1].split("\n\n", 1)[0]
    assert ".if version_atleast(3.1)\n    mode spop\n.endif" in block
    spoe = (ROOT / "haproxy" / "spoe-mask.conf").read_text()
    assert ".if !version_atleast(3.1)\n" in spoe.split("timeout hello", 1)[0]
