"""The benchmark's passthrough config is generated from haproxy/haproxy.cfg (bench/setups.py): every
change to the gateway config must still yield a valid config with no masking left in it, or
`make bench` breaks (it refuses a passthrough that still mentions SPOE, Lua or the verify hop)."""

from __future__ import annotations

import subprocess

from bench.setups import passthrough_config
from tests.support.haproxy_versions import HAProxyBin
from tests.support.harness import ROOT


def test_passthrough_config_is_generated_and_valid(tmp_path, haproxy: HAProxyBin):
    text = passthrough_config((ROOT / "haproxy" / "haproxy.cfg").read_text())
    cfg = tmp_path / "passthrough.cfg"
    cfg.write_text(text)
    env_script = f'. "{ROOT}/haproxy/env.sh" && exec "{haproxy.path}" -c -q -f "{cfg}"'
    r = subprocess.run(["bash", "-c", env_script], capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/sbin:/usr/bin:/bin", "GATEWAY_RUN_DIR": str(tmp_path / "run"),
                            "UPSTREAM_URL": "https://localhost:9", "UPSTREAM_ADDR": "127.0.0.1:9"})
    assert r.returncode == 0, r.stdout + r.stderr
