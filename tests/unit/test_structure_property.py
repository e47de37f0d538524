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

from agent.engine.detectors import load_packs
from agent.engine.masker import Masker
from agent.engine.settings import MaskConfig
from tests.support import sdk_bodies as sb
from tests.support.deadline import hard_timeout

KEY = b"structure-property-test-key-0123456789"
pytestmark = pytest.mark.timeout(600, method="thread")

_IDENT = re.compile(r"(?:i|vpc|subnet|sg|vol|eni|ami|snap)-[0-9a-f]{17}|A[KS]IA[A-Z0-9]{16}|"
                    r"arn:aws:iam::\d{12}:role/[a-z0-9-]+|10\.\d{1,3}\.\d{1,3}\.\d{1,3}")

_MASKER: Masker | None = None


def masker() -> Masker:
    """Documents pass here (the default refuses them), so base64 documents are protected too."""
    global _MASKER
    if _MASKER is None:
        _MASKER = Masker(KEY, load_packs(), MaskConfig(documents="pass"))
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


@settings(max_examples=200, deadline=None, verbosity=Verbosity.quiet, print_blob=False, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(body=sb.request_bodies(), seed=st.integers(0, 2**32 - 1))
def test_key_order_and_whitespace_do_not_matter(body, seed):
    check_variants(body, seed)


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


def _objects(raw: str):
    from agent.engine import json_layout as jsonbody
    neutral = jsonbody.neutralize(jsonbody.scan_text(raw))
    blocks = [m for m in jsonbody._PROTECTING.finditer(neutral) if m.group(1)]
    return neutral, blocks


def test_one_pass_finds_the_same_blocks_as_the_walks():
    from agent.engine import json_layout as jsonbody
    rnd = random.Random(3)
    kinds = [{"type": "thinking", "thinking": "t", "signature": "s"}, {"type": "redacted_thinking", "data": "d"},
             {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
             {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "AAAA"}},
             {"type": "text", "text": "x"}]
    for _ in range(300):
        blocks = []
        for _ in range(rnd.randrange(1, 5)):
            b = rnd.choice(kinds)
            if rnd.random() < 0.3:
                b = {"type": "thinking", "x": b, "thinking": "y", "signature": "z"}
            blocks.append(b)
        raw, _ = sb.serialize({"messages": [{"role": "assistant", "content": blocks}]}, rnd)
        neutral, found = _objects(raw)
        assert jsonbody._block_objects(neutral, found) == jsonbody._block_objects_one_pass(neutral, found)


def test_nested_blocks_type_last_stay_linear(monkeypatch):
    """300 thinking blocks nested in each other, ``type`` last: each walk from a key back to its
    ``{`` crosses every block inside (n * d). The walks stop at their budget and one pass finishes."""
    from agent.engine import json_layout as jsonbody
    obj: dict = {"type": "thinking", "thinking": "i-0123456789abcdef0 " * 200}
    for _ in range(300):
        obj = {"x": obj, "type": "thinking"}
    raw = json.dumps({"messages": [{"role": "assistant", "content": [obj]}]})
    walks = []
    original = jsonbody._enclosing_object
    monkeypatch.setattr(jsonbody, "_enclosing_object", lambda *a: walks.append(1) or original(*a))
    neutral, found = _objects(raw)
    with hard_timeout(30):
        objects = jsonbody._block_objects(neutral, found)
    assert len(objects) == 1 and objects[0][1] == (raw.index('{"x"'), len(raw) - 4)
    assert len(walks) < 20
    with hard_timeout(30):
        masked = masker().mask_body(raw.encode(), "application/json").body.decode()
    assert masked == raw
