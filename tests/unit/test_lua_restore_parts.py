"""Each part of the restore (haproxy/restore/*.lua) on its own, in Lua 5.3 (Debian's HAProxy 2.6) and
Lua 5.4 (the official haproxy:3.2 image) via lupa.

tests/test_lua_restore.py tests the whole through the facade (restore.lua); here every module is
required by itself and driven through its own small interface, so a fault points at one file. The
modules must not touch globals (each HAProxy thread loads them into its own state, and a global would
be shared by every stream of that thread).
"""

from __future__ import annotations

import json
from pathlib import Path

import lupa.lua53
import lupa.lua54
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.engine.restore_map import encode
from tests.support.effort import examples

LUA_DIR = Path(__file__).resolve().parents[2] / "haproxy"
PARTS = ["bytes", "map", "matcher", "json", "sse", "sse_anthropic", "sse_openai"]

INST = ("i-0a1b2c3d4e5f60718", "i-0123456789abcdef0")
ACCT = ("483920175634", "123456789012")
IP = ("10.41.7.23", "10.0.1.5")
SK_ODD = ("/bcdEFGhijKLMnopQRStuv+wxyZ0123456789abc", "+AbcdEFGhijKLMnopQRStuv/wxyZ012345678ab")
MAP = dict([INST, ACCT, IP])
MAP_BYTES = encode(MAP)


LUAS = {"5.3": lupa.lua53, "5.4": lupa.lua54}


def runtime(version: str = "5.3", strict: bool = False):
    rt = LUAS[version].LuaRuntime(encoding=None)
    rt.execute(f"package.path = '{LUA_DIR}/?.lua;' .. package.path".encode())
    if strict:
        rt.execute(b"""
            setmetatable(_G, {
              __newindex = function(_, k) error("global assignment: " .. tostring(k), 2) end,
              __index = function(_, k) error("undefined global: " .. tostring(k), 2) end,
            })""")
    return rt


@pytest.fixture(scope="module", params=sorted(LUAS))
def rt(request):
    return runtime(request.param)


def part(rt, name: str):
    return rt.eval(f'(require("restore.{name}"))')   # one value: 5.4's require also returns a path


def feed_all(obj, chunks: list[bytes]) -> bytes:
    return b"".join(obj.feed(obj, c) for c in chunks) + obj.finish(obj)


# --- no globals ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", sorted(LUAS))
def test_parts_use_no_globals(version):
    """Loaded and driven through every mode with a _G that refuses new and unknown globals."""
    rt = runtime(version, strict=True)
    for name in PARTS:
        part(rt, name)
    restore = rt.eval('(require("restore"))')
    events = (b'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x '
              + INST[0][:5].encode() + b'"}}\n\n'
              b'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"'
              + INST[0][5:].encode() + b'"}}\n\n'
              b'data: {"type":"content_block_stop","index":0}\n\n'
              b'data: {"choices":[{"index":0,"delta":{"content":"' + ACCT[0].encode() + b'"},'
              b'"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    for ctype, body in [("text/event-stream", events), ("application/json", b'{"a":"' + IP[0].encode() + b'"}'),
                        ("application/x-ndjson", b'{"a":"' + IP[0].encode() + b'"}\n[1]\n'),
                        ("text/plain", INST[0].encode()), ("image/png", b"\x00")]:
        r = restore.new(MAP_BYTES, ctype.encode())
        feed_all(r, [body[:7], body[7:]])


# --- restore/map.lua ----------------------------------------------------------------------------------

def test_map_parse_and_index(rt):
    m = part(rt, "map").parse(encode({"i-0aaaaaaaaaaaaaaaa": "i-0bbbbbbbbbbbbbbbb", "i-0aaaaaaa": "x-1",
                                      "483920175634": "123456789012"}) + b"i-0aaaaaaa\tdupe\n")
    assert m.count == 3                                  # a repeated pseudonym counts once, last wins
    assert m.full[b"i-0aaaaaaa"] == b"dupe"
    assert m.k == 8                                      # min(KEYLEN, shortest pseudonym)
    lens = m.lens[b"i-0aaaaa"]
    assert [lens[i] for i in range(1, len(lens) + 1)] == [19, 10]   # longest first
    assert m.oddpat is None


def test_map_short_pseudonyms_shrink_the_key(rt):
    m = part(rt, "map").parse(encode({"10.1.2.3": "10.9.9.9", "sg-1a2b": "sg-9f8e"}))
    assert m.k == 7


