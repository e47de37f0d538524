"""Faults under load: the agent killed, frozen and restarted, HAProxy reloaded, the upstream resetting
mid-stream, clients aborting mid-stream. Real HAProxy in master-worker mode (as ``make run``), the
real agent, a leak-scanning mock upstream and an asyncio client (tests/support/loadgen.py) keeping requests
in flight the whole time.

Every test asserts: zero leaks (the mock scans every request for every planted original in every
encoding), only 200 or Anthropic-shaped 5xx answers, no stuck sessions afterwards (``show sess`` on
the worker, established connections on the gateway port). Agent faults also assert recovery within
2 seconds of the agent being back (measured from the agent port accepting again, or SIGCONT).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import pytest

from tests.support.harness import Gateway, established, wait_port
from tests.support.loadgen import Load, Result, body
from tests.support.planted import ORIGINALS, PROMPT, ROLE_ARN

PLANTED = [*ORIGINALS, ROLE_ARN]
RECOVERY_S = 2.0


@pytest.fixture
def scanning(upstream):
    upstream.originals = PLANTED
    return upstream


def start(make_gateway, **env: str) -> Gateway:
    return make_gateway(env={"GATEWAY_MASK_TIMEOUT": "1s", **env}, master_worker=True)


def post_once(gw: Gateway, timeout: float = 5.0) -> int:
    """One request outside the load (its own connection); the HTTP status, 0 on a transport error."""
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", str(timeout),
                        gw.http_url + "/v1/messages", "-H", "content-type: application/json",
                        "--data-binary", body(0, False)], capture_output=True, timeout=timeout + 5)
    return int(r.stdout or b"0")


def wait_recovered(gw: Gateway, since: float) -> float:
    """Poll until a request succeeds; seconds from ``since`` (bounded by RECOVERY_S + slack)."""
    deadline = since + RECOVERY_S + 3
    while time.monotonic() < deadline:
        if post_once(gw, timeout=RECOVERY_S) == 200:
            return time.monotonic() - since
        time.sleep(0.05)
    return float("inf")


def assert_fail_closed_only(results: list[Result], transport_errors_allowed: bool = False) -> None:
    assert results, "the load sent nothing"
    bad = [r for r in results if r.status is not None and r.status != 200 and (r.status < 500 or r.error)]
    assert not bad, f"answers that are not 200 or Anthropic-shaped 5xx: {bad[:5]}"
    if not transport_errors_allowed:
        errors = [r for r in results if r.status is None]
        assert not errors, f"transport errors: {errors[:5]}"
    wrong = [r for r in results if r.status == 200 and not r.restored]
    assert not wrong, f"200 answers without the restored prompt: {wrong[:5]}"


def assert_no_leaks(upstream) -> None:
    assert upstream.requests > 0
    assert upstream.leak_count == 0, upstream.leak_report()


def assert_no_stuck_connections(gw: Gateway, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        sessions, conns = gw.sessions(), established(gw.http_port)
        if not sessions and conns == 0:
            return
        assert time.monotonic() < deadline, f"stuck after load: {len(sessions)} sessions, {conns} conns\n" + \
            "\n".join(sessions[:5])
        time.sleep(0.1)


def run_load(gw: Gateway, seconds: float, concurrency: int = 4) -> list[Result]:
    load = Load(gw.http_url, concurrency=concurrency).start()
    time.sleep(seconds)
    return load.stop()


# --------------------------------------------------------------------------------------------------
# The agent
# --------------------------------------------------------------------------------------------------


def test_agent_sigkill_under_load(make_gateway, scanning):
    gw = start(make_gateway)
    load = Load(gw.http_url, concurrency=4).start()
    time.sleep(1.0)
    gw.stop_agent(signal.SIGKILL)
    killed_at = time.monotonic()
    time.sleep(2.5)
    gw.start_agent()                       # returns once the agent port accepts
    back_at = time.monotonic()
    recovery = wait_recovered(gw, back_at)
    time.sleep(1.0)
    results = load.stop()
    assert recovery <= RECOVERY_S, f"recovered {recovery:.2f}s after the agent came back"
    # Requests that started and ended while the agent was dead failed closed. (One that was still
    # waiting for the agent when it came back may rightly succeed.)
    outage = [r for r in results if r.start >= killed_at and r.start + r.latency < back_at - 0.3]
    assert outage and all(r.status == 503 for r in outage), {r.status for r in outage}
    assert any(r.status == 200 and r.start > back_at for r in results)
    assert_fail_closed_only(results)
    assert_no_leaks(scanning)
    assert_no_stuck_connections(gw)


def test_agent_sigstop_under_load(make_gateway, scanning):
    gw = start(make_gateway)
    load = Load(gw.http_url, concurrency=4).start()
    time.sleep(1.0)
    gw.agent.send_signal(signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        time.sleep(2.5)                    # > GATEWAY_MASK_TIMEOUT: frozen requests fail with 503
    finally:
        gw.agent.send_signal(signal.SIGCONT)
    cont_at = time.monotonic()
    recovery = wait_recovered(gw, cont_at)
    time.sleep(1.0)
    results = load.stop()
    assert recovery <= RECOVERY_S, f"recovered {recovery:.2f}s after SIGCONT"
    frozen = [r for r in results if r.start > stopped_at + 0.1 and r.start + r.latency < cont_at - 0.2]
    assert frozen and all(r.status == 503 for r in frozen), {r.status for r in frozen}
    assert_fail_closed_only(results)
    assert_no_leaks(scanning)
    assert_no_stuck_connections(gw)


def test_agent_restart_under_load(make_gateway, scanning):
    """SIGTERM (graceful drain) then a new agent, three times: only 200 or 503 in between."""
    gw = start(make_gateway)
    load = Load(gw.http_url, concurrency=4).start()
    recoveries = []
    for _ in range(3):
        time.sleep(0.7)
        gw.stop_agent(signal.SIGTERM)
        gw.start_agent()
        recoveries.append(wait_recovered(gw, time.monotonic()))
    time.sleep(0.5)
    results = load.stop()
    assert max(recoveries) <= RECOVERY_S, recoveries
    assert_fail_closed_only(results)
    assert_no_leaks(scanning)
    assert_no_stuck_connections(gw)


# --------------------------------------------------------------------------------------------------
# HAProxy, the upstream, the clients
# --------------------------------------------------------------------------------------------------


def test_haproxy_reload_under_load(make_gateway, scanning):
    """Master-worker reload (SIGUSR2, what `make run`'s haproxy -W does) three times under load:
    nothing leaks, no request fails, the old workers finish and exit."""
    gw = start(make_gateway)
    load = Load(gw.http_url, concurrency=4, retry_unanswered=True).start()
    time.sleep(0.8)
    for _ in range(3):
        gw.reload()
        time.sleep(0.8)
    results = load.stop()
    assert_fail_closed_only(results)
    assert all(r.status == 200 for r in results), {(r.status, r.error) for r in results if r.status != 200}
    # A retried request was never forwarded: the upstream saw exactly one request per answer.
    assert scanning.requests == len(results), (scanning.requests, len(results))
    assert sum(r.retried for r in results) <= 3 * 4      # at most one per worker and reload
    deadline = time.monotonic() + 10
    while gw.worker_pids()[1]:
        assert time.monotonic() < deadline, f"old workers still running: {gw.worker_pids()}"
        time.sleep(0.1)
    assert_no_leaks(scanning)
    assert_no_stuck_connections(gw)


def test_upstream_resets_mid_stream(make_gateway, scanning):
    """The upstream sends a few SSE events, then a TCP RST. Clients see a truncated stream or a 502;
    the gateway keeps serving and nothing is left hanging."""
    gw = start(make_gateway)
    scanning.reset_after = 4
    results = run_load(gw, 2.0)
    streamed = [r for r in results if r.stream]
    assert streamed and all(r.status is None or r.status >= 500 or not r.restored for r in streamed)
    assert_fail_closed_only([r for r in results if not r.stream])
    scanning.reset_after = None
    assert wait_recovered(gw, time.monotonic()) <= RECOVERY_S
    assert_no_leaks(scanning)
    assert_no_stuck_connections(gw)


def test_clients_abort_mid_stream(make_gateway, scanning):
    """Clients that hang up after the first bytes of a slow stream: every session ends."""
    gw = start(make_gateway)
    scanning.delay = 0.05                   # a stream of ~20 events lasts about a second
    socks = []
    for n in range(20):
        s = socket.create_connection(("127.0.0.1", gw.http_port), timeout=5)
        data = body(n, True)
        s.sendall(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                  b"content-length: %d\r\n\r\n" % len(data) + data)
        socks.append(s)
    for s in socks:
        assert s.recv(64).startswith(b"HTTP/1.1 200")
        s.close()
    scanning.delay = 0.0
    assert post_once(gw) == 200
    assert_no_leaks(scanning)
    assert_no_stuck_connections(gw)


def test_clients_abort_mid_request_body(make_gateway, scanning):
    """A client that sends half a body and hangs up: nothing of it reaches the upstream."""
    gw = start(make_gateway)
    data = body(0, False)
    for cut in (1, len(data) // 3, len(data) - 1):
        s = socket.create_connection(("127.0.0.1", gw.http_port), timeout=5)
        s.sendall(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                  b"content-length: %d\r\n\r\n" % len(data) + data[:cut])
        s.close()
    time.sleep(0.3)
    assert scanning.requests == 0
    assert post_once(gw) == 200 and scanning.requests == 1
    assert_no_leaks(scanning)
    assert_no_stuck_connections(gw)


def test_agent_killed_mid_request_never_forwards_the_original(make_gateway, scanning):
    """Kill the agent over and over while large bodies are being masked: no original leaves."""
    gw = start(make_gateway)
    load = Load(gw.http_url, concurrency=6).start()
    for _ in range(4):
        time.sleep(0.4)
        gw.stop_agent(signal.SIGKILL)
        gw.start_agent()
    time.sleep(0.5)
    results = load.stop()
    assert_fail_closed_only(results)
    assert_no_leaks(scanning)
    assert all(PROMPT not in r.body.decode("utf-8", "replace") for r in scanning.received)
    assert all(json.loads(r.body) for r in scanning.received if r.method == "POST")
    wait_port(gw.agent_port)
    assert_no_stuck_connections(gw)
