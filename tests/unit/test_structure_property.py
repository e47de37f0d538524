"""Structure decides, not byte order (DESIGN invariant 8, issue 11 item 3).

Bodies come from the ``anthropic`` SDK's own param types (tests/support/sdk_bodies.py), so every block type
the SDK knows is in. Each body is written three times with the keys of every object in a random
order and random whitespace; the masked bodies must be equal as JSON values, every protected node
(signed thinking and redacted_thinking blocks, every ``signature`` and ``encrypted_*`` string,
base64 sources) must come out byte-exact, and the identifiers planted in every other string must
be masked.

The Python SDK writes a thinking block signature first; the protected span of the signature (inside
the block) used to hide the block's, so the thinking text was masked and the API answered 400.

Failure messages name paths of SDK field names and the seed, never a value; hypothesis runs quiet
(its falsifying example would print the generated values).
"""

from __future__ import annotations

import json
import random
import re

import pytest
from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import strategies as st

from agent.engine.masker import Masker
from agent.engine.settings import MaskConfig
from tests.support import sdk_bodies as sb
from tests.support.deadline import hard_timeout
from tests.support.effort import examples
from tests.support.masker_support import shipped_packs

KEY = b"structure-property-test-key-0123456789"
pytestmark = pytest.mark.timeout(600, method="thread")

_IDENT = re.compile(r"(?:i|vpc|subnet|sg|vol|eni|ami|snap)-[0-9a-f]{17}|A[KS]IA[A-Z0-9]{16}|"
                    r"arn:aws:iam::\d{12}:role/[a-z0-9-]+|10\.\d{1,3}\.\d{1,3}\.\d{1,3}")

_MASKER: Masker | None = None


def masker() -> Masker:
    """Documents pass here (the default refuses them), so base64 documents are protected too."""
    global _MASKER
    if _MASKER is None:
        _MASKER = Masker(KEY, shipped_packs(), MaskConfig(documents="pass"))
    return _MASKER


def _where(path: tuple) -> str:
    return "/".join(str(p) for p in path)


def check_variants(body: dict, seed: int, variants: int = 3) -> None:
    rnd = random.Random(seed)
    outs = []
    for n in range(variants):
        raw, protected = sb.serialize(body, rnd)
        with hard_timeout(30):
            result = masker().mask_body(raw.encode(), "application/json")
        masked = result.body.decode()
        try:
            out = json.loads(masked)
        except ValueError:
            pytest.fail(f"seed {seed} variant {n}: masked body is not JSON")
        for path, raw_node in protected:
            if raw_node not in masked or sb.at(out, path) != sb.at(body, path):
                pytest.fail(f"seed {seed} variant {n}: protected node at /{_where(path)} was changed")
        for path, text, inside in sb.walk_strings(body):
            if inside:
                continue
            got = sb.at(out, path)
            for token in text.split(" "):      # planted_text joins words and identifiers with spaces
                if _IDENT.fullmatch(token) and any(secret in got for secret in sb.secrets_of(token)):
                    pytest.fail(f"seed {seed} variant {n}: an identifier at /{_where(path)} was not masked")
        outs.append(out)
    for n in range(1, variants):
        if outs[n] != outs[0]:
            pytest.fail(f"seed {seed}: variant {n} masks differently from variant 0 (key order / whitespace)")


@settings(max_examples=examples(200), deadline=None, verbosity=Verbosity.quiet, print_blob=False, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(body=st.deferred(lambda: sb.request_bodies()), seed=st.integers(0, 2**32 - 1))
def test_key_order_and_whitespace_do_not_matter(body, seed):
    check_variants(body, seed)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.deferred(lambda: sb.request_bodies()), seed=st.integers(0, 2**32 - 1))
def test_stepping_over_unmarked_blocks_changes_nothing(body, seed):
    """The walk steps over messages and blocks that hold no protection literal; with a mark at every
    position it walks everything. Both must protect the same spans."""
    from agent.engine import json_layout

    raw, _ = sb.serialize(body, random.Random(seed))
    neutral = json_layout.neutralize(json_layout.scan_text(raw))
    marks = [m.start() for m in json_layout._PROTECTING.finditer(neutral)]
    assert json_layout._protected_nodes(neutral, marks) == json_layout._protected_nodes(
        neutral, list(range(len(neutral))))