def test_map_could_grow(rt):
    m = part(rt, "map").parse(MAP_BYTES)
    buf = b"see i-0a1b2"
    assert m.could_grow(m, buf, 5, len(buf))             # longer than the key, a proper prefix
    assert m.could_grow(m, b"i-0", 1, 3)                 # shorter than the key
    assert not m.could_grow(m, b"i-0ffff", 1, 7)
    assert not m.could_grow(m, INST[0].encode(), 1, len(INST[0]))   # whole: no longer pseudonym


def test_map_joiners_and_odd_starts(rt):
    m = part(rt, "map").parse(encode(dict([IP, SK_ODD])))
    j = m.joiners_of(m, IP[0].encode())
    assert j[ord(".")] and not j[ord("-")]
    assert m.joiners_of(m, b"483920175634") is False
    assert m.oddpat == b"[%/]"


def test_map_empty(rt):
    m = part(rt, "map").parse(b"")
    assert m.count == 0 and m.k is None


# --- restore/matcher.lua ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def matcher(rt):
    mp, mt = part(rt, "map"), part(rt, "matcher")
    m = mp.parse(MAP_BYTES)

    def scan(buf: bytes, frm: int = 1, final: bool = True):
        return mt.scan(m, buf, frm, final)
    return scan, lambda: mt.stream(m)


@pytest.mark.parametrize("text,want", [
    (f"stop {INST[0]} now", f"stop {INST[1]} now"),
    (f"x{INST[0]}", f"x{INST[0]}"),                      # inside a longer token
    (f"arn:aws:iam::{ACCT[0]}:root", f"arn:aws:iam::{ACCT[1]}:root"),
    (f"{IP[0]}.7", f"{IP[0]}.7"),                        # a longer dotted quad
    (f"a\\n{ACCT[0]}", f"a\\n{ACCT[1]}"),                # after a JSON escape
    (f"%2F{ACCT[0]}", f"%2F{ACCT[1]}"),                  # after a percent-escape
])
def test_matcher_scan_final(matcher, text, want):
    scan, _ = matcher
    out, hold = scan(text.encode())
    assert out == want.encode() and hold == len(text) + 1


def test_matcher_scan_holds_a_possible_prefix(matcher):
    scan, _ = matcher
    buf = f"in {INST[0][:9]}".encode()
    out, hold = scan(buf, final=False)
    assert out == b"in " and hold == 4
    buf = f"in {INST[0]}".encode()                       # whole, but the next byte decides
    out, hold = scan(buf, final=False)
    assert out == b"in " and hold == 4


def test_matcher_scan_skips_the_context(matcher):
    scan, _ = matcher
    ctx = b"abc-"
    out, _ = scan(ctx + ACCT[0].encode(), frm=len(ctx) + 1)
    assert out == ACCT[1].encode()                       # the context decided the boundary, not sent


def test_matcher_stream_split_everywhere(matcher):
    _, stream = matcher
    text = f"{INST[0]} and {ACCT[0]}:{IP[0]}".encode()
    for cut in range(len(text) + 1):
        st = stream()
        out = st.feed(st, text[:cut], False) + st.feed(st, text[cut:], False) + st.flush(st)
        assert out == f"{INST[1]} and {ACCT[1]}:{IP[1]}".encode(), cut


# --- skipping to the key positions (map:occurrences) changes nothing ---------------------------------

# Pseudonyms of every shape the matcher treats apart: EC2-style (label glue), digits, dotted, an odd
# first byte, two sharing their index key, and one short enough to shrink the key.
SKIP_MAP = dict([INST, ACCT, IP, SK_ODD, ("i-0a1b2c3d4e5f60718-x", "i-0fedcba9876543210-x"), ("qz-b", "my-b")])
# Pieces that decide a boundary or a candidate: escapes one and two levels deep, percent and `$25XX`
# escapes, glue, joiners, word bytes, and proper prefixes of pseudonyms.
SKIP_PIECES = [*SKIP_MAP, "\\n", "\\", "\\u0030", "\\\\n", "%2F", "%252F", "$252F", "_", "web-", "-", ".", ":",
               "/", "+", "=", "x", "0", "7", " ", '"', "\\u00", INST[0][:9], ACCT[0][:5], SK_ODD[0][:3]]


