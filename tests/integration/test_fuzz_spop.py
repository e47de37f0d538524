"""Fuzzing SPOP: the codec in process (only SpopError may escape), and a live agent process over raw
sockets (never a crash; every protocol error ends with an AGENT-DISCONNECT carrying the status the
sans-IO codec assigns to the same bytes, then a close). Example counts are bounded for `make test`."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import spop
from tests.support.harness import ROOT, free_port, make_key, wait_port
from tests.support.spop_peer import RawClient, haproxy_disconnect_frame, hello_frame, mask_message, notify_frame

VALID = [
    hello_frame(max_frame_size=16380),
    notify_frame(1, 1, mask_message(b'{"a":"account 123456789012"}')),
    notify_frame(2, 7, mask_message(None, method="GET"), mask_message(b"x", ctype="text/plain")),
    haproxy_disconnect_frame(0, "normal"),
]


@st.composite
def mutated(draw) -> bytes:
    """A valid frame with random flips, cuts, insertions, or a rewritten length; or plain noise."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=64))
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "length"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos:pos + draw(st.integers(1, 8))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif len(data) >= 4:
            data[0:4] = draw(st.integers(0, len(data) + 8)).to_bytes(4, "big")
    return bytes(data)


def oracle(after_hello: bool, data: bytes) -> tuple[list[spop.Event], spop.Status | None]:
    """What the codec makes of ``data``: the events before any error, and the error status."""
    conn = spop.AgentConnection()
    if after_hello:
        conn.receive_data(hello_frame(max_frame_size=16380))
        conn.send_agent_hello()
    events: list[spop.Event] = []
    try:
        events = conn.receive_data(data)
    except spop.SpopError as err:
        return events, err.status
    return events, None


@settings(max_examples=400, deadline=None)
@given(after_hello=st.booleans(), data=mutated(), cut=st.integers(0, 80))
def test_codec_raises_only_spop_errors(after_hello, data, cut):
    conn = spop.AgentConnection()
    try:
        if after_hello:
            conn.receive_data(hello_frame(max_frame_size=16380))
            conn.send_agent_hello()
        for piece in (data[:cut], data[cut:]):          # any split of the bytes
            conn.receive_data(piece)
    except spop.SpopError as err:
        assert isinstance(err.status, spop.Status)
        assert len(err.message.encode()) <= spop.MAX_DISCONNECT_MESSAGE


# --------------------------------------------------------------------------------------------------
# A live agent process
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_agent(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz-agent")
    key = make_key(tmp / "key")
    port = free_port()
    log = open(tmp / "agent.log", "wb")       # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--listen", f"127.0.0.1:{port}",
                             "--key-file", str(key)], cwd=ROOT, stdout=log, stderr=log)
    try:
        wait_port(port, proc=proc)
        yield port, proc, tmp / "agent.log"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


async def _exchange(port: int, after_hello: bool, data: bytes) -> list:
    client = await RawClient.connect("127.0.0.1", port)
    frames = []
    try:
        if after_hello:
            await client.handshake(max_frame_size=16380)
        await client.send(data)
        _, status = oracle(after_hello, data)
        wait = 3.0 if status is not None else 0.3
        while True:
            try:
                frame = await client.read_frame(timeout=wait)
            except (TimeoutError, ConnectionError):
                break
            if frame is None:
                frames.append("eof")
                break
            frames.append(frame)
    finally:
        await client.close()
    return frames


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(after_hello=st.booleans(), data=mutated())
def test_live_agent_disconnects_with_the_right_status(live_agent, after_hello, data):
    port, proc, _ = live_agent
    _, status = oracle(after_hello, data)
    frames = asyncio.run(asyncio.wait_for(_exchange(port, after_hello, data), 20))
    assert proc.poll() is None, "the agent died"
    if status is None:
        assert not any(getattr(f, "type", None) == spop.FrameType.AGENT_DISCONNECT and f.status != 0
                       for f in frames), frames
        return
    disconnects = [f for f in frames if f != "eof" and f.type == spop.FrameType.AGENT_DISCONNECT]
    assert disconnects, f"expected AGENT-DISCONNECT {status!r}, got {frames}"
    assert disconnects[-1].status == status, (disconnects[-1].kv, status)
    assert frames[-1] == "eof", "the agent must close after its DISCONNECT"


def test_live_agent_survived_the_fuzzing(live_agent):
    """Runs after the fuzz test: the same process still masks, and never logged a traceback."""
    port, proc, log_path = live_agent

    async def check() -> dict:
        client = await RawClient.connect("127.0.0.1", port)
        await client.handshake(max_frame_size=16380)
        await client.send(notify_frame(5, 5, mask_message(b'{"a":"account 123456789012"}')))
        frame = await client.read_frame()
        await client.close()
        return frame.vars

    out = asyncio.run(asyncio.wait_for(check(), 10))
    assert proc.poll() is None and out["status"] == 200 and b"123456789012" not in out["body"]
    log = log_path.read_text(errors="replace")
    assert "Traceback" not in log and "123456789012" not in log
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
