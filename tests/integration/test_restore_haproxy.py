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
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anthropic
import pytest

from agent.engine.restore_map import encode
from tests.support.haproxy_versions import HAProxyBin
from tests.support.harness import free_port, stop_process, wait_port, wait_until

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
    lua-load-per-thread "{lua_dir}/restore_filter.lua"
    nbthread 2
    log stdout format raw local0 info
{extra_global}

defaults
    mode http
    log global
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend fe
    bind 127.0.0.1:{port}
    log-format "gateway status=%ST cause=%[var(txn.cause)] ts=%tsc bytes=%B"
    option http-no-delay
    # Stands in for the agent's ACK: the map arrives base64-encoded in a test header.
    http-request set-var(txn.mask.map) req.fhdr(x-test-map),b64dec if {{ req.fhdr(x-test-map) -m found }}
    http-request del-header x-test-map
    http-request del-header accept-encoding
    filter lua.restore_response
    default_backend be

backend be
    server up 127.0.0.1:{upstream_port}
{extra_proxies}"""


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


@contextmanager
def run_gateway(tmp_path: Path, upstream: Upstream, haproxy: HAProxyBin, extra_global: str = "",
                metrics_port: int | None = None) -> Iterator[int]:
    port = free_port()
    cfg = tmp_path / "haproxy.cfg"
    extra_proxies = "" if metrics_port is None else (
        f"\nfrontend metrics\n    bind 127.0.0.1:{metrics_port}\n"
        "    http-request use-service prometheus-exporter\n")
    cfg.write_text(CONFIG.format(lua_dir=LUA_DIR, port=port, upstream_port=upstream.port,
                                 extra_global=extra_global, extra_proxies=extra_proxies))
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


@pytest.fixture
def gateway(tmp_path: Path, upstream: Upstream, haproxy: HAProxyBin) -> Iterator[int]:
    with run_gateway(tmp_path, upstream, haproxy) as port:
        yield port


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


def test_pseudonyms_after_ansi_colour_codes_restore(gateway, upstream):
    """Terminal output quoted back with its colour codes (the masker reads through them): every
    pseudonym right after a control sequence restores, the sequences cut across events anywhere."""
    (pi, oi), (pa, oa), (pb, ob) = INSTANCE, ACCOUNT, BUCKET
    colour = "\x1b[1;32m{}\x1b[0m \x1b[38;5;208m{}\x1b[m\n\x1b[36m{}\x1b[0m"
    tool = {"command": "printf '" + colour.format(pi, pa, pb) + "'"}
    upstream.scenarios["ansi"] = Scenario(anthropic_stream(colour.format(pi, pa, pb), tool, "t", "s"))

    final = sdk_stream(gateway, "ansi", MAP)
    assert final.content[1].text == colour.format(oi, oa, ob)
    assert final.content[2].input == {"command": "printf '" + colour.format(oi, oa, ob) + "'"}


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


def test_restored_json_keeps_the_client_connection(gateway, upstream):
    """Originals are longer, so the length changes: the response goes out chunked (set_body_len on 3.2+,
    no Content-Length on 2.6), not close-delimited, and the next request reuses the connection."""
    (pb, ob) = BUCKET
    body = json.dumps({"text": f"bucket {pb}"}).encode()
    upstream.scenarios["ka"] = Scenario([body], "application/json", chunked=False)
    conn = http.client.HTTPConnection("127.0.0.1", gateway, timeout=10)
    try:
        socks = []
        for _ in range(3):
            conn.request("GET", "/v1/messages", headers={"x-scenario": "ka", "x-test-map": map_header(MAP)})
            resp = conn.getresponse()
            assert json.loads(resp.read()) == {"text": f"bucket {ob}"}
            assert resp.getheader("content-length") is None
            assert resp.getheader("transfer-encoding") == "chunked"
            assert not resp.will_close
            socks.append(conn.sock)
        assert socks[0] is not None and socks.count(socks[0]) == 3
    finally:
        conn.close()


# --- a restore HAProxy aborts -------------------------------------------------------------------------
# A Lua timeout (or out-of-memory) inside a filter callback makes HAProxy forward what is left in the
# message as it is. Forced here with a Lua memory limit (tune.lua.maxmem, deterministic, unlike a
# session timeout whose clock depends on the version and the load) and one event (or body) of a few MB
# whose restore needs more than that: the client must never get the pseudonyms, and must be told.
# (The buffer is as large as the gateway's: a restored event must fit in it, else msg:insert fails
# and the filter raises, which cuts the response too.)

TIGHT = "    tune.lua.maxmem 8\n    tune.bufsize 8388608"   # MB; the restored event must fit the buffer
BIG = 3_000_000


def long_text(size: int) -> str:
    unit = f"{INSTANCE[0]} in {ACCOUNT[0]}, "
    return unit * (size // len(unit))


def read_all(resp) -> tuple[bytes, bool]:
    """The body as far as it came, and whether it came complete."""
    try:
        return resp.read(), True
    except http.client.IncompleteRead as e:
        return e.partial, False


def aborted_log(tmp_path: Path) -> str:
    """HAProxy's output once the aborted transaction's log line is in it (written when it ends)."""
    path = tmp_path / "haproxy.log"

    def ready() -> str:
        text = path.read_text(errors="replace")
        return text if "cause=restore_aborted" in text else ""
    return wait_until(ready, timeout=10, what="the log line of the aborted restore")


def response_errors(metrics_port: int) -> float:
    """haproxy_backend_response_errors_total of backend `be`, from the Prometheus exporter."""
    conn = http.client.HTTPConnection("127.0.0.1", metrics_port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    for line in text.splitlines():
        if line.startswith('haproxy_backend_response_errors_total{proxy="be"}'):
            return float(line.split()[-1])
    raise AssertionError("no haproxy_backend_response_errors_total for be")


def test_aborted_stream_ends_with_an_error_event(tmp_path, upstream, haproxy):
    pi, oi = INSTANCE
    chunks = [ev({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
              delta(0, "text_delta", f"first {pi} "), delta(0, "text_delta", long_text(BIG)),
              delta(0, "text_delta", f"after {pi}"), ev({"type": "content_block_stop", "index": 0}),
              ev({"type": "message_stop"})]
    upstream.scenarios["abort"] = Scenario(chunks, delay=0.05)
    mport = free_port()
    with run_gateway(tmp_path, upstream, haproxy, TIGHT, metrics_port=mport) as port:
        assert response_errors(mport) == 0
        resp, conn = http_get(port, "abort", MAP)
        try:
            raw, complete = read_all(resp)
        finally:
            conn.close()
        log = aborted_log(tmp_path)
        assert response_errors(mport) == 1                # counted where Prometheus can see it
    assert resp.status == 200                            # sent with the first event, before the abort
    assert pi.encode() not in raw and ACCOUNT[0].encode() not in raw
    assert f"first {oi}".encode() in raw
    events = [e for e in raw.decode().split("\n\n") if e.strip()]
    assert events[-1].startswith("event: error\n"), raw[-300:]     # the last thing the client gets
    err = json.loads(events[-1].split("\ndata: ", 1)[1])
    assert err["type"] == "error" and err["error"]["type"] == "api_error"
    assert "restore aborted" in log and "cause=restore_aborted" in log


def test_aborted_sdk_stream_raises(tmp_path, upstream, haproxy):
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test", "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 1}}
    chunks = [ev({"type": "message_start", "message": message}),
              ev({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
              delta(0, "text_delta", long_text(BIG)), ev({"type": "content_block_stop", "index": 0}),
              ev({"type": "message_stop"})]
    upstream.scenarios["abort-sdk"] = Scenario(chunks)
    with run_gateway(tmp_path, upstream, haproxy, TIGHT) as port, pytest.raises(anthropic.APIStatusError) as e:
        sdk_stream(port, "abort-sdk", MAP)
    assert "could not be restored" in str(e.value)


def test_aborted_json_is_a_502(tmp_path, upstream, haproxy):
    """A JSON body is restored before its headers leave (the status is 502 while that runs), so an
    aborted restore still becomes a 502 with Anthropic's error shape."""
    body = json.dumps({"type": "message", "content": [{"type": "text", "text": long_text(BIG)}]}).encode()
    upstream.scenarios["abort-json"] = Scenario([body], "application/json", chunked=False)
    with run_gateway(tmp_path, upstream, haproxy, TIGHT) as port:
        resp, conn = http_get(port, "abort-json", MAP)
        try:
            raw, complete = read_all(resp)
        finally:
            conn.close()
        log = aborted_log(tmp_path)
    assert resp.status == 502 and complete
    err = json.loads(raw)
    assert err["type"] == "error" and err["error"]["type"] == "api_error"
    assert "could not be restored" in err["error"]["message"]
    assert "cause=restore_aborted" in log


