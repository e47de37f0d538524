"""Ways to send a request to the gateway that the SDKs would not: curl with exact bytes, raw sockets.

Shared by the integration tests that check what a malformed or unusual request does (fail-closed,
security review, edge requests, the Lua swap).
"""

from __future__ import annotations

import json
import socket
import subprocess
import time

from tests.support.planted import PROMPT

BODY = json.dumps({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": PROMPT}]})


def post(url: str, body: bytes | str = BODY, *headers: str, extra: tuple[str, ...] = ()) -> tuple[int, dict]:
    args = ["curl", "-sS", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}", url + "/v1/messages",
            "-H", "content-type: application/json", *[a for h in headers for a in ("-H", h)], *extra]
    data = body.encode() if isinstance(body, str) else body
    r = subprocess.run([*args, "--data-binary", "@-"], input=data, capture_output=True, timeout=60)
    out, code = r.stdout.rsplit(b"\n", 1)
    try:
        payload = json.loads(out) if out else {}
    except ValueError:
        payload = {"raw": out.decode(errors="replace")}
    return int(code), payload


def raw(port: int, data: bytes, more: bytes = b"", wait: float = 2.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        if more:
            time.sleep(0.3)
            try:
                s.sendall(more)
            except OSError:
                pass
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (TimeoutError, ConnectionError):
            pass
    return out
