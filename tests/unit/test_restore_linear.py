"""The restore costs linear work in the size of what it is fed (DESIGN.md invariant 7; issue 12: one
9 MB SSE event cost 20 s of CPU in Sse:feed, rescanning and re-copying the pending event per read).

Counted, not timed: before the modules load, the string and table functions they capture
(string.find/match/gmatch/sub/byte, table.concat) are replaced by wrappers that add up the bytes each
call reads or copies. Each input is fed in 16 KB reads at two sizes, 0.5 MB and 2 MB (half that in
the quick lane): linear work costs the same per input byte at both; rescanning the pending data on
every read costs about size / 32 KB per byte (~16 and ~64), four times as much at the larger size.
A bound on the cost per byte catches a large constant too (a search that rescans each 16 KB read per
candidate is linear in the size, but costs thousands of bytes per byte).

Bench with timings: `.venv/bin/python bench/bench_restore.py --long-event 9`.
"""

from __future__ import annotations

import json
from pathlib import Path

import lupa.lua53 as lupa
import pytest

from agent.engine.restore_map import encode
from tests.support.effort import QUICK

LUA_DIR = Path(__file__).resolve().parents[2] / "haproxy"

INST = ("i-0a1b2c3d4e5f60718", "i-0123456789abcdef0")
SK_ODD = ("/bcdEFGhijKLMnopQRStuv+wxyZ0123456789abc", "+AbcdEFGhijKLMnopQRStuv/wxyZ012345678ab")
MAP_BYTES = encode(dict([INST, SK_ODD, ("483920175634", "123456789012")]))
READ = 16384
# Quick lane: half the sizes. The ratio still tells: rescanning costs ~8 and ~32 bytes per byte there.
SIZES = (250_000, 1_000_000) if QUICK else (500_000, 2_000_000)
BOUND = 40          # bytes read or copied per input byte; the restore measures 5-14

COUNTING = b"""
local cost = 0
local find, match, gmatch, sub, byte, concat = string.find, string.match, string.gmatch, string.sub,
  string.byte, table.concat
local function from(s, init)
  init = init or 1
  if init < 0 then init = math.max(1, #s + init + 1) end
  return init
end
string.find = function(s, p, init, plain)
  local r = table.pack(find(s, p, init, plain))
  local i = from(s, init)
  if sub(p, 1, 1) == "^" and not plain then cost = cost + (r[1] and r[2] - i + 1 or 1)
  else cost = cost + (r[1] and r[2] or #s) - i + 1 end
  return table.unpack(r, 1, r.n)
end
string.match = function(s, p, init)
  cost = cost + ((sub(p, 1, 1) == "^") and 1 or #s)
  return match(s, p, init)
end
string.gmatch = function(s, p)
  cost = cost + #s
  return gmatch(s, p)
end
string.sub = function(s, i, j)
  local r = sub(s, i, j)
  cost = cost + #r
  return r
end
string.byte = function(s, i, j)
  cost = cost + 1
  return byte(s, i, j)
end
table.concat = function(t, sep, i, j)
  local r = concat(t, sep, i, j)
  cost = cost + #r
  return r
end
return function() local c = cost; cost = 0; return c end
"""


@pytest.fixture(scope="module")
def counted():
    rt = lupa.LuaRuntime(encoding=None)
    take = rt.execute(COUNTING)
    rt.execute(f"package.path = '{LUA_DIR}/?.lua;' .. package.path".encode())
    restore = rt.require(b"restore")

    def run(ctype: str, make_body) -> None:
        """Restore make_body(size) at each size; check the result and the cost per input byte."""
        per_byte = []
        for size in SIZES:
            body = make_body(size)
            take()
            r = restore.new(MAP_BYTES, ctype.encode())
            out = b"".join([r.feed(r, body[i:i + READ]) for i in range(0, len(body), READ)] + [r.finish(r)])
            per_byte.append(take() / len(body))
            assert INST[0].encode() not in out and INST[1].encode() in out
            assert len(out) == len(body)                 # same-length pseudonyms here
        small, large = per_byte
        assert large < small * 1.2, per_byte             # quadratic: x4
        assert large < BOUND, per_byte                   # and no large constant either
    return run


def words(n: int) -> str:
    unit = f"the instance {INST[0]} in account 483920175634 is running, check it. "
    return unit * (n // len(unit) + 1)


def sse(payload: dict, layout=None) -> bytes:
    return b"event: content_block_delta\ndata: " + json.dumps(payload, separators=layout).encode() + b"\n\n"


def test_one_long_text_delta(counted):
    counted("text/event-stream", lambda n: sse({"type": "content_block_delta", "index": 0, "delta": {
        "type": "text_delta", "text": words(n)}}, (",", ":")))


def test_one_long_event_through_the_json_reader(counted):
    counted("text/event-stream", lambda n: sse({"type": "content_block_delta", "index": 1, "delta": {
        "type": "input_json_delta", "partial_json": json.dumps({"cmd": words(n)})}}))


def test_one_long_openai_chunk(counted):
    counted("text/event-stream", lambda n: b"data: " + json.dumps({
        "id": "c", "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": words(n)}, "finish_reason": None}]}).encode() + b"\n\n")


def test_one_long_ndjson_line(counted):
    counted("application/x-ndjson", lambda n: json.dumps({"text": words(n)}).encode() + b"\n")


def test_long_text_with_a_pseudonym_that_starts_with_a_joiner(counted):
    """A map entry starting with `/` gets its own candidate search; the text has none after its start.
    One event, so the whole text is scanned as one buffer (a plain body is scanned per read)."""
    counted("text/event-stream", lambda n: sse({"type": "content_block_delta", "index": 0, "delta": {
        "type": "text_delta", "text": "/ " + words(n)}}, (",", ":")))


def test_long_json_body(counted):
    counted("application/json", lambda n: json.dumps({"content": [{"type": "text", "text": words(n)}]}).encode())
