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

from tests.support.haproxy_versions import HAProxyBin

ROOT = Path(__file__).resolve().parents[2]
CERTS = ROOT / "certs" / "out"
HAPROXY = os.environ.get("HAPROXY_BIN", "haproxy")      # when a test does not say which (haproxy fixture)


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A free loopback port, never the same one twice in this process: bind(0) may hand a port out
    again as soon as it is closed, and a gateway whose HTTP and HTTPS ports collide cannot start."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


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


def wait_until(check, timeout: float = 30.0, what: str = "condition", interval: float = 0.1):
    """Call ``check`` until it returns something truthy, and return that; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(interval)
    return value


def rss_kb(pid: int) -> int:
    """Resident memory of a process in KiB (VmRSS from /proc), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def established(port: int) -> int:
    """Established TCP connections on 127.0.0.1 with ``port`` at either end (from /proc/net/tcp)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        if state == "01" and (int(local.split(":")[1], 16) == port or int(remote.split(":")[1], 16) == port):
            count += 1
    return count


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Ask a process to stop with ``sig``; kill it if it has not exited after ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def make_key(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path


class Gateway:
    """One gateway instance (agent + HAProxy) in ``workdir``, forwarding to ``upstream_port``."""

    def __init__(self, workdir: Path, upstream_port: int, env: dict[str, str] | None = None,
                 config: str | None = None, agent_module: str = "agent", haproxy: HAProxyBin | None = None):
        """``config``: HAProxy configuration text to run instead of haproxy/haproxy.cfg (tests that
        remove a safety layer to prove the next one holds). ``agent_module``: what ``python -m``
        runs as the agent (tests.support.agent_idle_cpu: the agent with the helper's idle-CPU rule forced).
        ``haproxy``: the binary to run (conftest's ``haproxy`` fixture); default HAPROXY_BIN or PATH's."""
        self.agent_module = agent_module
        self.haproxy_bin = haproxy.path if haproxy is not None else HAPROXY
        self.haproxy_version = haproxy.version if haproxy is not None else None
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

    def start(self, agent: bool = True, master_worker: bool = False) -> Gateway:
        if agent:
            self.start_agent()
        self.start_haproxy(master_worker)
        return self

    def start_agent(self, *extra: str) -> None:
        cmd = [sys.executable, "-m", self.agent_module, "serve", "--listen", f"127.0.0.1:{self.agent_port}",
               "--key-file", str(self.key_file), *extra]
        with open(self.agent_log, "ab") as log:
            self.agent = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        self.agent.log_path = self.agent_log  # type: ignore[attr-defined]
        wait_port(self.agent_port, proc=self.agent)

    def stop_agent(self, sig: int = signal.SIGTERM) -> None:
        if self.agent is not None:
            stop_process(self.agent, sig)
        self.agent = None

    @property
    def master_socket(self) -> Path:
        return self.run_dir / "master.sock"

    def start_haproxy(self, master_worker: bool = False) -> None:
        """``master_worker``: run as ``make run`` does (``-W``), with the master CLI on a unix socket
        in the run directory, so tests can reload (SIGUSR2) and ask the worker ``show sess``."""
        mode = f'-W -S "{self.master_socket}"' if master_worker else ""
        self.master_worker = master_worker
        run = f'exec "{self.haproxy_bin}" {mode} -db -f "{self.config_path}"'
        cmd = ["bash", "-c", f'. "{ROOT}/haproxy/env.sh" && {run}']
        with open(self.haproxy_log, "ab") as log:
            self.haproxy = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        self.haproxy.log_path = self.haproxy_log  # type: ignore[attr-defined]
        wait_port(self.http_port, proc=self.haproxy)
        wait_port(self.https_port, proc=self.haproxy)
        if master_worker:
            deadline = time.monotonic() + 10
            while True:         # the master CLI socket comes up after the first worker
                try:
                    if self.worker_pids()[0]:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("HAProxy master CLI did not come up")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.haproxy is not None:
            stop_process(self.haproxy)
        self.haproxy = None
        if self.agent is not None:
            # A test may have frozen it (SIGSTOP): wake it so it can exit.
            self.agent.send_signal(signal.SIGCONT)
        self.stop_agent()

    # ---- master-worker mode -------------------------------------------------------------------

    def master_cli(self, command: str, timeout: float = 5.0) -> str:
        """One command on the master CLI (``@1 show sess`` goes to the current worker)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(str(self.master_socket))
            s.sendall(command.encode() + b"\n")
            s.shutdown(socket.SHUT_WR)
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out.decode(errors="replace")

    def worker_pids(self) -> tuple[list[int], list[int]]:
        """(current workers, old workers still finishing) from the master's ``show proc``."""
        current, old, section = [], [], "current"
        for line in self.master_cli("show proc").splitlines():
            if line.startswith("# old workers"):
                section = "old"
            elif line.startswith("#"):
                section = "current" if "workers" in line else "other"
            parts = line.split()
            if len(parts) >= 2 and parts[0].isdigit() and parts[1] == "worker":
                (current if section == "current" else old).append(int(parts[0]))
        return current, old

    def reload(self, timeout: float = 10.0) -> list[int]:
        """SIGUSR2 to the master (a reload); returns once a new worker serves. New worker pids."""
        assert self.haproxy is not None and self.master_worker
        before, _ = self.worker_pids()
        self.haproxy.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                now, _ = self.worker_pids()
            except OSError:
                now = []
            if now and not set(now) & set(before):
                return now
            time.sleep(0.05)
        raise TimeoutError("HAProxy did not start a new worker after SIGUSR2")

    def sessions(self) -> list[str]:
        """The current worker's client sessions from ``show sess`` (on fe_gateway and fe_verify).

        Left out: the CLI's own session (fe=GLOBAL) and the SPOE applets (no frontend), which are
        HAProxy's pooled connections to the agent, idle between requests by design."""
        if not self.master_worker:
            raise RuntimeError("sessions() needs master_worker=True")
        out = self.master_cli("@1 show sess")
        return [line for line in out.splitlines()
                if line.startswith("0x") and " fe=" in line and "fe=GLOBAL" not in line]

    def haproxy_pids(self) -> list[int]:
        """The HAProxy processes that hold memory: the workers (or the single -db process)."""
        assert self.haproxy is not None
        if self.master_worker:
            return self.worker_pids()[0]
        return [self.haproxy.pid]

    def logs(self) -> str:
        text = ""
        for path in (self.haproxy_log, self.agent_log):
            if path.exists():
                text += path.read_text(errors="replace")
        return text
