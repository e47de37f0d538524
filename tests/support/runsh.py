"""Runs the gateway exactly as ``make run`` does, for tests: ``haproxy/run.sh`` (N agents with
--reuse-port and per-process metrics ports, HAProxy master-worker with a pid file) on free loopback
ports against the recording mock upstream, plus small HTTP and Prometheus helpers. Used by
test_ops.py, test_reload.py and test_logs.py (the ``run_sh`` fixture is in conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from bench.setups import children
from tests.support.haproxy_versions import HAProxyBin
from tests.support.harness import CERTS, ROOT, free_port, make_key, wait_port, wait_until
from tests.support.planted import PROMPT


def free_port_run(n: int) -> int:
    """A base port such that base .. base+n-1 are all free now."""
    for _ in range(50):
        base = free_port()
        socks = []
        try:
            for i in range(n):
                s = socket.socket()
                s.bind(("127.0.0.1", base + i))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no run of free ports")


class RunSh:
    """``haproxy/run.sh`` in ``workdir`` with its own ports, run dir, key and packs copy."""

    def __init__(self, workdir: Path, upstream_port: int, agents: int = 2, env: dict[str, str] | None = None,
                 haproxy: HAProxyBin | None = None):
        """``haproxy``: the binary run.sh and reload.sh find first on PATH (default: PATH's own)."""
        self.workdir = workdir
        self.run_dir = workdir / "run"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.packs_dir = workdir / "packs"          # own packs (added to the built-in ones); empty
        self.packs_dir.mkdir()
        self.cfg = workdir / "haproxy.cfg"
        shutil.copy(ROOT / "haproxy" / "haproxy.cfg", self.cfg)     # a copy a test may break
        self.agents = agents
        self.http_port, self.https_port, self.agent_port = free_port(), free_port(), free_port()
        self.metrics_port = free_port()
        self.supervisor_metrics_port = free_port()
        self.agent_metrics_base = free_port_run(agents)
        self.log_path = workdir / "run.log"
        self.env = {
            **os.environ,
            "GATEWAY_RUN_DIR": str(self.run_dir),
            "GATEWAY_HAPROXY_CFG": str(self.cfg),
            "GATEWAY_HTTP_PORT": str(self.http_port),
            "GATEWAY_HTTPS_PORT": str(self.https_port),
            "GATEWAY_METRICS_PORT": str(self.metrics_port),
            "AGENT_METRICS_PORT": str(self.agent_metrics_base),
            "SUPERVISOR_METRICS_PORT": str(self.supervisor_metrics_port),
            "GATEWAY_CERT": str(CERTS / "server.pem"),
            "AGENT_ADDR": f"127.0.0.1:{self.agent_port}",
            "AGENT_PROCESSES": str(agents),
            "GATEWAY_KEY_FILE": str(make_key(workdir / "pseudonym.key")),
            "GATEWAY_PACKS_DIR": str(self.packs_dir),
            "UPSTREAM_URL": f"https://localhost:{upstream_port}",
            "UPSTREAM_ADDR": f"127.0.0.1:{upstream_port}",
            "UPSTREAM_CA_FILE": str(CERTS / "ca.pem"),
            "GATEWAY_MASK_TIMEOUT": "5s",
            **(env or {}),
        }
        if haproxy is not None:
            self.env = haproxy.env(self.env)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ops_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    @property
    def supervisor_metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.supervisor_metrics_port}/metrics"

    def agent_metrics_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.agent_metrics_base + i}/metrics"

    def start(self) -> RunSh:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(["bash", str(ROOT / "haproxy" / "run.sh")], cwd=ROOT, env=self.env,
                                         stdout=log, stderr=log, start_new_session=True)
        self.proc.log_path = self.log_path  # type: ignore[attr-defined]
        for port in (self.agent_port, self.http_port, self.metrics_port, self.supervisor_metrics_port,
                     *(self.agent_metrics_base + i for i in range(self.agents))):
            wait_port(port, timeout=30, proc=self.proc)
        wait_until(lambda: len(self.agent_pids()) == self.agents and (self.run_dir / "haproxy.pid").exists())
        return self

    def agent_pids(self) -> list[int]:
        path = self.run_dir / "agents.pid"
        return [int(x) for x in path.read_text().split()] if path.exists() else []

    def supervisor_pid(self) -> int:
        """The agents' supervisor (``python -m agent supervise``), run.sh's child."""
        assert self.proc is not None
        for pid in children(self.proc.pid):
            try:
                if b"supervise" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
            except OSError:
                continue
        raise LookupError("no supervisor under run.sh")

    def process_tree(self) -> list[int]:
        """run.sh and every live process below it (supervisor, agents, their helpers, HAProxy)."""
        assert self.proc is not None
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children(pid))
        return found

    def reload(self) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(ROOT / "haproxy" / "reload.sh")], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=60)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)     # run.sh stops what it started
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)   # its own session: only what it started
                self.proc.wait(5)
        self.proc = None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def http(url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         method: str | None = None) -> tuple[int, bytes, dict[str, str]]:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def messages_body(text: str = PROMPT) -> bytes:
    return json.dumps({"model": "claude-test", "max_tokens": 64,
                       "messages": [{"role": "user", "content": text}]}).encode()


def prom(text: str) -> dict[str, float]:
    """``name{labels}`` -> value, from Prometheus text."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out