def test_python_sdk_thinking_block_order():
    """The documented pattern: ``response.content`` objects sent back, serialized signature first."""
    from anthropic.types import Message

    ident = "i-0123456789abcdef0"
    message = Message.model_validate({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "stop_reason": "tool_use", "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
        "content": [
            {"type": "thinking", "thinking": f"look at {ident} first", "signature": "EqQBCkYIARgCKkB" + "A" * 40},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIw" + ident},
            {"type": "text", "text": f"instance {ident}"},
            {"type": "tool_use", "id": "toolu_1", "name": "shell", "input": {"cmd": f"aws ec2 stop {ident}"}},
        ]})
    content = [block.model_dump(mode="json", exclude_none=True) for block in message.content]
    thinking = json.dumps(content[0])
    assert thinking.startswith('{"signature"'), "the SDK's order changed: this test no longer tries it"
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [
        {"role": "user", "content": f"what about {ident}?"},
        {"role": "assistant", "content": content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "stopped"}]}]}
    raw = json.dumps(body)
    masked = masker().mask_body(raw.encode(), "application/json").body.decode()
    assert thinking in masked and json.dumps(content[1]) in masked
    out = json.loads(masked)
    assert ident not in out["messages"][0]["content"] and ident not in json.dumps(out["messages"][1]["content"][2:])
    check_variants(body, seed=1, variants=6)


def test_engine_table_is_the_sdks():
    """The engine's opaque fields per block type are exactly what the installed SDK's param types
    declare (a new SDK block with an ``encrypted_*`` field fails here first)."""
    from agent.engine.json_layout import OPAQUE_FIELDS
    assert {k: frozenset(v) for k, v in OPAQUE_FIELDS.items()} == sb.sdk_opaque_fields()


# --- user data gets no protection from a key name (the leak this file's structure rule closes) ---
ARN = "arn:aws:iam::123456789012:role/deploy-x"
IID = "i-0123456789abcdef0"
SIG = "EqQBCkYIARgCKkB" + "A" * 40


def _fake_blocks() -> list:
    """Objects that look protected by their keys, all of them user data where they are put."""
    return [{"signature": ARN}, {"encrypted_content": ARN, "encrypted_index": IID},
            {"type": "thinking", "thinking": IID, "signature": ARN},
            {"signature": ARN, "thinking": IID, "type": "thinking"},
            {"type": "redacted_thinking", "data": ARN},
            {"type": "web_search_result", "encrypted_content": ARN, "title": "t", "url": "u"},
            {"type": "compaction", "signature": ARN, "encrypted_content": IID},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": ARN}},
            [[{"type": "thinking", "thinking": IID, "signature": ARN}]]]


def _user_positions(fake) -> list[dict]:
    text = json.dumps(fake)
    tool_use = {"type": "tool_use", "id": "toolu_1", "name": "shell", "input": {"a": fake, "b": [fake]}}
    return [
        {"messages": [{"role": "assistant", "content": [tool_use]}]},
        {"messages": [{"role": "assistant", "content": [{**tool_use, "input": fake}]}]}
        if isinstance(fake, dict) else {"messages": [{"role": "user", "content": "x"}]},
        {"messages": [{"role": "assistant", "content": [
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"q": fake}}]}]},
        {"messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": text},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": text}]}]}]},
        {"messages": [{"role": "user", "content": text}]},
        {"messages": [{"role": "user", "content": "x"}], "metadata": {"user_id": "u", "x": fake}},
        {"messages": [{"role": "user", "content": "x"}], "tools": [{"name": "t", "input_schema": {
            "type": "object", "properties": {"p": {"type": "string", "default": fake, "examples": [fake]}}}}]},
        {"messages": [{"role": "user", "content": "x", "extra": fake}]},
        {"messages": [{"role": "user", "content": "x"}], "system": "s", "extra": fake},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "x", "meta": fake}]}]},
    ]


