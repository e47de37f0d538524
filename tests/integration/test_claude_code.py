"""Claude Code itself through the gateway: the truest end-to-end test.

`claude -p` (installed by `make tools`, pinned in the Makefile) sends its real ~50 KB request
(`POST /v1/messages?beta=true` with system prompt, tools, thinking settings and streaming) through
HAProxy and the agent to the recording mock; the mock streams back the user text, which Claude
Code prints. The provider must have received no planted identifier; the user must see all of them.
"""

from __future__ import annotations

import json
import os
import subprocess

from tests.support.harness import ROOT
from tests.support.planted import PROMPT, leaks

CLAUDE = ROOT / ".tools" / "node_modules" / ".bin" / "claude"


def test_claude_code_print_mode(gateway, upstream, tmp_path):
    assert CLAUDE.exists(), "Claude Code is not installed: run `make tools` (make test does)"
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "ANTHROPIC_BASE_URL": gateway.http_url,
           "ANTHROPIC_API_KEY": "sk-ant-dummy", "DISABLE_TELEMETRY": "1",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    r = subprocess.run([str(CLAUDE), "-p", PROMPT], env=env, cwd=home, capture_output=True, timeout=180)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-2000:]
    assert PROMPT in r.stdout.decode()                     # restored, streamed through Lua
    messages = [rec for rec in upstream.received if rec.target.startswith("/v1/messages")]
    assert messages, [rec.target for rec in upstream.received]
    for rec in upstream.received:
        assert leaks(rec.body) == [], rec.target
    body = json.loads(messages[-1].body)
    assert body["stream"] is True and body["tools"]          # the real, tool-laden request
