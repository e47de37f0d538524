"""Tests of the SPOP agent: the mask handler (CONTRACT.md variables), the asyncio server over real
loopback sockets (pipelining, malformed frames, shutdown), signals in a separate process, and a real
HAProxy 2.6 negotiating with the agent and receiving its variables.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from agent import spop
from agent.engine import restore_map
from agent.service.handlers import MaskerHolder, MaskHandler, Metrics, RequestContext, safe_path
from agent.service.server import REMOTE_REFUSED, AgentServer, ConfigError, main, parse_listen
from agent.spop import DataType, Status
from tests.support.haproxy_versions import HAProxyBin
from tests.support.harness import free_port, stop_process, wait_port
from tests.support.spop_fakes import ORIGINAL, PSEUDONYM, FakeMasker, fake_holder, running_server
from tests.support.spop_peer import (
    RawClient,
    haproxy_disconnect_frame,
    hello_frame,
    mask_message,
    notify_frame,
    raw_frame,
)

ROOT = Path(__file__).resolve().parents[2]
BODY = b'{"messages":[{"role":"user","content":"account ' + ORIGINAL + b' is broken"}]}'


def run(coro: Coroutine[Any, Any, Any], timeout: float = 15.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def handle(msg: spop.Message, masker: FakeMasker | None = None, max_frame_size: int = 16380,
           metrics: Metrics | None = None) -> dict[str, spop.TypedData]:
    handler = MaskHandler(fake_holder(masker), metrics)
    actions = run(handler(msg, RequestContext(1, 1, max_frame_size)))
    assert all(isinstance(a, spop.SetVar) and a.scope is spop.Scope.TXN for a in actions)
    return {a.name: a.value for a in actions}


def values(vars_: dict[str, spop.TypedData]) -> dict[str, object]:
    return {k: v.value for k, v in vars_.items()}


# --------------------------------------------------------------------------------------------------
# The mask handler: exactly the variables of docs/CONTRACT.md
# --------------------------------------------------------------------------------------------------


def test_masked_request_sets_the_contract_variables_with_their_types() -> None:
    out = handle(mask_message(BODY))
    assert {k: v.type for k, v in out.items()} == {
        "status": DataType.INT32, "body": DataType.BINARY, "sha256": DataType.STRING, "map": DataType.BINARY,
        "count": DataType.UINT32, "kinds": DataType.STRING, "mask_us": DataType.UINT32}
    assert out["status"].value == 200
    assert out["body"].value == BODY.replace(ORIGINAL, PSEUDONYM)
    assert out["sha256"].value == hashlib.sha256(out["body"].value).hexdigest()
    assert restore_map.decode(out["map"].value) == {PSEUDONYM.decode(): ORIGINAL.decode()}
    assert (out["count"].value, out["kinds"].value) == (1, "account=1")


def test_content_type_reaches_the_engine_and_empty_headers_are_none() -> None:
    masker = FakeMasker()
    handle(mask_message(b"{}", ctype="application/json; charset=utf-8"), masker)
    handle(mask_message(b"{}", ctype=""), masker)
    handle(mask_message(b"{}", ctype=None), masker)
    assert [c for _, c in masker.calls] == ["application/json; charset=utf-8", None, None]


def test_request_without_body_masks_the_empty_body() -> None:
    out = handle(mask_message(None, method="GET"))
    assert values(out)["status"] == 200 and out["body"].value == b"" and out["map"].value == b""


@pytest.mark.parametrize("cenc", ["gzip", "br", "deflate, identity", "GZIP"])
def test_compressed_bodies_are_refused_with_415(cenc: str) -> None:
    masker = FakeMasker()
    out = values(handle(mask_message(BODY, cenc=cenc), masker))
    assert out["status"] == 415 and out["error_type"] == "invalid_request_error"
    assert "compressed" in out["error"] and "identity" in out["error"]
    assert set(out) == {"status", "error_type", "error", "mask_us"} and masker.calls == []


@pytest.mark.parametrize("cenc", [None, "", "identity", " Identity "])
def test_identity_encoding_is_masked(cenc: str | None) -> None:
    assert values(handle(mask_message(BODY, cenc=cenc)))["status"] == 200


def test_engine_refusal_passes_status_type_and_message() -> None:
    out = values(handle(mask_message(b"REFUSE " + BODY)))
    assert out == {"status": 400, "error_type": "invalid_request_error",
                   "error": "documents are refused by policy", "mask_us": out["mask_us"]}


def test_engine_crash_is_a_generic_500_and_logs_only_the_type(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="agent")
    out = values(handle(mask_message(b"BOOM " + BODY)))
    assert out["status"] == 500 and out["error_type"] == "api_error"
    assert ORIGINAL.decode() not in out["error"] and "BOOM" not in out["error"]
    assert any(getattr(r, "fields", {}).get("exception") == "RuntimeError" for r in caplog.records)
    assert_no_original_in_logs(caplog)


def test_unsafe_restore_map_is_a_500() -> None:
    out = values(handle(mask_message(b"BADMAP " + BODY)))
    assert out["status"] == 500 and out["error_type"] == "api_error"


def test_ack_that_would_not_fit_becomes_413_naming_sizes_and_setting() -> None:
    body = b"DOUBLE " + ORIGINAL + b"x" * 9000
    out = values(handle(mask_message(body), max_frame_size=16380))
    assert out["status"] == 413 and out["error_type"] == "request_too_large"
    assert "16380" in out["error"] and "GATEWAY_MAX_BODY" in out["error"]
    assert handle(mask_message(body), max_frame_size=65536)["status"].value == 200


@pytest.mark.parametrize("msg", [
    spop.Message("mask", (("body", spop.string("not binary")),)),
    spop.Message("mask", (("path", spop.binary(b"/x")), ("body", spop.binary(b"{}")))),
    spop.Message("mask", (("method", spop.string("POST")),)),
])
def test_malformed_mask_message_is_a_500(msg: spop.Message) -> None:
    out = values(handle(msg))
    assert out["status"] == 500 and "spoe-mask.conf" in out["error"]


def assert_no_original_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        text = record.getMessage() + json.dumps(getattr(record, "fields", {}), default=str)
        assert ORIGINAL.decode() not in text and "BOOM" not in text, text


def test_one_structured_log_line_per_request_without_body(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="agent")
    handle(mask_message(BODY, path=f"/v1/messages/batches/{ORIGINAL.decode()}/results"))
    handle(mask_message(BODY, cenc="gzip"))
    lines = [r.fields for r in caplog.records if r.name == "agent.request"]
    assert len(lines) == 2
    assert set(lines[0]) == {"event", "method", "path", "status", "bytes_in", "bytes_out", "count", "kinds",
                             "mask_us", "cause", "detected_by"}
    assert lines[0]["path"] == "/v1/messages/batches/{id}/results"
    first = (lines[0]["status"], lines[0]["count"], lines[0]["kinds"], lines[0]["cause"])
    # An identifier in the URL is refused (only bodies are masked): nothing is masked, nothing leaks.
    assert first == (400, 0, "", "identifier_in_url")
    assert lines[0]["bytes_in"] == len(BODY) and lines[1]["cause"] == "compressed"
    assert_no_original_in_logs(caplog)


def test_metrics_count_requests_errors_and_kinds() -> None:
    metrics = Metrics()
    handle(mask_message(BODY + ORIGINAL), metrics=metrics)
    handle(mask_message(BODY, cenc="gzip"), metrics=metrics)
    handle(mask_message(b"BOOM"), metrics=metrics)
    snap = metrics.snapshot()
    assert snap["requests"] == 3 and snap["by_status"] == {"200": 1, "415": 1, "500": 1}
    assert snap["errors"] == {"compressed": 1, "exception": 1} and snap["identifiers"] == {"account": 2}
    assert ORIGINAL.decode() not in json.dumps(snap)


@pytest.mark.parametrize(("path", "logged"), [
    ("/v1/messages", "/v1/messages"), ("/v1/messages/count_tokens", "/v1/messages/count_tokens"),
    ("/api/oauth/arn:aws:iam::123456789012:role/x", "other"), ("", ""), (None, ""),
    ("/v1/files/file_011CNha8iCJcU1wXNR6q4V8w", "/v1/files/{id}"),
])
def test_safe_path(path: str | None, logged: str) -> None:
    assert safe_path(path) == logged


def test_reload_swaps_atomically_and_a_broken_reload_keeps_the_old_engine(caplog) -> None:
    engines = [FakeMasker(tag="a"), FakeMasker(replace=b"666666666666", tag="b")]

    def loader() -> FakeMasker:
        if not engines:
            raise ValueError("pack x:3")
        return engines.pop(0)

    holder = MaskerHolder(loader)
    first = holder.current
    handler = MaskHandler(holder)

    class ReloadingMasker(FakeMasker):
        def mask_body(self, body: bytes, content_type: str | None, parallel: bool = False):   # reload mid-request
            holder.reload()
            return first.mask_body(body, content_type)

    holder._current = ReloadingMasker()
    vars_ = run(handler(mask_message(BODY), RequestContext(1, 1, 16380)))
    assert {a.name: a.value.value for a in vars_}["body"] == BODY.replace(ORIGINAL, PSEUDONYM)   # old engine
    assert holder.current.tag == "b" and holder.generation == 2
    assert holder.reload() is False and holder.current.tag == "b"
    assert any("pack x:3" in getattr(r, "fields", {}).get("reason", "") for r in caplog.records)


# --------------------------------------------------------------------------------------------------
# The server over real sockets
# --------------------------------------------------------------------------------------------------


async def _mask_over_socket() -> None:
    async with running_server() as (_, port):
        client = await RawClient.connect("127.0.0.1", port)
        hello = await client.handshake(max_frame_size=16380)
        assert hello.kv["capabilities"].value == "pipelining" and hello.kv["max-frame-size"].value == 16380
        await client.send(notify_frame(11, 1, mask_message(BODY)))
        ack = await client.read_frame()
        assert (ack.type, ack.stream_id, ack.frame_id) == (spop.FrameType.ACK, 11, 1)
        assert ack.vars["status"] == 200 and ack.vars["body"] == BODY.replace(ORIGINAL, PSEUDONYM)
        await client.close()


def test_mask_over_a_socket() -> None:
    run(_mask_over_socket())


async def _healthcheck() -> None:
    async with running_server() as (server, port):
        client = await RawClient.connect("127.0.0.1", port)
        hello = await client.handshake(healthcheck=True)
        assert hello.kv["version"].value == "2.0"
        assert await client.at_eof()
        await client.close()
        await asyncio.sleep(0.05)
        assert not server.connections


def test_healthcheck_is_answered_then_closed() -> None:
    run(_healthcheck())


async def _out_of_order() -> None:
    order: list[str] = []

    async def slow(msg: spop.Message, ctx: RequestContext) -> list[spop.Action]:
        await asyncio.sleep(0.3)
        order.append("slow")
        return [spop.SetVar(spop.Scope.TXN, "who", spop.string("slow"))]

    async def fast(msg: spop.Message, ctx: RequestContext) -> list[spop.Action]:
        order.append("fast")
        return [spop.SetVar(spop.Scope.TXN, "who", spop.string("fast"))]

    async with running_server({"slow": slow, "fast": fast}) as (_, port):
        client = await RawClient.connect("127.0.0.1", port)
        await client.handshake()
        await client.send(notify_frame(1, 1, spop.Message("slow")) + notify_frame(2, 1, spop.Message("fast")))
        first, second = await client.read_frame(), await client.read_frame()
        assert (first.stream_id, first.vars) == (2, {"who": "fast"})
        assert (second.stream_id, second.vars) == (1, {"who": "slow"})
        assert order == ["fast", "slow"]
        await client.close()


def test_pipelined_notifies_are_answered_out_of_order() -> None:
    run(_out_of_order())


async def _unknown_and_failing_messages() -> None:
    async def broken(msg: spop.Message, ctx: RequestContext) -> list[spop.Action]:
        raise RuntimeError("handler bug")

    async def huge(msg: spop.Message, ctx: RequestContext) -> list[spop.Action]:
        return [spop.SetVar(spop.Scope.TXN, "body", spop.binary(b"x" * 20000))]

    async with running_server({"broken": broken, "huge": huge}) as (server, port):
        client = await RawClient.connect("127.0.0.1", port)
        await client.handshake(max_frame_size=16380)
        for sid, name in enumerate(["nope", "broken", "huge"], 1):
            await client.send(notify_frame(sid, 1, spop.Message(name)))
            ack = await client.read_frame()
            assert (ack.type, ack.stream_id, ack.actions) == (spop.FrameType.ACK, sid, [])
        assert server.metrics.unknown_messages == 1
        await client.close()


def test_unknown_failing_and_oversized_answers_are_acked_without_actions() -> None:
    run(_unknown_and_failing_messages())


def _bad_string_notify() -> bytes:
    payload = b"\x04mask\x01\x04body\x09" + spop.encode_varint(50) + b"x"     # 50 bytes announced, 1 sent
    return spop.encode_frame(spop.FrameType.NOTIFY, 1, 1, payload)


MALFORMED = {
    "truncated-arg": (True, _bad_string_notify(), Status.INVALID),
    "bad-varint": (True, raw_frame(b"\x03\x00\x00\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
                   Status.INVALID),
    "oversize": (True, raw_frame(b"\x03" + b"\x00" * 20000), Status.TOO_BIG),
    "agent-frame-type": (True, spop.encode_frame(spop.FrameType.AGENT_HELLO, 0, 0, b""), Status.INVALID),
    "notify-before-hello": (False, notify_frame(1, 1, mask_message()), Status.INVALID),
    "bad-kv": (False, spop.encode_frame(spop.FrameType.HAPROXY_HELLO, 0, 0, b"\x03abc\x0b"), Status.INVALID),
    "fragmented": (True, notify_frame(1, 1, mask_message(), flags=0), Status.FRAGMENTATION),
    "bad-version": (False, hello_frame(versions="1.0"), Status.BAD_VERSION),
    "tiny-frame-size": (False, hello_frame(max_frame_size=100), Status.BAD_FRAME_SIZE),
    "short-frame": (True, raw_frame(b"\x03\x00"), Status.INVALID),
}


async def _malformed(after_hello: bool, data: bytes, status: Status) -> None:
    async with running_server() as (server, port):
        bad = await RawClient.connect("127.0.0.1", port)
        good = await RawClient.connect("127.0.0.1", port)
        await good.handshake()
        if after_hello:
            await bad.handshake(max_frame_size=16380)
        await bad.send(data)
        frame = await bad.read_frame()
        assert frame is not None and frame.type == spop.FrameType.AGENT_DISCONNECT
        assert frame.status == status, frame.kv["message"].value
        assert await bad.at_eof()
        await bad.close()
        # The server and its other connections are unaffected.
        await good.send(notify_frame(9, 9, mask_message(BODY)))
        assert (await good.read_frame()).vars["status"] == 200
        fresh = await RawClient.connect("127.0.0.1", port)
        await fresh.handshake()
        await fresh.close()
        await good.close()


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_frames_get_a_disconnect_and_the_server_survives(case: str) -> None:
    run(_malformed(*MALFORMED[case]))


async def _haproxy_disconnect() -> None:
    async with running_server() as (_, port):
        client = await RawClient.connect("127.0.0.1", port)
        await client.handshake()
        await client.send(haproxy_disconnect_frame(0, "normal"))
        frame = await client.read_frame()
        assert frame.type == spop.FrameType.AGENT_DISCONNECT and frame.status == 0
        assert await client.at_eof()
        await client.close()


def test_haproxy_disconnect_is_answered_and_closed() -> None:
    run(_haproxy_disconnect())


async def _graceful_shutdown() -> None:
    release = asyncio.Event()

    async def slow(msg: spop.Message, ctx: RequestContext) -> list[spop.Action]:
        await release.wait()
        return [spop.SetVar(spop.Scope.TXN, "done", spop.boolean(True))]

    server = AgentServer({"slow": slow})
    _, port = await server.listen_tcp("127.0.0.1", 0)
    busy = await RawClient.connect("127.0.0.1", port)
    idle = await RawClient.connect("127.0.0.1", port)
    await busy.handshake()
    await idle.handshake()
    await busy.send(notify_frame(1, 1, spop.Message("slow")))
    await asyncio.sleep(0.05)
    shutdown = asyncio.ensure_future(server.shutdown(timeout=5))
    bye = await idle.read_frame()
    assert bye.type == spop.FrameType.AGENT_DISCONNECT and bye.status == 0        # idle: goodbye at once
    with pytest.raises(OSError):
        await RawClient.connect("127.0.0.1", port)                                  # no longer accepting
    assert not shutdown.done()
    release.set()
    ack = await busy.read_frame()
    assert ack.type == spop.FrameType.ACK and ack.vars == {"done": True}             # in-flight finished
    bye = await busy.read_frame()
    assert bye.type == spop.FrameType.AGENT_DISCONNECT and bye.status == 0
    assert await busy.at_eof()
    await asyncio.wait_for(shutdown, 5)
    for c in (busy, idle):
        await c.close()


def test_graceful_shutdown_drains_in_flight_frames() -> None:
    run(_graceful_shutdown())


async def _drain_timeout() -> None:
    async def stuck(msg: spop.Message, ctx: RequestContext) -> list[spop.Action]:
        await asyncio.sleep(60)
        return []

    server = AgentServer({"stuck": stuck})
    _, port = await server.listen_tcp("127.0.0.1", 0)
    client = await RawClient.connect("127.0.0.1", port)
    await client.handshake()
    await client.send(notify_frame(1, 1, spop.Message("stuck")))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await server.shutdown(timeout=0.3)
    assert time.monotonic() - started < 2
    bye = await client.read_frame()
    assert bye.type == spop.FrameType.AGENT_DISCONNECT and bye.status == Status.TIMEOUT
    await client.close()


def test_shutdown_gives_up_after_the_drain_timeout() -> None:
    run(_drain_timeout())


async def _unix_socket(path: Path) -> None:
    server = AgentServer({"mask": MaskHandler(fake_holder())})
    await server.listen_unix(path)
    try:
        client = await RawClient.connect_unix(str(path))
        await client.handshake()
        await client.send(notify_frame(1, 1, mask_message(BODY)))
        assert (await client.read_frame()).vars["status"] == 200
        await client.close()
    finally:
        await server.shutdown(1)
    assert not path.exists()


def test_unix_socket(tmp_path: Path) -> None:
    run(_unix_socket(tmp_path / "agent.sock"))


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("127.0.0.1:12345", ("127.0.0.1", 12345)), ("localhost:1", ("localhost", 1)), ("[::1]:80", ("::1", 80)),
    ("127.1.2.3:0", ("127.1.2.3", 0)),
])
def test_parse_listen_loopback(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value, allow_remote=False) == expected


@pytest.mark.parametrize("value", ["0.0.0.0:12345", "10.0.0.5:1", "[::]:1", "agent.internal:1"])
def test_remote_listen_needs_allow_remote(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_listen(value, allow_remote=False)
    assert "clear text" in str(info.value) and "--allow-remote" in str(info.value)
    assert parse_listen(value, allow_remote=True)[1] == int(value.rsplit(":", 1)[1])


@pytest.mark.parametrize("value", ["12345", "host:", ":80", "h:99999", "h:x"])
def test_bad_listen_values(value: str) -> None:
    with pytest.raises(ConfigError):
        parse_listen(value, allow_remote=True)


def test_main_refuses_remote_listen_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--listen", "0.0.0.0:12345", "--key-file", "/nonexistent"]) == 2
    assert "not a loopback address" in capsys.readouterr().err
    assert REMOTE_REFUSED.startswith("refusing")


# --------------------------------------------------------------------------------------------------
# A separate process: SIGHUP reload and SIGTERM drain through the real serve() loop
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def agent_proc(tmp_path: Path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"find": ORIGINAL.decode(), "replace": PSEUDONYM.decode(), "tag": "one"}))
    port = free_port()
    log = tmp_path / "agent.log"
    with open(log, "wb") as out:
        cmd = [sys.executable, str(ROOT / "tests" / "support" / "spop_agent_proc.py"), str(port), str(rules)]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=out)
    try:
        wait_port(port, proc=proc)
        yield proc, port, rules, log
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)


async def _mask_once(client: RawClient, sid: int) -> dict[str, object]:
    await client.send(notify_frame(sid, 1, mask_message(BODY)))
    return (await client.read_frame()).vars


async def _signals(proc: subprocess.Popen, port: int, rules: Path) -> None:
    client = await RawClient.connect("127.0.0.1", port)
    await client.handshake()
    assert (await _mask_once(client, 1))["body"] == BODY.replace(ORIGINAL, PSEUDONYM)
    rules.write_text(json.dumps({"find": ORIGINAL.decode(), "replace": "777777777777"}))
    proc.send_signal(signal.SIGHUP)
    await asyncio.sleep(0.3)
    assert (await _mask_once(client, 2))["body"] == BODY.replace(ORIGINAL, b"777777777777")
    rules.write_text("{ broken json")
    proc.send_signal(signal.SIGHUP)
    await asyncio.sleep(0.3)
    assert (await _mask_once(client, 3))["body"] == BODY.replace(ORIGINAL, b"777777777777")   # kept
    proc.send_signal(signal.SIGTERM)
    bye = await client.read_frame()
    assert bye.type == spop.FrameType.AGENT_DISCONNECT and bye.status == 0
    await client.close()


def test_sighup_reloads_and_sigterm_drains_in_a_real_process(agent_proc) -> None:
    proc, port, rules, log = agent_proc
    run(_signals(proc, port, rules))
    assert proc.wait(10) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    reloads = [line for line in lines if line.get("event") == "reload"]
    assert [r["ok"] for r in reloads] == [True, False] and "JSONDecodeError" in reloads[1]["reason"]
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) == 3 and all(r["status"] == 200 for r in requests)
    assert any(line.get("event") == "stopped" for line in lines)
    assert ORIGINAL.decode() not in log.read_text()


# --------------------------------------------------------------------------------------------------
# The real HAProxy (2.6 and 3.2: the haproxy fixture)
# --------------------------------------------------------------------------------------------------

SPOE_CONF = """\
[mask]
spoe-agent mask_agent
    groups mask_group
    option var-prefix mask
    option set-on-error spoe_error
    register-var-names status body map count kinds error_type error mask_us
    max-frame-size {max_frame_size}
    timeout hello 2s
    timeout idle 30s
    timeout processing 5s
    use-backend be_agents