@st.composite
def skip_texts(draw):
    parts = draw(st.lists(st.sampled_from(SKIP_PIECES), max_size=40))
    filler = draw(st.integers(0, 3))
    return ("".join(parts) + " lorem ipsum 42," * filler).encode()


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(buf=skip_texts(), frm=st.integers(1, 12), final=st.booleans())
def test_scan_told_the_key_positions_equals_the_full_scan(rt, buf, frm, final):
    mp, mt = part(rt, "map"), part(rt, "matcher")
    m = mp.parse(encode(SKIP_MAP))
    at = m.occurrences(m, buf)
    assert at is not None
    assert tuple(mt.scan(m, buf, frm, final, at)) == tuple(mt.scan(m, buf, frm, final))


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(strings=st.lists(skip_texts(), max_size=6), key=st.sampled_from(["text", "signature", "k"]))
def test_json_edits_told_the_key_positions_equal_the_full_walk(rt, strings, key):
    j, m = part(rt, "json"), part(rt, "map").parse(encode(SKIP_MAP))
    values = [v.decode() for v in strings]
    doc = json.dumps({"type": "text", **{f"{key}{i}": v for i, v in enumerate(values)}, key: values,
                      **{v: i for i, v in enumerate(values)}}).encode()
    tree = j.parse(doc)
    full, told = rt.table(), rt.table()
    j.collect_edits(m, doc, tree, full)
    j.collect_edits(m, doc, tree, told, m.occurrences(m, doc))
    assert j.apply_edits(doc, told) == j.apply_edits(doc, full)


def test_occurrences_decline_past_the_searched_keys(rt):
    mp = part(rt, "map")
    small = mp.parse(encode(SKIP_MAP))
    assert list(small.occurrences(small, f"{ACCT[0]} x {ACCT[0]}".encode()).values()) == [1, 16]
    many = {f"q{n:07d}-zz": f"orig{n:08d}" for n in range(mp.SEARCHED_KEYS + 1)}
    big = mp.parse(encode(many))
    assert big.nkeys == mp.SEARCHED_KEYS + 1 and big.occurrences(big, b"q0000001-zz") is None


# --- restore/json.lua ---------------------------------------------------------------------------------

def test_json_reader_spans(rt):
    j = part(rt, "json")
    s = b'{"a": "x\\"y", "b": [1, {"c": null}], "type": "t"}'
    tree = j.parse(s)
    assert tree.t == b"o"
    assert j.raw(s, j.member(s, tree, b"a")) == b'x\\"y'       # content between the quotes, undecoded
    assert j.member(s, tree, b"b").t == b"a"
    assert j.string_of(s, tree, b"type") == b"t"
    assert j.member(s, tree, b"zz") is None
    for bad in [b'{"a":1', b'{"a" 1}', b"[1,]x", b'"open']:
        with pytest.raises((lupa.lua53.LuaError, lupa.lua54.LuaError)):
            j.parse(bad)


def test_json_restore_keeps_signed_and_binary_fields(rt):
    j, m = part(rt, "json"), part(rt, "map").parse(MAP_BYTES)
    doc = {"content": [{"type": "thinking", "thinking": INST[0], "signature": INST[0]},
                       {"type": "text", "text": INST[0]},
                       {"type": "image", "source": {"type": "base64", "data": ACCT[0]}},
                       {"encrypted_content": ACCT[0], INST[0]: IP[0]}]}
    out = json.loads(j.restore(m, json.dumps(doc).encode()))
    c = out["content"]
    assert c[0] == doc["content"][0]
    assert c[1]["text"] == INST[1]
    assert c[2]["source"]["data"] == ACCT[0]
    assert c[3] == {"encrypted_content": ACCT[0], INST[1]: IP[1]}
    assert j.restore(m, f"not json {INST[0]}".encode()) == f"not json {INST[1]}".encode()


def test_json_body_mode_sends_at_the_end(rt):
    j, m = part(rt, "json"), part(rt, "map").parse(MAP_BYTES)
    body = json.dumps({"text": INST[0]}).encode()
    b = j.body(m)
    assert b.feed(b, body[:10]) == b"" and b.feed(b, body[10:]) == b""
    assert json.loads(b.finish(b)) == {"text": INST[1]}


def test_json_lines_mode_sends_each_line(rt):
    j, m = part(rt, "json"), part(rt, "map").parse(MAP_BYTES)
    lines = j.lines(m)
    assert lines.feed(lines, f'{{"a":"{INST[0]}"}}\n{{"b":'.encode()) == f'{{"a":"{INST[1]}"}}\n'.encode()
    assert lines.feed(lines, f'"{ACCT[0]}"}}'.encode()) == b""
    assert lines.finish(lines) == f'{{"b":"{ACCT[1]}"}}'.encode()


# --- restore/sse.lua, sse_anthropic.lua, sse_openai.lua -----------------------------------------------

