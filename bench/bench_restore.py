"""Benchmark of the response restore (haproxy/restore.lua) with a 10,000-entry restore map.

Runs the module in Lua 5.3 through lupa, the same Lua version Debian's HAProxy 2.6 links, and times
inside Lua (os.clock) so Python call overhead is not counted. HAProxy adds its own per-callback cost
on top (filter dispatch, msg:body/msg:set copies); the end-to-end TTFB benchmark is issue 6's.

Reports:
  * setup: parsing the map and building the lookup tables, once per response;
  * per SSE event: an Anthropic stream of text_delta / input_json_delta events (target <= 50 µs);
  * a 1 MB non-streamed JSON response: MB/s;
  * with --long-event MB: one SSE event of that size (a single text_delta) arriving in 16 KB reads, the
    case that was quadratic (issue 12: 9 MB cost 20 s); only this case runs then.

Usage: .venv/bin/python bench/bench_restore.py [--entries 10000] [--events 20000] [--long-event 9]
"""

from __future__ import annotations

import argparse
import json
import random
import string
from pathlib import Path

import lupa.lua53 as lupa

from agent.engine.restore_map import encode

LUA_DIR = Path(__file__).resolve().parent.parent / "haproxy"

# Timing loop written in Lua so only restore.lua is measured.
LUA_BENCH = b"""
local restore = ...
local M = {}
function M.sse(map, events, rounds)
  local best = math.huge
  for _ = 1, rounds do
    local t0 = os.clock()
    local r = restore.new(map, "text/event-stream")
    for i = 1, #events do r:feed(events[i]) end
    r:finish()
    best = math.min(best, os.clock() - t0)
  end
  return best
end
function M.setup(map, rounds)
  local best = math.huge
  for _ = 1, rounds do
    local t0 = os.clock()
    local m = restore.parse_map(map)
    m:short_prefixes()
    best = math.min(best, os.clock() - t0)
  end
  return best
end
function M.json(map, body, rounds)
  local best, out = math.huge, nil
  for _ = 1, rounds do
    local t0 = os.clock()
    local r = restore.new(map, "application/json")
    r:feed(body)
    out = r:finish()
    best = math.min(best, os.clock() - t0)
  end
  return best, #out
end
function M.pieces(map, pieces)
  local t0 = os.clock()
  local r = restore.new(map, "text/event-stream")
  local n = 0
  for i = 1, #pieces do n = n + #r:feed(pieces[i]) end
  n = n + #r:finish()
  return os.clock() - t0, n
end
return M
"""


def make_map(rnd: random.Random, n: int) -> dict[str, str]:
    """n pseudonym -> original entries in the shapes the agent produces."""
    def hexs(k):
        return "".join(rnd.choice("0123456789abcdef") for _ in range(k))

    def digits(k):
        return str(rnd.randint(1, 9)) + "".join(rnd.choice(string.digits) for _ in range(k - 1))

    makers = [
        lambda: "i-" + hexs(17), lambda: "vol-" + hexs(17), lambda: "sg-" + hexs(8), lambda: digits(12),
        lambda: f"10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}",
        lambda: "AKIA" + "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
        lambda: "bkt-" + "".join(rnd.choice(string.ascii_lowercase) for _ in range(10)),
    ]
    out: dict[str, str] = {}
    while len(out) < n:
        make = rnd.choice(makers)
        out[make()] = make()    # the original has the pseudonym's shape, as format-preserving masking gives
    return out


WORDS = ("the instance is running in the subnet and its volume is attached so we can stop it now "
         "then check the security group rules").split()


def make_text(rnd: random.Random, pseudos: list[str], n_words: int) -> str:
    words = [rnd.choice(pseudos) if rnd.random() < 0.08 else rnd.choice(WORDS) for _ in range(n_words)]
    return " ".join(words)


def sse_event(payload: dict) -> bytes:
    data = json.dumps(payload, separators=(",", ":"))
    return f"event: {payload['type']}\ndata: {data}\n\n".encode()