def test_aborted_json_through_the_sdk(tmp_path, upstream, haproxy):
    body = json.dumps({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
                       "content": [{"type": "text", "text": long_text(BIG)}], "stop_reason": "end_turn",
                       "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}).encode()
    upstream.scenarios["abort-json-sdk"] = Scenario([body], "application/json", chunked=False)
    with run_gateway(tmp_path, upstream, haproxy, TIGHT) as port:
        client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="k", max_retries=0)
        with pytest.raises(anthropic.InternalServerError) as e:
            client.messages.create(model="claude-test", max_tokens=10, messages=[{"role": "user", "content": "x"}],
                                   extra_headers={"x-scenario": "abort-json-sdk", "x-test-map": map_header(MAP)})
    assert e.value.status_code == 502


def test_json_waits_for_its_whole_body(gateway, upstream):
    """The held JSON restore with a body that arrives in slow pieces (the headers wait for it)."""
    (pi, oi) = INSTANCE
    text = json.dumps({"text": f"{pi} " * 50})
    upstream.scenarios["slow-json"] = Scenario([p.encode() for p in pieces(text, 100)], "application/json",
                                               delay=0.05)
    resp, conn = http_get(gateway, "slow-json", MAP)
    try:
        assert resp.status == 200
        assert json.loads(resp.read()) == {"text": f"{oi} " * 50}
    finally:
        conn.close()


def test_held_json_keeps_the_upstream_status(gateway, upstream):
    """The held restore's temporary 502 gives way to the upstream's own status and reason."""
    (pi, oi) = INSTANCE
    body = json.dumps({"type": "error", "error": {"type": "rate_limit_error", "message": f"slow down {pi}"}})
    upstream.scenarios["429"] = Scenario([body.encode()], "application/json", chunked=False, status=429)
    resp, conn = http_get(gateway, "429", MAP)
    try:
        assert (resp.status, resp.reason) == (429, "Too Many Requests")
        assert json.loads(resp.read())["error"]["message"] == f"slow down {oi}"
    finally:
        conn.close()
