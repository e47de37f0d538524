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
import re
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


def test_claude_code_with_thinking_reads_a_local_file_and_continues(gateway, upstream, tmp_path):
    """Claude Code 2.1 asks for thinking by itself (``"thinking": {"type": "adaptive"}``). The mock
    thinks, then calls Claude Code's own Read tool on a file named by the pseudonym it saw: the
    gateway must restore the path so the real file is read, mask what the tool returns, and pass the
    signed thinking back unchanged in the tool loop. ``--continue`` then sends the session again."""
    assert CLAUDE.exists(), "Claude Code is not installed: run `make tools` (make test does)"
    home = tmp_path / "home"
    home.mkdir()
    (home / f"{INSTANCE}.json").write_text(TOOL_OUTPUT + "\n")

    def read_the_named_file(payload: dict) -> tuple[str, dict] | None:
        turns = [m for m in payload.get("messages", []) if m.get("role") in ("user", "assistant")]
        names = {t.get("name") for t in payload.get("tools") or []}
        if "Read" not in names or not turns or turns[-1]["role"] != "user":
            return None
        content = json.dumps(turns[-1]["content"])
        if '"tool_result"' in content:
            return None
        pseudonyms = re.findall(r"\bi-[0-9a-f]{17}\b", content)
        return ("Read", {"file_path": f"{home}/{pseudonyms[-1]}.json"}) if pseudonyms else None

    upstream.tool_use = read_the_named_file
    env = {**os.environ, "HOME": str(home), "ANTHROPIC_BASE_URL": gateway.http_url,
           "ANTHROPIC_API_KEY": "sk-ant-dummy", "DISABLE_TELEMETRY": "1",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    first = subprocess.run([str(CLAUDE), "-p", f"What is in {INSTANCE}.json?"], env=env, cwd=home,
                           capture_output=True, timeout=180)
    assert first.returncode == 0, first.stderr.decode(errors="replace")[-2000:]
    out = first.stdout.decode()
    assert "The tool said:" in out and ACCOUNT in out and PRIVATE_IP in out      # read and restored
    follow_up = f"Is {ACCESS_KEY} allowed in account {ACCOUNT}?"     # no file named: a plain answer
    second = subprocess.run([str(CLAUDE), "-p", "--continue", follow_up], env=env, cwd=home,
                            capture_output=True, timeout=180)
    assert second.returncode == 0, second.stderr.decode(errors="replace")[-2000:]
    assert follow_up in second.stdout.decode()

    bodies = [json.loads(rec.body) for rec in upstream.received if rec.target.startswith("/v1/messages")]
    assert upstream.signature_errors == 0
    assert all(leaks(rec.body) == [] for rec in upstream.received)
    assert all(body["thinking"]["type"] in ("adaptive", "enabled") for body in bodies)
    sent_back = [b for body in bodies for m in body["messages"] if isinstance(m["content"], list)
                 for b in m["content"] if b.get("type") == "thinking"]
    assert sent_back, "Claude Code sent no thinking block back"
    assert all(b["signature"] == upstream.sign(b["thinking"]) for b in sent_back)
    tool_loop = next(body for body in bodies if any(
        b.get("type") == "tool_result" for m in body["messages"] if isinstance(m["content"], list)
        for b in m["content"]))
    assert ACCOUNT not in json.dumps(tool_loop)                      # the file's content left masked
    continued = bodies[-1]
    assert len(continued["messages"]) > len(tool_loop["messages"])    # --continue sent the session again
