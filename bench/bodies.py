"""The four request bodies of the gateway benchmark (deterministic, built in memory).

- ``1KB``: a short Messages request with a few identifiers.
- ``100KB``: a real Claude Code request (bench/fixtures/claude_code_2.1.332_hi.json: what
  ``claude -p "hi"`` 2.1.332 sent, with its device/session ids and paths replaced) whose history is
  grown with Claude Code-like turns from bench/corpora.py (code, shell and AWS CLI output, thinking
  blocks, tool calls) to 100 KB.
- ``1MB``: the same, grown to 1 MB, with a screenshot (base64 PNG) in the history.
- ``1MB-dense``: bench/corpora.py's dense AWS inventory (~8 identifiers per KB).
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.corpora import claude_code_request, dense_inventory_request

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "claude_code_2.1.332_hi.json"


def small_request() -> bytes:
    text = ("Why can't i-0a1b2c3d4e5f60718 in subnet-0123456789abcdef0 (account 123456789012) reach "
            "arn:aws:rds:us-east-1:123456789012:db:orders-prod on 10.0.12.7? The security group is "
            "sg-0fedcba9876543210 and the role arn:aws:iam::123456789012:role/app-deploy. ")
    body = {"model": "claude-sonnet-4-5", "max_tokens": 1024,
            "system": "You are a helpful AWS assistant.",
            "messages": [{"role": "user", "content": text * 3}]}
    raw = json.dumps(body).encode()
    assert 800 < len(raw) < 1300, len(raw)
    return raw


def claude_code_body(target: int, image: bool, stream: bool = False) -> bytes:
    real = json.loads(FIXTURE.read_text())
    room = target - len(FIXTURE.read_bytes())
    history = json.loads(claude_code_request(seed=6, target=max(1000, room)))["messages"]
    if not image:
        for m in history:
            m["content"] = [b for b in m["content"] if b.get("type") != "image"]
    real["messages"] = history + real["messages"]
    real["stream"] = stream
    raw = json.dumps(real).encode()
    while len(raw) > target * 1.04 and len(history) > 2:     # trim whole turns back to the target
        history = history[:-2]
        real["messages"] = history + json.loads(FIXTURE.read_text())["messages"]
        raw = json.dumps(real).encode()
    return raw


def bodies() -> dict[str, bytes]:
    return {
        "1KB": small_request(),
        "100KB": claude_code_body(100_000, image=False),
        "1MB": claude_code_body(1_000_000, image=True),
        "1MB-dense": dense_inventory_request(),
    }


def conversations(target: int = 100_000, spread: float = 0.15, count: int = 8) -> list[list[bytes]]:
    """``count`` Claude Code conversations, each as one body per turn from ``target`` - ``spread`` to
    ``target`` + ``spread``: each turn resends the one before it byte for byte plus one more exchange
    (a user turn and the assistant's answer), as Claude Code does. Unlike the bodies above, which the
    load generator sends over and over (after the first request the agent has read every piece of them
    before), each turn here is new once: the agent reads the newest exchange and remembers the rest,
    which is what a user's conversation costs it."""
    real = json.loads(FIXTURE.read_text())
    out = []
    for seed in range(11, 11 + count):
        history = json.loads(claude_code_request(seed=seed, target=int(target * (1 + spread))))["messages"]
        for m in history:
            m["content"] = [b for b in m["content"] if b.get("type") != "image"]
        turns = [json.dumps({**real, "stream": False, "messages": history[:n] + real["messages"]}).encode()
                 for n in range(2, len(history) + 1, 2)]
        out.append([t for t in turns if abs(len(t) - target) <= spread * target])
    return out


def stream_body(body: bytes) -> bytes:
    """The same request with ``"stream": true`` (the SSE time-to-first-byte runs)."""
    data = json.loads(body)
    data["stream"] = True
    return json.dumps(data).encode()


if __name__ == "__main__":
    for name, raw in bodies().items():
        print(f"{name:10} {len(raw):9d} bytes")