def _assert_masked(body: dict, seed: int, variants: int = 4) -> None:
    rnd = random.Random(seed)
    for n in range(variants):
        raw, _ = sb.serialize(body, rnd)
        masked = masker().mask_body(raw.encode(), "application/json").body.decode()
        if _leaks(masked):
            pytest.fail(f"case {seed} variant {n}: an identifier in user data passed unmasked")
        json.loads(masked)


def _leaks(masked: str) -> bool:
    """Any planted identifier left (the failure message says where, never what)."""
    return IID in masked or "123456789012" in masked or "deploy-x" in masked


@pytest.mark.parametrize("fake", range(len(_fake_blocks())))
def test_protected_looking_keys_in_user_data_are_masked(fake):
    for i, body in enumerate(_user_positions(_fake_blocks()[fake])):
        _assert_masked({"model": "m", "max_tokens": 1, **body}, seed=fake * 100 + i)


@pytest.mark.parametrize("block", [
    {"type": None, "signature": ARN, "thinking": IID},
    {"type": 7, "signature": ARN, "thinking": IID},
    {"signature": ARN, "thinking": IID},
    {"type": "Thinking", "signature": ARN, "thinking": IID},
    {"type": "text", "text": IID, "signature": ARN},
    {"type": "tool_use", "id": "t", "name": "n", "input": {}, "signature": ARN, "encrypted_content": IID},
    {"type": "web_search_result", "signature": ARN, "title": IID, "url": "u", "encrypted_content": "opaque"},
    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": IID + " " + ARN}},
    {"type": "image", "data": ARN, "source": {"type": "url", "url": "https://x/" + IID}},
])
def test_degenerate_blocks_are_masked(block):
    _assert_masked({"model": "m", "messages": [{"role": "assistant", "content": [block]}]}, seed=5)


def test_disagreeing_duplicate_types_get_no_protection():
    raw = ('{"messages": [{"role": "assistant", "content": [{"type": "thinking", "thinking": "' + IID
           + '", "signature": "' + ARN + '", "type": "text"}]}]}')
    if _leaks(masker().mask_body(raw.encode(), "application/json").body.decode()):
        pytest.fail("a thinking block that also says type text kept its identifiers")
    escaped = raw.replace('"type": "text"', '"typ\\u0065": "thinking"').replace('"type": "thinking"', '"x": 1')
    if _leaks(masker().mask_body(escaped.encode(), "application/json").body.decode()):
        pytest.fail("a block whose type key is escaped kept its identifiers")


def _api_blocks() -> list[tuple[dict, list[tuple]]]:
    """(block, paths inside it that pass byte-exact) for every opaque field the API defines."""
    b64 = "AKIAIOSFODNN7EXAMPLE" + "123456789012" + "AAAA"
    return [
        ({"type": "thinking", "thinking": "look at " + IID, "signature": SIG}, [()]),
        ({"type": "redacted_thinking", "data": "Emw" + IID}, [()]),
        ({"type": "compaction", "content": "summary", "signature": SIG + IID, "encrypted_content": "E" + ARN},
         [("signature",), ("encrypted_content",)]),
        ({"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [
            {"type": "web_search_result", "title": "t", "url": "https://x", "encrypted_content": "E" + ARN}]},
         [("content", 0, "encrypted_content")]),
        ({"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_1", "content": {
            "type": "encrypted_code_execution_result", "content": [], "return_code": 0, "stderr": "",
            "encrypted_stdout": "E" + ARN}}, [("content", "encrypted_stdout")]),
        ({"type": "text", "text": "see", "citations": [
            {"type": "web_search_result_location", "cited_text": "c", "title": "t", "url": "u",
             "encrypted_index": "E" + IID}]}, [("citations", 0, "encrypted_index")]),
        ({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64}}, [("source",)]),
        ({"type": "tool_result", "tool_use_id": "toolu_1", "content": [
            {"type": "image", "source": {"data": b64, "media_type": "image/jpeg", "type": "base64"}}]},
         [("content", 0, "source")]),
    ]


