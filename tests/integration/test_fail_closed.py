"""Invariant 1, fail closed: whatever goes wrong, the upstream receives nothing and the client gets a
clear error in Anthropic's shape. Every test asserts on the mock upstream's record."""

from __future__ import annotations

import gzip
import json
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.support.harness import CERTS, ROOT, free_port, stop_process, wait_port
from tests.support.planted import PROMPT
from tests.support.send import BODY, post


def assert_anthropic_error(payload: dict, error_type: str) -> str:
    assert payload["type"] == "error", payload
    assert payload["error"]["type"] == error_type
    return payload["error"]["message"]


def test_agent_not_running(make_gateway, upstream):
    gw = make_gateway(agent=False)
    code, payload = post(gw.http_url)
    assert code == 503
    message = assert_anthropic_error(payload, "api_error")
    # Whichever caught it first: the SPOE exchange, or the health check that found nobody listening.
    assert "masking is unavailable" in message or "fails its health check" in message
    assert upstream.received == []


def test_agent_frozen(make_gateway, upstream):
    gw = make_gateway(env={"GATEWAY_MASK_TIMEOUT": "1s"})
    gw.agent.send_signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        code, payload = post(gw.http_url)
        assert code == 503
        assert_anthropic_error(payload, "api_error")
        assert time.monotonic() - t0 < 10
    finally:
        gw.agent.send_signal(signal.SIGCONT)
    assert upstream.received == []


def test_agent_killed_then_restarted(make_gateway, upstream):
    gw = make_gateway()
    gw.stop_agent(signal.SIGKILL)
    assert post(gw.http_url)[0] == 503
    assert upstream.received == []
    gw.start_agent()
    deadline = time.monotonic() + 10
    while post(gw.http_url)[0] != 200:
        assert time.monotonic() < deadline, "gateway did not recover after the agent came back"
        time.sleep(0.2)
    assert upstream.received and all(PROMPT not in r.body.decode() for r in upstream.received)


