"""A mock Anthropic upstream on loopback that records exactly what it received.

It speaks HTTPS (HTTP/1.1, keep-alive, Content-Length or chunked request bodies) with a certificate
from the local CA, because the gateway only talks to a verified TLS upstream. Every request is
recorded byte for byte (``Recorded.body`` is the raw body after de-chunking) so tests assert on what
the provider would have seen, never on what the gateway says it did.

Answers, chosen by the request:
- ``POST /v1/messages``: a Messages API answer whose text echoes the last user text it received
  (so pseudonyms come back and the restore can be checked); ``"stream": true`` streams it as SSE
  in small deltas.
- anything else: ``{"ok": true, "path": ...}``.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from dataclasses import dataclass, field


@dataclass
class Recorded:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


@dataclass
class MockUpstream:
    certfile: str
    keyfile: str
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Recorded] = field(default_factory=list)
    delta_size: int = 7          # bytes of text per SSE delta
    delay: float = 0.0           # seconds between SSE events

    def start(self) -> MockUpstream:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("mock upstream did not start")
        return self

    def stop(self) -> None:
        async def close() -> None:
            self._server.close()
            await self._server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.certfile, self.keyfile)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, self.host, self.port, ssl=ctx))
        self.port = self._server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                req = await _read_request(reader)
                if req is None:
                    break
                self.received.append(req)
                await self._answer(req, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _answer(self, req: Recorded, writer: asyncio.StreamWriter) -> None:
        if req.method == "POST" and req.target.split("?")[0] == "/v1/messages":
            payload = json.loads(req.body)
            text = _last_user_text(payload)
            if payload.get("stream"):
                await self._stream(writer, text)
                return
            body = json.dumps(_message(text)).encode()
        else:
            body = json.dumps({"ok": True, "path": req.target}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                     b"content-length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()

    async def _stream(self, writer: asyncio.StreamWriter, text: str) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                     b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n")
        for event in sse_events(text, self.delta_size):
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            await writer.drain()
            if self.delay:
                await asyncio.sleep(self.delay)
        writer.write(b"0\r\n\r\n")
        await writer.drain()


def _message(text: str) -> dict:
    return {"id": "msg_mock", "type": "message", "role": "assistant", "model": "claude-mock",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}


def _sse(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def sse_events(text: str, delta_size: int) -> list[bytes]:
    """The Anthropic Messages stream for one text block, cut into deltas of ``delta_size`` chars."""
    start = _message("")
    start["content"] = []
    events = [_sse("message_start", {"type": "message_start", "message": start}),
              _sse("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}}),
              _sse("ping", {"type": "ping"})]
    for i in range(0, len(text), delta_size):
        events.append(_sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                   "delta": {"type": "text_delta",
                                                             "text": text[i:i + delta_size]}}))
    events += [_sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
               _sse("message_delta", {"type": "message_delta",
                                      "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                      "usage": {"output_tokens": 1}}),
               _sse("message_stop", {"type": "message_stop"})]
    return events


def _last_user_text(payload: dict) -> str:
    for message in reversed(payload.get("messages", [])):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


async def _read_request(reader: asyncio.StreamReader) -> Recorded | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if line]
    rec = Recorded(method, target, headers, b"")  # type: ignore[arg-type]
    if (rec.header("transfer-encoding") or "").lower() == "chunked":
        rec.body = await _read_chunked(reader)
    elif rec.header("content-length"):
        rec.body = await reader.readexactly(int(rec.header("content-length") or 0))
    return rec


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)
