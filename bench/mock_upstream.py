"""A fast mock Anthropic upstream for the benchmark (one process, asyncio protocol, TLS, HTTP/1.1).

tests/support/mock_upstream.py records every request and parses every body as JSON: right for tests, too
slow under load (a 1 MB ``json.loads`` per request would make the mock the bottleneck). This one
does the least work an upstream can do and the same for every setup:

- reads the request (Content-Length or chunked), never parses the JSON;
- ``POST /v1/messages``: answers a Messages response whose text quotes up to 8 identifiers found in
  the last 64 KB of the body it received (so the gateway's restore has pseudonyms to put back);
  with ``"stream": true`` it streams SSE: message_start, content_block_start, ping and the first
  text delta at once, then ``--deltas`` more deltas ``--delta-ms`` apart (chunked, like the API);
- ``GET /bench/last``: length and SHA-256 of the last /v1/messages body (the bench's sanity check
  that the upstream saw a masked body; hashing is done here, on request, not on every request);
- anything else: ``{"ok": true}``.

    python bench/mock_upstream.py --port 9443 --cert certs/out/server.crt --key certs/out/server.key

Prints ``ready <port>`` on stdout once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import ssl
import sys

_STREAM = re.compile(rb'"stream"\s*:\s*true')
_IDS = re.compile(rb"\b(?:i-[0-9a-f]{17}|vpc-[0-9a-f]{17}|subnet-[0-9a-f]{17}|sg-[0-9a-f]{17}|"
                  rb"arn:aws:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:[A-Za-z0-9/_.:-]{1,60})")
TAIL = 65536


def _message(text: str) -> dict:
    return {"id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-mock",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 1000, "output_tokens": 50}}


def _sse(name: str, data: dict) -> bytes:
    payload = f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _delta(text: str) -> bytes:
    return _sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "text_delta", "text": text}})


def answer_text(body: bytes) -> str:
    ids = []
    for m in _IDS.finditer(body, max(0, len(body) - TAIL)):
        if m.group(0) not in ids:
            ids.append(m.group(0))
        if len(ids) == 8:
            break
    quoted = ", ".join(i.decode() for i in ids) or "nothing specific"
    return f"I looked at the resources you listed ({quoted}) and they look healthy."


class Upstream(asyncio.Protocol):
    deltas = 10
    delta_s = 0.002
    last_body = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.t = transport
        self.buf = bytearray()
        self.head: tuple[str, str, int, bool] | None = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while self._one():
            pass

    def _one(self) -> bool:
        if self.head is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            del self.buf[:end + 4]
            method, target, _ = lines[0].split(" ", 2)
            length, chunked = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding" and "chunked" in value.lower():
                    chunked = True
            self.head = (method, target, length, chunked)
        method, target, length, chunked = self.head
        if chunked:
            body = self._chunked()
            if body is None:
                return False
        else:
            if len(self.buf) < length:
                return False
            body = bytes(self.buf[:length])
            del self.buf[:length]
        self.head = None
        self._answer(method, target, body)
        return True

    def _chunked(self) -> bytes | None:
        pos, parts = 0, []
        while True:
            eol = self.buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(bytes(self.buf[pos:eol]).split(b";")[0], 16)
            if size == 0:
                end = self.buf.find(b"\r\n\r\n", eol)
                if end < 0:
                    return None
                del self.buf[:end + 4]
                return b"".join(parts)
            if len(self.buf) < eol + 2 + size + 2:
                return None
            parts.append(bytes(self.buf[eol + 2:eol + 2 + size]))
            pos = eol + 2 + size + 2

    def _answer(self, method: str, target: str, body: bytes) -> None:
        path = target.split("?", 1)[0]
        if method == "POST" and path == "/v1/messages":
            Upstream.last_body = body
            text = answer_text(body)
            if _STREAM.search(body):
                asyncio.get_running_loop().create_task(self._stream(text))
                return
            out = json.dumps(_message(text)).encode()
        elif path == "/bench/last":
            out = json.dumps({"len": len(Upstream.last_body),
                              "sha256": hashlib.sha256(Upstream.last_body).hexdigest()}).encode()
        else:
            out = b'{"ok":true}'
        self.t.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                     % (len(out), out))

    async def _stream(self, text: str) -> None:
        start = _message("")
        start["content"], start["stop_reason"] = [], None
        step = max(1, len(text) // (self.deltas + 1))
        pieces = [text[i:i + step] for i in range(0, len(text), step)]
        self.t.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
                     b"transfer-encoding: chunked\r\n\r\n"
                     + _sse("message_start", {"type": "message_start", "message": start})
                     + _sse("content_block_start", {"type": "content_block_start", "index": 0,
                                                    "content_block": {"type": "text", "text": ""}})
                     + _sse("ping", {"type": "ping"}) + _delta(pieces[0]))
        for piece in pieces[1:]:
            await asyncio.sleep(self.delta_s)
            if self.t.is_closing():
                return
            self.t.write(_delta(piece))
        self.t.write(_sse("content_block_stop", {"type": "content_block_stop", "index": 0})
                     + _sse("message_delta", {"type": "message_delta",
                                              "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                              "usage": {"output_tokens": 50}})
                     + _sse("message_stop", {"type": "message_stop"}) + b"0\r\n\r\n")


async def serve(port: int, cert: str, key: str) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    server = await asyncio.get_running_loop().create_server(Upstream, "127.0.0.1", port, ssl=ctx, backlog=512)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--deltas", type=int, default=10)
    p.add_argument("--delta-ms", type=float, default=2.0)
    args = p.parse_args()
    Upstream.deltas, Upstream.delta_s = args.deltas, args.delta_ms / 1000
    try:
        asyncio.run(serve(args.port, args.cert, args.key))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
