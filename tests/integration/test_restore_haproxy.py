"""The restore filter through real HAProxy (haproxy/restore_filter.lua + restore.lua).

A minimal HAProxy config in the test's tmp dir takes the restore map from a request header (standing
in for the agent's SPOE ACK), runs `filter lua.restore_response` and proxies to a mock upstream that
streams SSE events with small delays. Clients: the `anthropic` SDK's `messages.stream`, plain HTTP for
the OpenAI-style stream and other bodies. Everything listens on 127.0.0.1 and every process started
here is stopped by its fixture.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anthropic
import pytest

from agent.engine.restore_map import encode
from tests.support.haproxy_versions import HAProxyBin
from tests.support.harness import free_port, stop_process, wait_port

LUA_DIR = Path(__file__).resolve().parents[2] / "haproxy"

INSTANCE = ("i-0a1b2c3d4e5f60718", "i-0123456789abcdef0")
ACCOUNT = ("483920175634", "123456789012")
BUCKET = ("qx-zrtvbw-lkmsp", "my-company-logs-with-a-longer-name")
MAP = dict([INSTANCE, ACCOUNT, BUCKET])

CONFIG = """\
global
.if version_atleast(3.1)
    tune.lua.bool-sample-conversion normal
.endif
    lua-prepend-path "{lua_dir}/?.lua"
.if version_atleast(3.1)
    tune.lua.bool-sample-conversion normal
.endif
    lua-load-per-thread "{lua_dir}/restore_filter.lua"
    nbthread 2

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend fe
    bind 127.0.0.1:{port}
    option http-no-delay
    # Stands in for the agent's ACK: the map arrives base64-encoded in a test header.
    http-request set-var(txn.mask.map) req.fhdr(x-test-map),b64dec if {{ req.fhdr(x-test-map) -m found }}
    http-request del-header x-test-map
    http-request del-header accept-encoding
    filter lua.restore_response
    default_backend be

backend be
    server up 127.0.0.1:{upstream_port}