def new_sse(rt):
    return part(rt, "sse").new(part(rt, "map").parse(MAP_BYTES))


def test_sse_framing_keeps_bytes_and_line_endings(rt):
    s = new_sse(rt)
    body = (b": comment\r\n\r\nevent: ping\r\ndata: {\"type\":\"ping\"}\r\n\r\n"
            b"id: 7\r\ndata: {\"x\":\"" + INST[0].encode() + b"\"}\r\n\r\n")
    for cut in range(len(body) + 1):
        s = new_sse(rt)
        out = feed_all(s, [body[:cut], body[cut:]])
        assert out == body, cut                         # unknown payload shapes pass as sent


def test_sse_multi_line_data_gets_the_plain_restore(rt):
    s = new_sse(rt)
    body = f"data: {INST[0]}\ndata: {ACCT[0]}\n\n".encode()
    assert feed_all(s, [body]) == f"data: {INST[1]}\ndata: {ACCT[1]}\n\n".encode()


def test_sse_unterminated_last_event_is_restored_at_finish(rt):
    """No blank line after the last event (SSE clients drop such an event): what it held is still
    restored, never sent as a pseudonym. (The held tail's event comes out before it.)"""
    s = new_sse(rt)
    body = f'data: {{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{INST[0]}"}}}}'
    out = feed_all(s, [body.encode()])
    assert INST[1].encode() in out and INST[0].encode() not in out


def test_anthropic_fast_path_and_flush_event(rt):
    s, a = new_sse(rt), part(rt, "sse_anthropic")
    payload = f'{{"type":"content_block_delta","index":3,"delta":{{"type":"text_delta","text":"id {INST[0][:6]}"}}}}'
    assert a.fast_path(s, payload.encode()) == b'{"type":"content_block_delta","index":3,"delta":' \
                                               b'{"type":"text_delta","text":"id "}}'
    assert a.fast_path(s, b'{"type":"ping"}') is None
    tail = s.flush_all(s)
    assert tail == (b'event: content_block_delta\ndata: {"type":"content_block_delta","index":3,'
                    b'"delta":{"type":"text_delta","text":"' + INST[0][:6].encode() + b'"}}\n\n')


def test_anthropic_event_keeps_thinking_and_restores_block_start(rt):
    s, a, j = new_sse(rt), part(rt, "sse_anthropic"), part(rt, "json")

    def event(obj):
        p = json.dumps(obj, separators=(",", ":")).encode()
        return a.event(s, p, j.parse(p), obj["type"].encode())

    think = {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": INST[0]}}
    before, p = event(think)
    assert before == b"" and json.loads(p) == think
    start = {"type": "content_block_start", "index": 1,
             "content_block": {"type": "tool_use", "id": "t", "name": "n", "input": {"id": INST[0]}}}
    before, p = event(start)
    assert json.loads(p)["content_block"]["input"] == {"id": INST[1]}
    spaced = {"type": "content_block_delta", "delta": {"partial_json": f'"{ACCT[0][:4]}',
                                                       "type": "input_json_delta"}, "index": 1}
    before, p = event(spaced)                            # not the fast layout: through the reader
    assert json.loads(p)["delta"]["partial_json"] == '"'
    before, p = event({"type": "content_block_stop", "index": 1})
    assert b'"partial_json":"' + ACCT[0][:4].encode() + b'"' in before


def test_openai_chunk_holds_and_flushes_before_finish(rt):
    s, o, j = new_sse(rt), part(rt, "sse_openai"), part(rt, "json")

    def chunk(delta, finish=None):
        obj = {"id": "c1", "object": "chat.completion.chunk", "created": 5, "model": "m",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        p = json.dumps(obj, separators=(",", ":")).encode()
        return o.chunk(s, p, j.parse(p))

    _, p = chunk({"content": f"in {INST[0][:5]}"})
    assert json.loads(p)["choices"][0]["delta"]["content"] == "in "
    _, p = chunk({"tool_calls": [{"index": 2, "function": {"arguments": f'{{"a":"{ACCT[0][:3]}'}}]})
    assert json.loads(p)["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] == '{"a":"'
    before, p = chunk({}, "stop")
    flushed = [json.loads(e[6:]) for e in before.decode().split("\n\n") if e]
    assert [f["choices"][0]["delta"] for f in flushed] == [
        {"content": INST[0][:5]}, {"tool_calls": [{"index": 2, "function": {"arguments": ACCT[0][:3]}}]}]
    assert all(f["id"] == "c1" and f["created"] == 5 and f["model"] == "m" for f in flushed)