class RogueAgent:
    """A fake agent on loopback that answers every connection with ``reply(conn)``."""

    def __init__(self, reply):
        self.port = free_port()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.reply = reply
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        try:
            conn.settimeout(5)
            self.reply(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stopped = True
        self.thread.join(5)
        self.sock.close()


def _garbage(conn):
    conn.recv(65536)
    conn.sendall(b"\x00\x00\x00\x10garbage-garbage!" * 4)


def _half_frame(conn):
    conn.recv(65536)
    conn.sendall(b"\x00\x00\x01\x00\x65\x00\x00\x00\x01")   # announces 256 bytes, sends 5, closes


def _silent_close(conn):
    conn.recv(65536)


@pytest.mark.parametrize("reply", [_garbage, _half_frame, _silent_close], ids=["garbage", "half-frame", "close"])
def test_agent_answers_garbage_or_closes(make_gateway, upstream, reply):
    rogue = RogueAgent(reply)
    try:
        gw = make_gateway(env={"AGENT_ADDR": f"127.0.0.1:{rogue.port}", "GATEWAY_MASK_TIMEOUT": "1s"},
                          agent=False)
        code, payload = post(gw.http_url)
        assert code == 503
        assert_anthropic_error(payload, "api_error")
    finally:
        rogue.stop()
    assert upstream.received == []


SMALL = {"GATEWAY_MAX_BODY": "65536"}


def test_too_large_with_content_length(make_gateway, upstream):
    gw = make_gateway(env=SMALL)
    code, payload = post(gw.http_url, "x" * 70000)
    assert code == 413
    message = assert_anthropic_error(payload, "request_too_large")
    assert "65536" in message and "GATEWAY_MAX_BODY" in message
    assert upstream.received == []


def test_too_large_chunked(make_gateway, upstream):
    gw = make_gateway(env=SMALL)
    code, payload = post(gw.http_url, "x" * 200000, "transfer-encoding: chunked")
    assert code == 413
    assert_anthropic_error(payload, "request_too_large")
    assert upstream.received == []


def _h2_upload(gw, size: int) -> subprocess.CompletedProcess:
    # curl reading from a pipe with -T sends HTTP/2 DATA frames and no content-length.
    return subprocess.run(["curl", "-sS", "--http2", "--cacert", str(CERTS / "ca.pem"), "-X", "POST",
                           "-T", "-", "-w", "\n%{http_code} %{http_version}", gw.https_url + "/v1/messages",
                           "-H", "content-type: application/json"],
                          input=b'{"x":"' + b"y" * size + b'"}', capture_output=True, timeout=60)


def test_too_large_http2_without_content_length(make_gateway, upstream):
    gw = make_gateway(env=SMALL)
    r = _h2_upload(gw, 100_000)          # above the limit, within the buffer: a clean 413
    out, status = r.stdout.rsplit(b"\n", 1)
    assert status == b"413 2", (status, r.stderr)
    assert_anthropic_error(json.loads(out), "request_too_large")
    # Far above the buffer: HAProxy answers 413 and resets the stream the client is still sending
    # on (curl reports CANCEL instead of the 413). Either way nothing may leave.
    r = _h2_upload(gw, 3_000_000)
    assert r.stdout.endswith(b"413 2") or b"CANCEL" in r.stderr, (r.stdout[-200:], r.stderr)
    assert upstream.received == []


def test_just_under_the_limit_passes(make_gateway, upstream):
    gw = make_gateway(env=SMALL)
    body = json.dumps({"model": "m", "max_tokens": 1,
                       "messages": [{"role": "user", "content": PROMPT + " " + "z" * 60000}]})
    assert post(gw.http_url, body)[0] == 200
    assert len(upstream.received) == 1


def test_compressed_body_refused(gateway, upstream):
    code, payload = post(gateway.http_url, gzip.compress(BODY.encode()), "content-encoding: gzip")
    assert code == 415
    assert "Content-Encoding" in assert_anthropic_error(payload, "invalid_request_error")
    assert upstream.received == []


def test_forged_hash_header_is_overwritten(gateway, upstream):
    import hashlib
    forged = hashlib.sha256(BODY.encode()).hexdigest()
    code, _ = post(gateway.http_url, BODY, f"x-gateway-body-sha256: {forged}")
    assert code == 200
    assert PROMPT not in upstream.received[0].body.decode()


def test_verify_hop_refuses_a_body_that_is_not_the_masked_one(gateway, upstream):
    """Hop 2 alone: a body whose SHA-256 differs from the announced masked body never leaves."""
    import hashlib
    sock = str(gateway.run_dir / "verify.sock")
    for header in (hashlib.sha256(b"something else").hexdigest(), None):
        args = ["curl", "-sS", "--unix-socket", sock, "-o", "/dev/null", "-w", "%{http_code}",
                "http://localhost/v1/messages", "--data-binary", BODY]
        if header:
            args += ["-H", f"x-gateway-body-sha256: {header}"]
        r = subprocess.run(args, capture_output=True, timeout=30)
        assert r.stdout == b"502"
    assert upstream.received == []


def test_agent_down_fails_fast_on_its_health_check(make_gateway, upstream):
    """Once the health check has seen the agent gone, requests are refused at once (the health
    message) instead of each waiting GATEWAY_MASK_TIMEOUT; when it is back, requests pass again."""
    gw = make_gateway(env={"GATEWAY_MASK_TIMEOUT": "5s"})
    assert post(gw.http_url)[0] == 200
    gw.stop_agent(signal.SIGKILL)
    time.sleep(3)             # the check runs every 2 s and needs two failures (a request sent
    deadline = time.monotonic() + 20   # before that waits the whole timeout: also a 503)
    while True:
        code, payload = post(gw.http_url)
        assert code == 503
        if "fails its health check" in assert_anthropic_error(payload, "api_error"):
            break
        assert time.monotonic() < deadline, "the health check never marked the agent down"
    received = len(upstream.received)
    gw.start_agent()
    deadline = time.monotonic() + 15
    while post(gw.http_url)[0] != 200:
        assert time.monotonic() < deadline, "requests did not pass again after the agent came back"
        time.sleep(0.1)
    assert len(upstream.received) == received + 1
    assert all(PROMPT not in r.body.decode() for r in upstream.received)


_FORGING_AGENT = """
import asyncio, hashlib, sys
from agent import spop
from agent.service.server import AgentServer
TXN = spop.Scope.TXN
async def answer(msg, ctx):
    body = msg.get("body").value or b""
    actions = [spop.SetVar(TXN, "status", spop.int32(200)), spop.SetVar(TXN, "body", spop.binary(body)),
               spop.SetVar(TXN, "map", spop.binary(b""))]
    if sys.argv[2] == "wrong":
        actions.append(spop.SetVar(TXN, "sha256", spop.string(hashlib.sha256(b"another body").hexdigest())))
    return actions
async def main():
    server = AgentServer({"mask": answer})
    await server.listen_tcp("127.0.0.1", int(sys.argv[1]))
    await asyncio.Event().wait()
asyncio.run(main())
"""


@pytest.mark.parametrize("mode, status", [("missing", 503), ("wrong", 502)])
def test_an_answer_without_the_masked_body_hash_forwards_nothing(make_gateway, upstream, mode, status):
    """An agent answer whose body comes without its SHA-256 (503), or with the hash of another body
    (hop 2 refuses it: 502): nothing reaches the upstream."""
    port = free_port()
    agent = subprocess.Popen([sys.executable, "-c", _FORGING_AGENT, str(port), mode], cwd=ROOT)
    try:
        wait_port(port, proc=agent)
        gw = make_gateway(env={"AGENT_ADDR": f"127.0.0.1:{port}"}, agent=False)
        code, payload = post(gw.http_url)
        assert code == status
        assert_anthropic_error(payload, "api_error")
    finally:
        stop_process(agent)
    assert upstream.received == []
