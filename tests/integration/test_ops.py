"""Operations through real processes: ``haproxy/run.sh`` (what ``make run`` starts), the health
endpoint, HAProxy's Prometheus exporter, the agents' own metrics, and the SigV4 refusal.

``RunSh`` (tests/support/runsh.py) starts the gateway exactly as ``make run`` does.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.support.harness import free_port, wait_until
from tests.support.planted import ORIGINALS, leaks
from tests.support.runsh import http, messages_body, prom

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
    # The supervisor would replace frozen agents (test_supervisor.py) before two health checks
    # fail: freeze it first, and thaw it last, once the agents beat again.
    supervisor = run_sh.supervisor_pid()
    pids = run_sh.agent_pids()
    os.kill(supervisor, signal.SIGSTOP)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)       # frozen: the port still accepts, nothing answers
    try:
        wait_until(lambda: http(run_sh.ops_url + "/health")[0] == 503, what="unhealthy while frozen")
        payload = json.loads(http(run_sh.ops_url + "/health")[1])
        assert payload["status"] == "unhealthy" and "agent" in payload["reason"]
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.5)
        os.kill(supervisor, signal.SIGCONT)
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
