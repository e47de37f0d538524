"""Multi-turn conversations through the real gateway (DESIGN.md invariants 3 and 5).

Turn 2 sends turn 1's restored answer back in the history. The provider must receive turn 1's masked
text byte for byte (prompt caching keys on the exact prefix), and a signed thinking block, which
holds pseudonyms and ID-shaped values the model invented, must come back to it unchanged (its
signature covers the exact text).
"""

from __future__ import annotations

import json

import anthropic

from tests.support.planted import ACCESS_KEY, ACCOUNT, INSTANCE, PRIVATE_IP, PROMPT, ROLE_ARN, SUBNET, leaks

MODEL = "claude-mock-1"


def _client(gateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.http_url, api_key="sk-ant-dummy", max_retries=0)


def _user_content(body: bytes, index: int) -> str:
    return json.loads(body)["messages"][index]["content"]


def test_turn_two_repeats_turn_one_masked_bytes(gateway, upstream):
    client = _client(gateway)
    turn1 = [{"role": "user", "content": PROMPT}]
    answer = client.messages.create(model=MODEL, max_tokens=64, messages=turn1).content[0].text
    assert answer == PROMPT                         # restored for the user
    masked_prompt = _user_content(upstream.received[0].body, 0)
    assert masked_prompt != PROMPT

    turn2 = [*turn1, {"role": "assistant", "content": answer},
             {"role": "user", "content": f"And what about {INSTANCE}?"}]
    client.messages.create(model=MODEL, max_tokens=64, messages=turn2)
    body1, body2 = upstream.received[0].body, upstream.received[1].body
    assert leaks(body2) == []
    # Byte for byte: the first message as serialized in turn 1 appears unchanged in turn 2.
    first = json.dumps(json.loads(body1)["messages"][0], separators=(",", ":")).encode()
    assert first in body1 and first in body2
    # The assistant turn the client sends back re-masks to exactly what the provider wrote.
    assert _user_content(body2, 1) == masked_prompt
    # Same identifier, same pseudonym, across turns and requests.
    assert json.loads(body2)["messages"][2]["content"].split()[-1].rstrip("?") in masked_prompt


def test_signed_thinking_block_reaches_upstream_byte_for_byte(gateway, upstream):
    client = _client(gateway)
    client.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": PROMPT}])
    masked_prompt = _user_content(upstream.received[0].body, 0)
    pseudo_instance = next(w for w in masked_prompt.replace("(", " ").split() if w.startswith("i-"))
    # What the model "thought" in turn 1: a pseudonym it saw, plus an invented private IP and
    # account that look like identifiers but are in no map.
    thought = f"Check {pseudo_instance}; maybe route 10.99.1.7 or account 999988887777."
    thinking = {"type": "thinking", "thinking": thought, "signature": upstream.sign(thought)}
    history = [{"role": "user", "content": PROMPT},
               {"role": "assistant", "content": [thinking, {"type": "text", "text": "Looking."}]},
               {"role": "user", "content": f"Go on about {ACCOUNT}."}]
    client.messages.create(model=MODEL, max_tokens=64, messages=history)
    body2 = upstream.received[1].body
    sent = json.loads(body2)["messages"][1]["content"][0]
    assert sent == thinking and upstream.signature_errors == 0
    assert json.dumps(thinking["thinking"]).encode() in body2
    assert leaks(body2) == []


def test_protected_looking_user_data_is_masked_upstream(gateway, upstream):
    """Protection follows the Messages structure (json_layout): the signed thinking block reaches the
    provider byte for byte, while the same keys in the client's own data (a tool call's input, a
    tool result that is JSON text) are masked like any text."""
    client = _client(gateway)
    thought = "Plan: look at the role first."
    thinking = {"signature": upstream.sign(thought), "thinking": thought, "type": "thinking"}
    tool_input = {"signature": ROLE_ARN, "encrypted_content": ACCESS_KEY,
                  "nested": [{"type": "thinking", "thinking": INSTANCE, "signature": ACCOUNT}]}
    history = [
        {"role": "user", "content": "check it"},
        {"role": "assistant", "content": [thinking, {"type": "tool_use", "id": "toolu_1", "name": "aws",
                                                     "input": tool_input}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                      "content": json.dumps({"signature": PRIVATE_IP, "subnet": SUBNET})}]}]
    client.messages.create(model=MODEL, max_tokens=64, messages=history)
    body = upstream.received[0].body
    assert leaks(body) == []
    assert json.loads(body)["messages"][1]["content"][0] == thinking and upstream.signature_errors == 0
