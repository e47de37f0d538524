"""The request-side Lua swap and the hash-verify hop behind it, attacked directly.

A fake agent (tests/support/spop_agent_proc.py, the real SPOP server with a scripted engine) makes the swap
fail on purpose; configs with a safety layer removed prove the next layer still holds. Every test
asserts the upstream received nothing unmasked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.harness import ROOT, free_port, wait_port
from tests.support.send import post

ORIGINAL, PSEUDONYM = "123456789012", "555555555555"


@pytest.fixture
def fake_agent(tmp_path: Path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"find": ORIGINAL, "replace": PSEUDONYM}))
    port = free_port()
    script = ROOT / "tests" / "support" / "spop_agent_proc.py"
    proc = subprocess.Popen([sys.executable, str(script), str(port), str(rules)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc=proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def test_masked_body_that_does_not_fit_the_buffer_is_not_forwarded(make_gateway, upstream, fake_agent):
    # 65 KB body under a 64 KiB limit; the agent answers twice that ("DOUBLE"), which fits one SPOE
    # frame (bufsize 147456) but not the request buffer next to 17 KB of headers and the 1 KiB
    # maxrewrite reserve: msg:set() fails, Lua raises.
    gw = make_gateway(env={"GATEWAY_MAX_BODY": "65536", "AGENT_ADDR": f"127.0.0.1:{fake_agent}"}, agent=False)
    body = json.dumps({"note": "DOUBLE " + ORIGINAL, "pad": "p" * 65000})[:65536]
    code, payload = post(gw.http_url, body, "x-padding: " + "h" * 17000)
    assert code == 400
    assert "could not be swapped in" in payload["error"]["message"]
    assert upstream.received == []


def test_fake_agent_path_works(make_gateway, upstream, fake_agent):
    """Control for the test above: the same fake agent and a body that fits are forwarded masked."""
    gw = make_gateway(env={"GATEWAY_MAX_BODY": "65536", "AGENT_ADDR": f"127.0.0.1:{fake_agent}"}, agent=False)
    code, _ = post(gw.http_url, json.dumps({"model": "m", "messages": [{"role": "user", "content": ORIGINAL}]}))
    assert code == 200
    assert ORIGINAL not in upstream.received[0].body.decode()
    assert PSEUDONYM in upstream.received[0].body.decode()


def _without(*needles: str) -> str:
    text = (ROOT / "haproxy" / "haproxy.cfg").read_text()
    lines = [line for line in text.splitlines() if not any(n in line for n in needles)]
    assert len(lines) < len(text.splitlines()), "the line to remove is not in haproxy.cfg any more"
    return "\n".join(lines) + "\n"


def test_without_the_lua_swap_the_verify_hop_refuses(make_gateway, upstream):
    """Layer 2 alone: if the Lua filter never swapped the body, the original must not leave."""
    gw = make_gateway(config=_without("filter lua.mask_request"))
    code, payload = post(gw.http_url)
    # The unswapped body is shorter than the Content-Length set for the masked one. Depending on
    # whether hop 1's H1 mux sees the body end before or after hop 2 parsed the headers: hop 2 waits
    # for bytes that never come and gives up (408), or hop 1 aborts the short message and hop 2 sees
    # a truncated request (500, seen in about 1 run of 30). A body of the right length reaches the
    # hash check (502). All three refuse, in Anthropic's error shape.
    assert code in (408, 500, 502)
    assert payload["type"] == "error", payload
    assert upstream.received == []


def test_without_the_fail_closed_rules_the_verify_hop_refuses(make_gateway, upstream):
    """SPOE is fail-open: with the deny rules gone and no agent, the Lua filter (no masked body) and
    the hop behind it still refuse."""
    gw = make_gateway(config=_without("if spoe_failed", "if !agent_ok", "if agents_down"), agent=False)
    code, _ = post(gw.http_url)
    assert code in (400, 500, 502, 503)
    assert upstream.received == []