spoe-message mask
    args method=method path=path ctype=req.hdr(content-type) cenc=req.hdr(content-encoding)
    args hdrs=req.hdrs_bin body=req.body

spoe-group mask_group
    messages mask
"""

HAPROXY_CFG = """\
global
    stats socket {admin} mode 600 level admin
    tune.bufsize 32768

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{http_port}
    option http-buffer-request
    filter spoe engine mask config {spoe_conf}
    http-request send-spoe-group mask mask_group
    default_backend be_show

backend be_show
    http-request return status 200 content-type text/plain hdr x-status "%[var(txn.mask.status)]" \
hdr x-count "%[var(txn.mask.count)]" hdr x-kinds "%[var(txn.mask.kinds)]" \
hdr x-map "%[var(txn.mask.map),base64]" hdr x-error-type "%[var(txn.mask.error_type)]" \
hdr x-error "%[var(txn.mask.error)]" hdr x-mask-us "%[var(txn.mask.mask_us)]" \
hdr x-spoe-error "%[var(txn.mask.spoe_error)]" lf-string "%[var(txn.mask.body)]"

backend be_agents
    mode tcp
    option spop-check
    timeout connect 1s
    timeout server 30s
    server agent 127.0.0.1:{agent_port} check inter 300ms
"""


def haproxy_show(port: int, body: bytes, **headers: str) -> tuple[dict[str, str], bytes]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/messages", data=body, method="POST",
                                 headers={"content-type": "application/json", **headers})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return {k.lower(): v for k, v in resp.headers.items()}, resp.read()


def agent_row(stat_csv: str) -> str:
    return next((line for line in stat_csv.splitlines() if line.startswith("be_agents,agent,")), "")


def admin(path: Path, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(path))
        s.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def test_real_haproxy_negotiates_notifies_and_receives_the_variables(agent_proc, tmp_path: Path,
                                                                      haproxy: HAProxyBin) -> None:
    proc, agent_port, _, log = agent_proc
    http_port = free_port()
    spoe_conf, cfg, admin_sock = tmp_path / "spoe.conf", tmp_path / "haproxy.cfg", tmp_path / "admin.sock"
    spoe_conf.write_text(SPOE_CONF.format(max_frame_size=16380))
    cfg.write_text(HAPROXY_CFG.format(admin=admin_sock, http_port=http_port, spoe_conf=spoe_conf,
                                      agent_port=agent_port))
    check = subprocess.run([haproxy.path, "-c", "-f", str(cfg)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    hap_log = tmp_path / "haproxy.log"
    with open(hap_log, "wb") as out:
        hap = subprocess.Popen([haproxy.path, "-db", "-f", str(cfg)], stdout=out, stderr=out)
    try:
        wait_port(http_port, proc=hap)
        headers, body = haproxy_show(http_port, BODY)
        assert headers["x-status"] == "200" and "x-spoe-error" not in headers
        assert body == BODY.replace(ORIGINAL, PSEUDONYM)
        assert (headers["x-count"], headers["x-kinds"]) == ("1", "account=1")
        assert base64.b64decode(headers["x-map"]) == PSEUDONYM + b"\t" + ORIGINAL + b"\n"
        assert int(headers["x-mask-us"]) >= 0

        headers, _ = haproxy_show(http_port, BODY, **{"content-encoding": "gzip"})
        assert headers["x-status"] == "415" and headers["x-error-type"] == "invalid_request_error"

        # 16380 is the negotiated max-frame-size: a masked body that no longer fits gets our 413.
        headers, _ = haproxy_show(http_port, b"DOUBLE " + b"y" * 9000)
        assert headers["x-status"] == "413" and "16380" in headers["x-error"]

        # Concurrent requests share pipelined connections; every ACK must land on its own request.
        def one(i: int) -> bool:
            body = b'{"n":%d,"a":"%s"}' % (i, ORIGINAL)
            headers, echoed = haproxy_show(http_port, body)
            return headers["x-status"] == "200" and echoed == body.replace(ORIGINAL, PSEUDONYM)

        with ThreadPoolExecutor(16) as pool:
            assert all(pool.map(one, range(48)))

        # HAProxy's SPOP health check (HELLO with healthcheck=true) marks the agent UP.
        deadline = time.monotonic() + 5
        while "UP" not in agent_row(admin(admin_sock, "show stat")):
            assert time.monotonic() < deadline, admin(admin_sock, "show stat")
            time.sleep(0.1)
    finally:
        stop_process(hap, timeout=5)
    agent_lines = log.read_text()
    hellos = [line for line in map(json.loads, agent_lines.splitlines()) if line.get("event") == "hello"]
    traffic = [h for h in hellos if not h["healthcheck"]]
    assert traffic and any(h["healthcheck"] for h in hellos)
    assert all(h["haproxy_max_frame_size"] == h["max_frame_size"] == 16380 for h in traffic)
    assert all(h["capabilities"] == "pipelining" and h["haproxy_versions"] == "2.0" for h in traffic)
    assert ORIGINAL.decode() not in agent_lines
    assert "protocol_error" not in agent_lines, agent_lines[-2000:]


# --------------------------------------------------------------------------------------------------
# ``python -m agent serve`` with the real engine (agent/engine/masker.py), when it is there
# --------------------------------------------------------------------------------------------------


async def _serve_round_trip(port: int) -> None:
    client = await RawClient.connect("127.0.0.1", port)
    await client.handshake()
    await client.send(notify_frame(1, 1, mask_message(BODY)))
    ack = await client.read_frame()
    assert ack.type == spop.FrameType.ACK and ack.vars["status"] == 200
    assert isinstance(ack.vars["body"], bytes) and isinstance(ack.vars["map"], bytes)
    await client.close()


def test_python_m_agent_serve_with_the_real_engine(tmp_path: Path) -> None:
    pytest.importorskip("agent.engine.masker")
    key = tmp_path / "key"
    key.write_text(os.urandom(32).hex() + "\n")
    key.chmod(0o600)
    port = free_port()
    log = tmp_path / "agent.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--listen", f"127.0.0.1:{port}",
                                 "--key-file", str(key)], cwd=ROOT, stdout=out, stderr=out)
    try:
        wait_port(port, proc=proc)
        run(_serve_round_trip(port))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0, log.read_text()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert ORIGINAL.decode() not in log.read_text()
