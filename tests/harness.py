"""Starts the real gateway for integration tests: the agent, HAProxy (haproxy/haproxy.cfg through
haproxy/env.sh, exactly as ``make run`` does) and a mock upstream, all on loopback with free ports.

Every process started here is stopped by ``Gateway.stop()``; tests use it through the fixtures in
conftest.py so that a failing test still stops what it started.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CERTS = ROOT / "certs" / "out"
HAPROXY = os.environ.get("HAPROXY_BIN", "haproxy")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = ""
            if proc.stdout is None and hasattr(proc, "log_path"):
                out = "\n" + proc.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}{out}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def make_key(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path


class Gateway:
    """One gateway instance (agent + HAProxy) in ``workdir``, forwarding to ``upstream_port``."""

    def __init__(self, workdir: Path, upstream_port: int, env: dict[str, str] | None = None,
                 config: str | None = None):
        """``config``: HAProxy configuration text to run instead of haproxy/haproxy.cfg (tests that
        remove a safety layer to prove the next one holds)."""
        self.workdir = workdir
        self.run_dir = workdir / "run"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.key_file = make_key(workdir / "pseudonym.key")
        self.http_port, self.https_port, self.agent_port = free_port(), free_port(), free_port()
        self.env = {
            **os.environ,
            "GATEWAY_RUN_DIR": str(self.run_dir),
            "GATEWAY_HTTP_PORT": str(self.http_port),
            "GATEWAY_HTTPS_PORT": str(self.https_port),
            "GATEWAY_CERT": str(CERTS / "server.pem"),
            "AGENT_ADDR": f"127.0.0.1:{self.agent_port}",
            "UPSTREAM_URL": f"https://localhost:{upstream_port}",
            "UPSTREAM_ADDR": f"127.0.0.1:{upstream_port}",
            "UPSTREAM_CA_FILE": str(CERTS / "ca.pem"),
            "GATEWAY_MASK_TIMEOUT": "2s",
            **(env or {}),
        }
        self.config_path = ROOT / "haproxy" / "haproxy.cfg"
        if config is not None:
            self.config_path = workdir / "haproxy.cfg"
            self.config_path.write_text(config)
        self.agent: subprocess.Popen | None = None
        self.haproxy: subprocess.Popen | None = None
        self.haproxy_log = workdir / "haproxy.log"
        self.agent_log = workdir / "agent.log"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://localhost:{self.https_port}"

    def start(self, agent: bool = True) -> Gateway:
        if agent:
            self.start_agent()
        self.start_haproxy()
        return self

    def start_agent(self, *extra: str) -> None:
        cmd = [sys.executable, "-m", "agent", "serve", "--listen", f"127.0.0.1:{self.agent_port}",
               "--key-file", str(self.key_file), *extra]
        with open(self.agent_log, "ab") as log:
            self.agent = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        self.agent.log_path = self.agent_log  # type: ignore[attr-defined]
        wait_port(self.agent_port, proc=self.agent)

    def stop_agent(self, sig: int = signal.SIGTERM) -> None:
        if self.agent is not None and self.agent.poll() is None:
            self.agent.send_signal(sig)
            try:
                self.agent.wait(10)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait(5)
        self.agent = None

    def start_haproxy(self) -> None:
        cmd = ["bash", "-c", f'. "{ROOT}/haproxy/env.sh" && exec {HAPROXY} -db -f "{self.config_path}"']
        with open(self.haproxy_log, "ab") as log:
            self.haproxy = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        self.haproxy.log_path = self.haproxy_log  # type: ignore[attr-defined]
        wait_port(self.http_port, proc=self.haproxy)
        wait_port(self.https_port, proc=self.haproxy)

    def stop(self) -> None:
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.terminate()
            try:
                self.haproxy.wait(10)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
                self.haproxy.wait(5)
        self.haproxy = None
        if self.agent is not None:
            # A test may have frozen it (SIGSTOP): wake it so it can exit.
            self.agent.send_signal(signal.SIGCONT)
        self.stop_agent()

    def logs(self) -> str:
        text = ""
        for path in (self.haproxy_log, self.agent_log):
            if path.exists():
                text += path.read_text(errors="replace")
        return text