@pytest.mark.parametrize("i", range(len(_api_blocks())))
def test_api_opaque_fields_pass_byte_exact_in_any_order_and_place(i):
    block, paths = _api_blocks()[i]
    user = {"type": "text", "text": "instance " + IID}
    bodies = [
        ({"messages": [{"role": "assistant", "content": [user, block]}]}, ("messages", 0, "content", 1)),
        ({"system": [user, block], "messages": [{"role": "user", "content": "x"}]}, ("system", 1)),
        ({"requests": [{"custom_id": "a", "params": {"messages": [{"role": "assistant", "content": [block]}]}}]},
         ("requests", 0, "params", "messages", 0, "content", 0)),
    ]
    rnd = random.Random(i)
    for body, where in bodies:
        for n in range(6):
            raw, _ = sb.serialize(body, rnd)
            masked = masker().mask_body(raw.encode(), "application/json").body.decode()
            out = json.loads(masked)
            for p in paths:
                if sb.at(out, where + p) != sb.at(body, where + p):
                    pytest.fail(f"block {i} variant {n}: /{_where(where + p)} was changed")
            if "instance " + IID in masked:
                pytest.fail(f"block {i} variant {n}: the user text was not masked")


def test_nested_blocks_type_last_stay_linear():
    """Blocks nested in each other 400 deep through ``content``, ``type`` last: the walk reads each
    byte once. Only the structure counts: the same nesting under ``x`` is user data."""
    import time
    obj: dict = {"thinking": "i-0123456789abcdef0 " * 200, "type": "thinking"}
    for _ in range(400):
        obj = {"content": [obj], "type": "tool_result"}
    raw = json.dumps({"messages": [{"role": "assistant", "content": [obj]}]})
    t = time.perf_counter()
    with hard_timeout(30):
        masked = masker().mask_body(raw.encode(), "application/json").body.decode()
    if masked != raw:
        pytest.fail("a signed block nested in tool results was changed")
    assert time.perf_counter() - t < 5
    obj = {"type": "thinking", "thinking": "i-0123456789abcdef0 " * 200}
    for _ in range(300):
        obj = {"x": obj, "type": "thinking"}
    raw = json.dumps({"messages": [{"role": "assistant", "content": [obj]}]})
    with hard_timeout(30):
        masked = masker().mask_body(raw.encode(), "application/json").body.decode()
    if masked != raw:             # the outer block is signed, so all of it passes as it came
        pytest.fail("a signed block was changed")


def test_user_data_too_deep_for_the_c_parser_is_counted_through(monkeypatch):
    """The walk steps over user data with json's C parser; where that gives up (its recursion
    limit), brackets are counted instead, with the same protected spans."""
    from agent.engine import json_layout

    body = {"messages": [{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "n", "input": {"a": [[{"signature": ARN}]], "b": "{[x"}},
        {"signature": SIG, "thinking": IID, "type": "thinking"}]}],
        "tools": [{"name": "t", "input_schema": {"type": "object", "signature": ARN}}]}
    raw = json.dumps(body)
    neutral = json_layout.neutralize(json_layout.scan_text(raw))
    marks = [m.start() for m in json_layout._PROTECTING.finditer(neutral)]
    expected = json_layout._protected_nodes(neutral, marks)

    class Deep:
        def raw_decode(self, *_):
            raise RecursionError
    monkeypatch.setattr(json_layout, "_STEP_OVER", Deep())
    monkeypatch.setattr(json_layout, "_CONTAINER_MATCH", lambda *_: None)   # as if nested too deep
    assert json_layout._protected_nodes(neutral, marks) == expected
    block = json.dumps(body["messages"][0]["content"][1])
    start = raw.index(block)
    assert (start, start + len(block)) in expected[0]          # and its signature, inside it
    assert all(start <= s and e <= start + len(block) for s, e in expected[0])
    deep = '{"messages": [{"role": "user", "content": "x"}], "metadata": ' + "[" * 5000 + "]" * 5000 + "}"
    with hard_timeout(10):
        assert json_layout._protected_nodes(json_layout.neutralize(json_layout.scan_text(deep)), []) == ([], [])
