"""Real clients, the way their users write code (issue 11, item 4), through the gateway, against a mock
that checks thinking signatures as the API does (tests/support/mock_upstream.py: it signs every
thinking block it writes and answers 400 to a history whose thinking does not verify).

Each conversation: three turns with extended thinking on, the answer's ``content`` passed back as the
assistant turn (the SDKs' documented pattern: the Python SDK sends its own objects, which serialize a
thinking block signature first), a tool call in between (the tool input the client sees holds the
real identifiers; the tool result it sends back holds more of them), streaming and not. The
upstream must see only pseudonyms, every signed thinking block byte for byte, and refuse nothing.
Claude Code: ``claude -p`` with thinking on, then ``--continue``, which sends the signed thinking back.
"""

from __future__ import annotations

import json
import os
import subprocess

import anthropic
import pytest

from tests.support.harness import ROOT
from tests.support.planted import ACCESS_KEY, ACCOUNT, INSTANCE, PRIVATE_IP, PROMPT, SUBNET, leaks

TOOL = {"name": "aws_cli", "description": "Runs a read-only AWS CLI query and returns its output.",
        "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}
THINKING = {"type": "enabled", "budget_tokens": 1024}
TOOL_OUTPUT = (f'{{"Reservations": [{{"OwnerId": "{ACCOUNT}", "Instances": [{{"InstanceId": "{INSTANCE}", '
               f'"SubnetId": "{SUBNET}", "PrivateIpAddress": "{PRIVATE_IP}"}}]}}]}}')
FOLLOW_UP = f"Is {ACCESS_KEY} allowed to stop {INSTANCE}?"
NODE_SDK = ROOT / ".tools-ts" / "node_modules"
CLAUDE = ROOT / ".tools" / "node_modules" / ".bin" / "claude"


def check_upstream(upstream, requests: int) -> None:
    """What the provider saw: only pseudonyms, and every thinking block it signed, unchanged."""
    bodies = [rec.body for rec in upstream.received if rec.target.startswith("/v1/messages")]
    assert len(bodies) == requests, [rec.target for rec in upstream.received]
    assert upstream.signature_errors == 0
    for body in bodies:
        assert leaks(body) == []
    for body in bodies[1:]:
        thinking = [b for m in json.loads(body)["messages"] if isinstance(m["content"], list)
                    for b in m["content"] if b["type"] == "thinking"]
        assert thinking and all(b["signature"] == upstream.sign(b["thinking"]) for b in thinking)


def check_seen(turns: list[dict]) -> None:
    """What the client saw: real identifiers in text and tool input; thinking as the model wrote it."""
    first, second, third = turns
    assert first["stop_reason"] == "tool_use" and first["tool_inputs"] == [{"query": PROMPT}]
    assert second["text"] == f"The tool said: {TOOL_OUTPUT}"
    assert third["tool_inputs"] == [{"query": FOLLOW_UP}]
    for turn in turns:
        assert len(turn["thinking"]) == 1
        assert "999988887777" in turn["thinking"][0]          # the mock's invented value, as written
    assert INSTANCE not in first["thinking"][0]                 # the model saw (and thought) pseudonyms


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
def test_python_sdk_passes_response_content_back(gateway, upstream, stream):
    upstream.tool_use = True
    client = anthropic.Anthropic(base_url=gateway.http_url, api_key="sk-ant-dummy", max_retries=0)

    def ask(messages: list) -> anthropic.types.Message:
        params = {"model": "claude-mock-1", "max_tokens": 2048, "thinking": THINKING, "tools": [TOOL],
                  "messages": messages}
        if stream:
            with client.messages.stream(**params) as s:
                return s.get_final_message()
        return client.messages.create(**params)

    def seen(message: anthropic.types.Message) -> dict:
        return {"stop_reason": message.stop_reason,
                "thinking": [b.thinking for b in message.content if b.type == "thinking"],
                "text": "".join(b.text for b in message.content if b.type == "text"),
                "tool_inputs": [b.input for b in message.content if b.type == "tool_use"]}

    messages: list = [{"role": "user", "content": PROMPT}]
    first = ask(messages)
    call = next(b for b in first.content if b.type == "tool_use")
    messages.append({"role": "assistant", "content": first.content})      # the SDK's own objects
    messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                                  "content": TOOL_OUTPUT}]})
    second = ask(messages)
    messages.append({"role": "assistant", "content": second.content})
    messages.append({"role": "user", "content": FOLLOW_UP})
    third = ask(messages)
    check_seen([seen(first), seen(second), seen(third)])
    check_upstream(upstream, 3)


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
def test_typescript_sdk_passes_response_content_back(gateway, upstream, stream):
    assert (NODE_SDK / "@anthropic-ai" / "sdk").is_dir(), "TypeScript SDK missing: run `make tools` (make test does)"
    upstream.tool_use = True
    env = {**os.environ, "NODE_PATH": str(NODE_SDK), "GATEWAY_URL": gateway.http_url, "STREAM": "1" if stream else "0",
           "PROMPT": PROMPT, "TOOL_OUTPUT": TOOL_OUTPUT, "FOLLOW_UP": FOLLOW_UP}
    r = subprocess.run(["node", str(ROOT / "tests" / "support" / "ts_client.cjs")], env=env, capture_output=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-2000:]
    check_seen(json.loads(r.stdout)["turns"])
    check_upstream(upstream, 3)
