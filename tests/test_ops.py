"""Operations through real processes: ``haproxy/run.sh`` (what ``make run`` starts), the health
endpoint, HAProxy's Prometheus exporter, the agents' own metrics, and the SigV4 refusal.

``RunSh`` starts the gateway exactly as ``make run`` does (run.sh: N agents with --reuse-port and
per-process metrics ports, HAProxy master-worker with a pid file), on free loopback ports, against
the recording mock upstream. test_reload.py and test_logs.py use it too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.harness import CERTS, ROOT, free_port, make_key, wait_port
from tests.planted import ORIGINALS, PROMPT, leaks


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

    def __init__(self, workdir: Path, upstream_port: int, agents: int = 2, env: dict[str, str] | None = None):
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
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ops_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def agent_metrics_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.agent_metrics_base + i}/metrics"

    def start(self) -> RunSh:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(["bash", str(ROOT / "haproxy" / "run.sh")], cwd=ROOT, env=self.env,
                                         stdout=log, stderr=log, start_new_session=True)
        self.proc.log_path = self.log_path  # type: ignore[attr-defined]
        for port in (self.agent_port, self.http_port, self.metrics_port,
                     *(self.agent_metrics_base + i for i in range(self.agents))):
            wait_port(port, timeout=30, proc=self.proc)
        wait_until(lambda: len(self.agent_pids()) == self.agents and (self.run_dir / "haproxy.pid").exists())
        return self

    def agent_pids(self) -> list[int]:
        path = self.run_dir / "agents.pid"
        return [int(x) for x in path.read_text().split()] if path.exists() else []

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


def wait_until(check, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


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


@pytest.fixture
def run_sh(tmp_path, upstream):
    gw = RunSh(tmp_path, upstream.port)
    try:
        yield gw.start()
    finally:
        gw.stop()


# --------------------------------------------------------------------------------------------------


def test_run_sh_records_pids_and_serves(run_sh, upstream):
    assert len(run_sh.agent_pids()) == 2
    master = int((run_sh.run_dir / "haproxy.pid").read_text().split()[0])
    assert Path(f"/proc/{master}").exists()
    code, body, _ = http(run_sh.url + "/v1/messages", messages_body(), {"content-type": "application/json"})
    assert code == 200, body
    assert leaks(upstream.received[-1].body) == []


def test_health_follows_the_agents(run_sh, upstream):
    wait_until(lambda: http(run_sh.ops_url + "/health")[0] == 200, what="healthy")
    code, body, headers = http(run_sh.ops_url + "/health")
    assert json.loads(body)["status"] == "ok" and headers["content-type"] == "application/json"
    pids = run_sh.agent_pids()
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)       # frozen: the port still accepts, nothing answers
    try:
        wait_until(lambda: http(run_sh.ops_url + "/health")[0] == 503, what="unhealthy while frozen")
        payload = json.loads(http(run_sh.ops_url + "/health")[1])
        assert payload["status"] == "unhealthy" and "agent" in payload["reason"]
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    wait_until(lambda: http(run_sh.ops_url + "/health")[0] == 200, what="healthy again")


def test_health_when_the_agent_is_down(make_gateway, upstream):
    # run.sh stops everything when an agent exits, so this uses the harness's separate agent.
    ops = free_port()
    gw = make_gateway(env={"GATEWAY_METRICS_PORT": str(ops)})
    url = f"http://127.0.0.1:{ops}/health"
    wait_until(lambda: http(url)[0] == 200, what="healthy")
    gw.stop_agent()
    wait_until(lambda: http(url)[0] == 503, what="unhealthy after the agent stopped")
    code, body, _ = http(gw.http_url + "/v1/messages", messages_body())
    assert code == 503 and json.loads(body)["type"] == "error"
    gw.start_agent()
    wait_until(lambda: http(url)[0] == 200, what="healthy after the agent came back")
    assert upstream.received == []


def test_haproxy_prometheus_exporter(run_sh):
    http(run_sh.url + "/v1/messages", messages_body(), {"content-type": "application/json"})
    code, body, headers = http(run_sh.ops_url + "/metrics")
    assert code == 200 and headers["content-type"].startswith("text/plain")
    text = body.decode()
    assert 'haproxy_frontend_http_requests_total{proxy="fe_gateway"}' in text
    assert 'haproxy_backend_status{proxy="be_agents_health",state="UP"}' in text or \
        'haproxy_server_status{proxy="be_agents_health"' in text
    assert http(run_sh.ops_url + "/other")[0] == 404


def test_agent_metrics_count_without_values(run_sh, upstream):
    for _ in range(3):
        assert http(run_sh.url + "/v1/messages", messages_body(), {"content-type": "application/json"})[0] == 200
    assert http(run_sh.url + "/v1/messages", b"{not json", {"content-type": "application/json"})[0] == 400
    texts = [http(run_sh.agent_metrics_url(i))[1].decode() for i in range(run_sh.agents)]
    total: dict[str, float] = {}
    for text in texts:
        for key, value in prom(text).items():
            total[key] = total.get(key, 0) + value
        assert not [o for o in ORIGINALS if o in text]
        for line in text.splitlines():          # every label value is a plain token
            for value in re.findall(r'="([^"]*)"', line):
                assert re.fullmatch(r"[A-Za-z0-9_.+\-]*|\+Inf", value), line
    assert total['aws_mask_agent_requests_total{status="200"}'] == 3
    assert total['aws_mask_agent_requests_total{status="400"}'] == 1
    assert sum(v for k, v in total.items() if k.startswith("aws_mask_agent_errors_total{")) == 1
    assert total['aws_mask_agent_identifiers_masked_total{kind="account"}'] >= 3
    assert total['aws_mask_agent_identifiers_masked_total{kind="ec2-id"}'] >= 3
    assert total["aws_mask_agent_mask_seconds_count"] == 4
    assert total['aws_mask_agent_mask_seconds_bucket{le="+Inf"}'] == 4
    assert total["aws_mask_agent_request_body_bytes_count"] == 4
    assert total["aws_mask_agent_restore_map_entries_count"] == 3
    assert total["aws_mask_agent_restore_map_entries_sum"] >= 3 * 5
    assert total["aws_mask_agent_restore_map_bytes_sum"] > 0
    assert total["aws_mask_agent_up"] == run_sh.agents
    assert http(run_sh.agent_metrics_url(0).replace("/metrics", "/nope"))[0] == 404


SIGV4 = [
    {"authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/bedrock/aws4_request, "
                      "SignedHeaders=host;x-amz-date, Signature=abc"},
    {"x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
]


@pytest.mark.parametrize("headers", SIGV4, ids=["authorization", "x-amz-content-sha256"])
def test_sigv4_signed_requests_are_refused(gateway, upstream, headers):
    code, body, _ = http(gateway.http_url + "/model/anthropic.claude/invoke", messages_body(),
                         {"content-type": "application/json", **headers})
    assert code == 400
    payload = json.loads(body)
    assert payload["type"] == "error" and payload["error"]["type"] == "invalid_request_error"
    assert "SigV4" in payload["error"]["message"]
    assert upstream.received == []


def test_presigned_url_is_refused(gateway, upstream):
    url = (gateway.http_url + "/v1/messages?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x"
           "&X-Amz-Signature=abc")
    code, _, _ = http(url, messages_body(), {"content-type": "application/json"})
    assert code == 400 and upstream.received == []
    # Control: an ordinary request on the same gateway is forwarded.
    assert http(gateway.http_url + "/v1/messages", messages_body(), {"content-type": "application/json"})[0] == 200