"""


# --- mock upstream ------------------------------------------------------------------------------------

@dataclass
class Scenario:
    chunks: list[bytes]
    content_type: str = "text/event-stream"
    delay: float = 0.005
    chunked: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


class Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), UpstreamHandler)
        self.scenarios: dict[str, Scenario] = {}

    @property
    def port(self) -> int:
        return self.server_address[1]


class UpstreamHandler(BaseHTTPRequestHandler):
    """Answers with the scenario named in `x-scenario`, chunk by chunk, sleeping between chunks."""

    protocol_version = "HTTP/1.1"
    server: Upstream

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.do_GET()

    def do_GET(self) -> None:
        sc = self.server.scenarios[self.headers["x-scenario"]]
        self.send_response(sc.status)
        self.send_header("content-type", sc.content_type)
        for name, value in sc.headers.items():
            self.send_header(name, value)
        body = b"".join(sc.chunks)
        if sc.chunked:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.send_header("content-length", str(len(body)))
        self.end_headers()
        if not sc.chunked:
            self.wfile.write(body)
            return
        for chunk in sc.chunks:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            time.sleep(sc.delay)
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    up = Upstream()
    thread = threading.Thread(target=up.serve_forever, daemon=True)
    thread.start()
    try:
        yield up
    finally:
        up.shutdown()
        up.server_close()
        thread.join(5)


@pytest.fixture
def gateway(tmp_path: Path, upstream: Upstream, haproxy: HAProxyBin) -> Iterator[int]:
    port = free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(CONFIG.format(lua_dir=LUA_DIR, port=port, upstream_port=upstream.port))
    check = subprocess.run([haproxy.path, "-c", "-dW", "-f", str(cfg)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    log = open(tmp_path / "haproxy.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen([haproxy.path, "-db", "-f", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc=proc)
        yield port
    finally:
        stop_process(proc, timeout=5)
        log.close()


# --- helpers ------------------------------------------------------------------------------------------

def map_header(mapping: dict[str, str]) -> str:
    return base64.b64encode(encode(mapping)).decode()


def ev(payload: dict) -> bytes:
    data = json.dumps(payload, separators=(",", ":"))
    return f"event: {payload['type']}\ndata: {data}\n\n".encode()


def delta(index: int, kind: str, text: str) -> bytes:
    field_name = {"text_delta": "text", "input_json_delta": "partial_json", "thinking_delta": "thinking",
                  "signature_delta": "signature"}[kind]
    return ev({"type": "content_block_delta", "index": index, "delta": {"type": kind, field_name: text}})


def pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def anthropic_stream(text: str, tool_input: dict, thinking: str, signature: str) -> list[bytes]:
    """A full Messages stream: thinking, text and tool_use blocks, split into small deltas."""
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test", "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 1}}
    out = [ev({"type": "message_start", "message": message}), ev({"type": "ping"}),
           ev({"type": "content_block_start", "index": 0,
               "content_block": {"type": "thinking", "thinking": "", "signature": ""}})]
    out += [delta(0, "thinking_delta", p) for p in pieces(thinking, 7)]
    out += [delta(0, "signature_delta", signature), ev({"type": "content_block_stop", "index": 0}),
            ev({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}})]
    out += [delta(1, "text_delta", p) for p in pieces(text, 5)]
    out += [ev({"type": "content_block_stop", "index": 1}),
            ev({"type": "content_block_start", "index": 2, "content_block": {
                "type": "tool_use", "id": "toolu_1", "name": "bash", "input": {}}})]
    out += [delta(2, "input_json_delta", p) for p in pieces(json.dumps(tool_input), 3)]
    out += [ev({"type": "content_block_stop", "index": 2}),
            ev({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 20}}),
            ev({"type": "message_stop"})]
    return out


def sdk_stream(port: int, scenario: str, mapping: dict[str, str]):
    client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="test-key", max_retries=0)
    headers = {"x-scenario": scenario, "x-test-map": map_header(mapping)}
    with client.messages.stream(model="claude-test", max_tokens=100,
                                messages=[{"role": "user", "content": "hi"}], extra_headers=headers) as s:
        return s.get_final_message()


def http_get(port: int, scenario: str, mapping: dict[str, str] | None, path: str = "/v1/messages"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"x-scenario": scenario}
    if mapping is not None:
        headers["x-test-map"] = map_header(mapping)
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    return resp, conn


def sse_payloads(raw: bytes) -> list:
    assert raw.endswith(b"\n\n")
    out = []
    for block in raw.decode().split("\n\n")[:-1]:
        data = [ln[6:] for ln in block.split("\n") if ln.startswith("data: ")]
        assert len(data) == 1, block
        out.append(data[0] if data[0] == "[DONE]" else json.loads(data[0]))
    return out


# --- tests --------------------------------------------------------------------------------------------

def test_sdk_stream_restores_text_and_tool_input(gateway, upstream):
    (pi, oi), (pa, oa), (pb, ob) = INSTANCE, ACCOUNT, BUCKET
    text = f"Stop {pi} in account {pa}.\nThen empty s3://{pb}/logs and arn:aws:iam::{pa}:root"
    tool = {"command": f"aws ec2 stop-instances --instance-ids {pi}", "note": f'"{pb}"\n{pa}'}
    thinking, signature = f"The user means {pi}; the example 10.9.8.7 is mine.", f"sig-{pi}=="
    upstream.scenarios["full"] = Scenario(anthropic_stream(text, tool, thinking, signature))

    final = sdk_stream(gateway, "full", MAP)
    assert [b.type for b in final.content] == ["thinking", "text", "tool_use"]
    assert final.content[0].thinking == thinking          # signed thinking stays as the model wrote it
    assert final.content[0].signature == signature
    assert final.content[1].text == (f"Stop {oi} in account {oa}.\n"
                                     f"Then empty s3://{ob}/logs and arn:aws:iam::{oa}:root")
    assert final.content[2].input == {"command": f"aws ec2 stop-instances --instance-ids {oi}",
                                      "note": f'"{ob}"\n{oa}'}


def test_openai_stream_plain_client(gateway, upstream):
    (pi, oi), (pa, oa) = INSTANCE, ACCOUNT
    content, args = f"Instance {pi} is in {pa}", json.dumps({"ids": [pi], "account": pa})

    def chunk(delta: dict, finish=None) -> bytes:
        body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": p}) for p in pieces(content, 4)]
    chunks += [chunk({"tool_calls": [{"index": 0, "id": "c1", "type": "function",
                                      "function": {"name": "aws", "arguments": ""}}]})]
    chunks += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}) for p in pieces(args, 6)]
    chunks += [chunk({}, "tool_calls"), b"data: [DONE]\n\n"]
    upstream.scenarios["openai"] = Scenario(chunks)

    resp, conn = http_get(gateway, "openai", MAP, "/v1/chat/completions")
    try:
        events = sse_payloads(resp.read())
    finally:
        conn.close()
    got_content = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1])
    got_args = "".join(tc["function"].get("arguments", "") for e in events[:-1]
                       for tc in e["choices"][0]["delta"].get("tool_calls", []))
    assert got_content == f"Instance {oi} is in {oa}"
    assert json.loads(got_args) == {"ids": [oi], "account": oa}
    assert events[-1] == "[DONE]"


def test_concurrent_streams_restore_only_their_own_map(gateway, upstream):
    pseudonym = INSTANCE[0]
    maps = [{pseudonym: "i-0aaaaaaaaaaaaaaaa"}, {pseudonym: "i-0bbbbbbbbbbbbbbbb"}]
    text = " ".join([f"id {pseudonym}"] * 6)
    upstream.scenarios["shared"] = Scenario(anthropic_stream(text, {"id": pseudonym}, "t", "s"), delay=0.01)

    with ThreadPoolExecutor(2) as pool:
        finals = list(pool.map(lambda m: sdk_stream(gateway, "shared", m), maps))
    for mapping, final in zip(maps, finals, strict=True):
        original = mapping[pseudonym]
        assert final.content[1].text == " ".join([f"id {original}"] * 6)
        assert final.content[2].input == {"id": original}


def test_events_flow_before_the_upstream_finishes(gateway, upstream):
    chunks = [delta(0, "text_delta", "hello "), delta(0, "text_delta", INSTANCE[0] + " "),
              ev({"type": "content_block_stop", "index": 0})]
    upstream.scenarios["slow"] = Scenario(chunks, delay=0.6)
    start = time.monotonic()
    resp, conn = http_get(gateway, "slow", MAP)
    try:
        first = resp.readline()
        first_at = time.monotonic() - start
        rest = resp.read()
    finally:
        conn.close()
    assert first.startswith(b"event: content_block_delta")
    assert first_at < 0.5, first_at                      # not held until the stream ends (1.8 s)
    assert INSTANCE[1].encode() in rest


def test_json_response_with_longer_originals(gateway, upstream):
    (pb, ob), (pi, oi) = BUCKET, INSTANCE
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
               "content": [{"type": "text", "text": f"Bucket {pb} and {pi}"},
                           {"type": "tool_use", "id": "toolu_1", "name": "s3", "input": {"bucket": pb}}],
               "stop_reason": "tool_use", "stop_sequence": None,
               "usage": {"input_tokens": 1, "output_tokens": 1}}
    upstream.scenarios["json"] = Scenario([json.dumps(message).encode()], "application/json", chunked=False)

    client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{gateway}", api_key="k", max_retries=0)
    got = client.messages.create(model="claude-test", max_tokens=10,
                                 messages=[{"role": "user", "content": "x"}],
                                 extra_headers={"x-scenario": "json", "x-test-map": map_header(MAP)})
    assert got.content[0].text == f"Bucket {ob} and {oi}"
    assert got.content[1].input == {"bucket": ob}


def test_compressed_upstream_is_withheld(gateway, upstream):
    body = gzip.compress(json.dumps({"text": INSTANCE[0]}).encode())
    upstream.scenarios["gzip"] = Scenario([body], "application/json", chunked=False,
                                          headers={"content-encoding": "gzip"})
    resp, conn = http_get(gateway, "gzip", MAP)
    try:
        data = resp.read()
    finally:
        conn.close()
    assert resp.status == 502
    assert resp.getheader("content-encoding") is None
    err = json.loads(data)
    assert err["type"] == "error" and err["error"]["type"] == "api_error"


def test_without_map_response_is_untouched(gateway, upstream):
    body = json.dumps({"text": INSTANCE[0]}).encode()
    upstream.scenarios["plain"] = Scenario([body], "application/json", chunked=False)
    resp, conn = http_get(gateway, "plain", None)
    try:
        assert resp.read() == body
        assert resp.getheader("content-length") == str(len(body))
    finally:
        conn.close()


def test_binary_body_passes_unchanged(gateway, upstream):
    body = b"\x89PNG\r\n" + INSTANCE[0].encode() + b"\x00" * 100
    upstream.scenarios["png"] = Scenario([body], "image/png", chunked=False)
    resp, conn = http_get(gateway, "png", MAP)
    try:
        assert resp.read() == body
    finally:
        conn.close()