def make_stream(rnd: random.Random, pseudos: list[str], n_events: int) -> list[bytes]:
    """Text deltas of 1-6 words (as the API sends), then tool-call JSON in 5-15 byte pieces."""
    text = make_text(rnd, pseudos, n_events * 3)
    command = "aws ec2 stop-instances --instance-ids " + make_text(rnd, pseudos, n_events)
    args = json.dumps({"command": command})
    events, pos = [], 0
    while len(events) < n_events * 3 // 4 and pos < len(text):
        step = rnd.randint(3, 24)
        events.append(sse_event({"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": text[pos:pos + step]}}))
        pos += step
    events.append(sse_event({"type": "content_block_stop", "index": 0}))
    pos = 0
    while len(events) < n_events and pos < len(args):
        step = rnd.randint(5, 15)
        part = args[pos:pos + step]
        events.append(sse_event({"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta", "partial_json": part}}))
        pos += step
    events.append(sse_event({"type": "content_block_stop", "index": 1}))
    return events


def make_json(rnd: random.Random, pseudos: list[str], size: int) -> bytes:
    """An Anthropic message of about `size` bytes: text blocks and a tool_use with nested input."""
    content = []
    while sum(len(json.dumps(c)) for c in content) < size:
        content.append({"type": "text", "text": make_text(rnd, pseudos, 400)})
        content.append({"type": "tool_use", "id": "toolu_1", "name": "aws",
                        "input": {"ids": rnd.sample(pseudos, 20), "note": make_text(rnd, pseudos, 50)}})
    return json.dumps({"id": "msg_1", "type": "message", "role": "assistant", "content": content}).encode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--long-event", type=float, default=0, metavar="MB")
    args = ap.parse_args()
    rnd = random.Random(4)
    mapping = make_map(rnd, args.entries)
    map_bytes = encode(mapping)
    pseudos = sorted(mapping)

    rt = lupa.LuaRuntime(encoding=None)
    rt.execute(f"package.path = '{LUA_DIR}/?.lua;' .. package.path".encode())
    restore = rt.require(b"restore")
    bench = rt.execute(LUA_BENCH, restore)
    if args.long_event:
        long_event(rt, bench, rnd, pseudos, map_bytes, args.long_event)
        return

    setup = bench.setup(map_bytes, args.rounds)
    events = make_stream(rnd, pseudos, args.events)
    stream_s = bench.sse(map_bytes, rt.table_from(events), args.rounds)
    per_event = (stream_s - setup) / len(events)
    body = make_json(rnd, pseudos, 1_000_000)
    json_s, _ = bench.json(map_bytes, body, args.rounds)
    parse_only = bench.setup(map_bytes, args.rounds)

    print(f"Lua 5.3 via lupa; map: {len(mapping)} entries ({len(map_bytes)} bytes); best of {args.rounds}")
    print(f"setup (parse map + index + prefix set), once per response: {setup * 1e3:.1f} ms")
    print(f"SSE: {len(events)} events, {stream_s * 1e3:.1f} ms incl. setup -> "
          f"{per_event * 1e6:.2f} µs per event (target <= 50 µs)")
    mb = len(body) / 1e6
    print(f"JSON: {mb:.2f} MB body in {json_s * 1e3:.1f} ms incl. setup -> {mb / json_s:.1f} MB/s "
          f"({mb / max(json_s - parse_only, 1e-9):.1f} MB/s excluding setup)")


def long_event(rt, bench, rnd: random.Random, pseudos: list[str], map_bytes: bytes, mb: float) -> None:
    text = make_text(rnd, pseudos, 200)
    text = (text + " ") * int(mb * 1e6 / (len(text) + 1))
    event = sse_event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}})
    step = 16384
    pieces = [event[i:i + step] for i in range(0, len(event), step)]
    secs, out = bench.pieces(map_bytes, rt.table_from(pieces))
    print(f"one SSE event of {len(event) / 1e6:.1f} MB in {len(pieces)} reads of 16 KB: {secs:.2f} s CPU "
          f"({out / 1e6:.1f} MB out)")


if __name__ == "__main__":
    main()
