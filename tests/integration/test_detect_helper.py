"""The detection helper process (agent/engine/detect_helper.py): a large body is found in a second process
while the agent validates and analyses it. It may only ever save time: every answer must equal the
agent's own, and whatever happens to the helper (killed, stopped, stale answers, an exception), the
body is still masked completely, by the agent.

In-process tests use the engine directly; the last ones run the real agent behind real HAProxy and
check what the mock upstream received.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import time

import pytest

from agent.engine import detect_helper
from agent.engine.detect_helper import DetectHelper, cpu_to_spare
from agent.engine.masker import Masker
from agent.engine.results import MaskRefused
from bench.setups import alive, children
from tests.support.harness import wait_until
from tests.support.masker_support import CORPUS, TEST_KEY, load_jsonl, request, shipped_packs
from tests.support.planted import TICKET, TICKET_PACK

# The real agent with the idle-CPU rule forced true (tests/support/agent_idle_cpu.py): these tests are about
# what happens to bodies the helper serves, and a busy test machine would leave it unused.
IDLE_CPU_AGENT = "tests.support.agent_idle_cpu"
ACCOUNT = "123456789012"
INSTANCE = "i-0a1b2c3d4e5f60718"


_wait = functools.partial(wait_until, timeout=20.0, interval=0.02)


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch):
    """In-process tests check the hand-over, not the load rule: the test run itself keeps CPUs busy."""
    monkeypatch.setattr(detect_helper, "cpu_to_spare", lambda: True)


def test_the_helper_is_used_only_with_a_cpu_to_spare() -> None:
    rule = cpu_to_spare      # bound at import, before the patch
    assert rule(b"0.50 0.40 0.30 1/312 4242\n", cpus=2)
    assert not rule(b"1.90 1.20 0.80 2/312 4242\n", cpus=2)
    assert not rule(b"3.00 2.00 1.00 5/312 4242\n", cpus=4)
    assert rule(b"3.00 2.00 1.00 3/312 4242\n", cpus=4)
    assert not rule(b"garbage", cpus=8)          # unreadable: no helper
    assert isinstance(rule(), bool)              # this machine's /proc/loadavg parses


@pytest.fixture
def engines():
    """(serial engine, engine with a helper that takes every body), helper started and ready."""
    serial = Masker(TEST_KEY, shipped_packs())
    parallel = Masker(TEST_KEY, shipped_packs())
    helper = parallel.start_detect_helper(min_bytes=1)
    _wait(helper.available, what="helper start-up")
    yield serial, parallel
    parallel.close()


def _bodies() -> list[bytes]:
    from bench.corpora import claude_code_request, dense_inventory_request
    out = [request(c["text"]) for f in sorted(CORPUS.glob("*.jsonl")) for c in load_jsonl(f)]
    out += [claude_code_request(seed=s, target=150_000) for s in range(3)]
    out.append(dense_inventory_request(target=120_000))
    return out


def test_helper_answers_exactly_what_the_agent_finds(engines) -> None:
    serial, parallel = engines
    for body in _bodies():
        want = serial.mask_body(body, "application/json")
        got = parallel.mask_body(body, "application/json", parallel=True)
        assert got.detected_by == "helper"
        assert (got.body, got.restore_map, got.counts) == (want.body, want.restore_map, want.counts)


def test_ndjson_and_untyped_json_use_the_helper_too(engines) -> None:
    serial, parallel = engines
    line = json.dumps({"text": f"arn:aws:iam::{ACCOUNT}:role/x on {INSTANCE}"})
    for body, ctype in (("\n".join([line] * 50).encode(), "application/x-ndjson"), (request(line), None)):
        got = parallel.mask_body(body, ctype, parallel=True)
        assert got.detected_by == "helper"
        assert got.body == serial.mask_body(body, ctype).body and ACCOUNT.encode() not in got.body


def test_small_bodies_and_busy_agents_stay_in_the_agent() -> None:
    engine = Masker(TEST_KEY, shipped_packs())
    helper = engine.start_detect_helper(min_bytes=10_000)
    try:
        _wait(helper.available, what="helper start-up")
        small = request(f"account {ACCOUNT}")
        assert engine.mask_body(small, "application/json", parallel=True).detected_by == "agent"
        big = request(f"account {ACCOUNT} " + "x" * 20_000)
        assert engine.mask_body(big, "application/json", parallel=False).detected_by == "agent"
        assert engine.mask_body(big, "application/json", parallel=True).detected_by == "helper"
    finally:
        engine.close()


def test_the_handler_uses_the_helper_only_when_no_other_request_waits(engines) -> None:
    """A second core helps one request only when it is idle: with requests queued in this agent the
    body is found here (no hand-over cost), and the metrics say where detection ran."""
    import asyncio

    from agent.service.handlers import MaskerHolder, MaskHandler, Metrics, RequestContext
    from agent.service.metrics import render
    from tests.support.spop_peer import mask_message

    _, parallel = engines
    metrics = Metrics()
    handler = MaskHandler(MaskerHolder(lambda: parallel), metrics)
    message = mask_message(request(f"account {ACCOUNT} " * 100))
    for waiting, where in ((3, "agent"), (1, "helper")):
        actions = asyncio.run(handler(message, RequestContext(1, 1, 1 << 24, lambda w=waiting: w)))
        masked = {a.name: a.value.value for a in actions}["body"]
        assert ACCOUNT.encode() not in masked
        assert metrics.detected_by[where] == 1
    assert 'aws_mask_agent_detections_total{where="helper"} 1' in render(metrics)


def test_a_stale_answer_is_never_taken_for_the_next_body(engines) -> None:
    """The agent stops early on invalid JSON; the helper's answer to that body must not be used for
    the next one (its parts would be spliced at the wrong places)."""
    serial, parallel = engines
    broken = b'{"messages": [{"content": "' + f"{INSTANCE} ".encode() * 500 + b'"}'     # not valid JSON
    with pytest.raises(MaskRefused):
        parallel.mask_body(broken, "application/json", parallel=True)
    body = request(f"role arn:aws:iam::{ACCOUNT}:role/deploy " + "filler " * 300)
    got = parallel.mask_body(body, "application/json", parallel=True)
    assert got.detected_by == "helper" and got.body == serial.mask_body(body, "application/json").body


def test_killed_helper_the_agent_masks_and_a_new_helper_starts(engines, monkeypatch) -> None:
    serial, parallel = engines
    helper = parallel._helper
    body = request(f"account {ACCOUNT} runs {INSTANCE} " * 200)
    want = serial.mask_body(body, "application/json").body
    old = helper.pid
    os.kill(old, signal.SIGKILL)
    _wait(lambda: not alive(old), what="helper gone")
    got = parallel.mask_body(body, "application/json", parallel=True)
    assert got.detected_by in ("agent", "agent_after_helper_failure") and got.body == want
    monkeypatch.setattr(detect_helper, "RESTART_AFTER", 0.0)
    _wait(helper.available, what="a new helper")
    assert helper.pid != old
    got = parallel.mask_body(body, "application/json", parallel=True)
    assert got.detected_by == "helper" and got.body == want


def test_stopped_helper_times_out_and_the_agent_masks() -> None:
    engine = Masker(TEST_KEY, shipped_packs())
    helper = engine.start_detect_helper(min_bytes=1, timeout=0.2)
    try:
        _wait(helper.available, what="helper start-up")
        pid = helper.pid
        os.kill(pid, signal.SIGSTOP)
        body = request(f"account {ACCOUNT} " * 100)
        started = time.monotonic()
        got = engine.mask_body(body, "application/json", parallel=True)
        assert time.monotonic() - started < 5
        assert got.detected_by == "agent_after_helper_failure" and ACCOUNT.encode() not in got.body
        assert not alive(pid)          # the stopped helper was killed and reaped, not left behind
    finally:
        engine.close()


def test_an_exception_in_the_helper_is_reported_by_type_and_the_helper_is_replaced() -> None:
    helper = DetectHelper(shipped_packs().detectors, min_bytes=1)
    try:
        _wait(helper.available, what="helper start-up")
        job = helper.submit(b"\xff\xfe not utf-8")
        assert job is not None and helper.collect(job) is None
        assert helper.pid is None       # stopped; restarted after RESTART_AFTER
    finally:
        helper.close()


def test_close_ends_the_helper_process() -> None:
    helper = DetectHelper(shipped_packs().detectors)
    _wait(helper.available, what="helper start-up")
    pid = helper.pid
    helper.close()
    assert not alive(pid) and not helper.available()


# --------------------------------------------------------------------------------------------------
# The real agent behind HAProxy
# --------------------------------------------------------------------------------------------------


def _big_body(i: int) -> bytes:
    return request(f"turn {i}: arn:aws:iam::{ACCOUNT}:role/deploy launched {INSTANCE}\n" + "log line\n" * 40_000)


def _post(gateway, body: bytes) -> int:
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", gateway.http_port, timeout=30)
    try:
        conn.request("POST", "/v1/messages", body=body, headers={"content-type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def _assert_masked(upstream, count: int) -> None:
    """``count`` bodies arrived, each valid JSON, and the leak scanner (raw, escaped, percent-encoded,
    base64 forms) found neither original in any of them."""
    assert len(upstream.received) == count
    for req in upstream.received:
        json.loads(req.body)
    assert upstream.leak_count == 0, upstream.leak_report()


def test_gateway_masks_large_bodies_whatever_happens_to_the_helper(make_gateway, upstream) -> None:
    """Helper in use, then killed: every body reaches the upstream masked."""
    gateway = make_gateway(agent_module=IDLE_CPU_AGENT)
    helpers = _wait(lambda: children(gateway.agent.pid), what="the agent's helper")
    assert len(helpers) == 1
    upstream.originals = [ACCOUNT, INSTANCE]
    upstream.received.clear()
    for i in range(3):
        assert _post(gateway, _big_body(i)) == 200
    os.kill(helpers[0], signal.SIGKILL)
    sent = iter(range(10, 1000))     # until the agent has tried the dead helper
    _wait(lambda: _post(gateway, _big_body(next(sent))) == 200
          and "detection helper failed" in gateway.agent_log.read_text(), what="the agent to meet the dead helper")
    _assert_masked(upstream, next(sent) - 7)
    log = gateway.agent_log.read_text()
    assert ACCOUNT not in log and INSTANCE not in log


def test_agent_killed_leaves_no_helper_behind(make_gateway) -> None:
    gw = make_gateway()
    helper = _wait(lambda: children(gw.agent.pid), what="the agent's helper")[0]
    gw.agent.kill()
    gw.agent.wait()
    _wait(lambda: not alive(helper), timeout=10, what="the orphaned helper to exit")




def test_pack_reload_replaces_the_helper_and_it_finds_the_new_detectors(make_gateway, upstream, tmp_path) -> None:
    """After SIGHUP the helper must run the new packs: a helper left on the old ones would let the
    new kind through on exactly the large bodies it serves."""
    import urllib.request

    from tests.support.harness import free_port
    from tests.support.runsh import prom

    packs = tmp_path / "packs"
    packs.mkdir()
    gw = make_gateway(agent=False, agent_module=IDLE_CPU_AGENT)
    metrics_port = free_port()
    gw.start_agent("--packs-dir", str(packs), "--metrics-listen", f"127.0.0.1:{metrics_port}")

    def helper_detections() -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
            return prom(resp.read().decode()).get('aws_mask_agent_detections_total{where="helper"}', 0.0)

    body = request(f"ticket {TICKET} " + "context line\n" * 30_000)
    old = _wait(lambda: children(gw.agent.pid), what="the agent's helper")
    _wait(lambda: _post(gw, body) == 200 and helper_detections() >= 1, what="a body detected by the helper")
    assert TICKET.encode() in upstream.received[-1].body          # no ticket detector yet

    (packs / "tickets.yaml").write_text(TICKET_PACK)
    os.kill(gw.agent.pid, signal.SIGHUP)
    _wait(lambda: not alive(old[0]) and children(gw.agent.pid), what="the old helper replaced")
    before = helper_detections()
    upstream.originals = [TICKET]
    upstream.received.clear()
    _wait(lambda: _post(gw, body) == 200 and helper_detections() > before, what="the new helper in use")
    assert upstream.received and upstream.leak_count == 0, upstream.leak_report()


def test_run_sh_gives_each_agent_one_helper_and_stops_them_all(tmp_path, upstream, haproxy) -> None:
    """As ``make run`` starts it: one helper per agent, none with AGENT_DETECT_HELPER_MIN_BYTES=0, and
    none left once run.sh has stopped."""
    from tests.support.runsh import RunSh

    gw = RunSh(tmp_path / "on", upstream.port, agents=2, haproxy=haproxy).start()
    try:
        agents = gw.agent_pids()
        helpers = _wait(lambda: [children(a) for a in agents] if all(children(a) for a in agents) else None,
                        what="one helper per agent")
        assert [len(h) for h in helpers] == [1, 1]
    finally:
        gw.stop()
    for pid in [h[0] for h in helpers]:
        _wait(lambda p=pid: not alive(p), timeout=10, what="helpers gone after run.sh stopped")

    off = RunSh(tmp_path / "off", upstream.port, agents=1, env={"AGENT_DETECT_HELPER_MIN_BYTES": "0"},
                haproxy=haproxy).start()
    try:
        time.sleep(1)
        assert children(off.agent_pids()[0]) == []
    finally:
        off.stop()
