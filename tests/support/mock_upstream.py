"""A mock Anthropic upstream on loopback that records exactly what it received.

It speaks HTTPS (HTTP/1.1, keep-alive, Content-Length or chunked request bodies) with a certificate
from the local CA, because the gateway only talks to a verified TLS upstream. Every request is
recorded byte for byte (``Recorded.body`` is the raw body after de-chunking) so tests assert on what
the provider would have seen, never on what the gateway says it did.

Answers, chosen by the request:
- ``POST /v1/messages``: a Messages API answer whose text echoes the last user text it received
  (so pseudonyms come back and the restore can be checked); ``"stream": true`` streams it as SSE
  in small deltas.
  - With ``"thinking": {"type": "enabled"}`` (or ``adaptive``) the answer starts with a thinking
    block: what the mock "thought" quotes the text it received (pseudonyms) and invents ID-shaped
    values (an IP, an account), and carries a signature the mock made (HMAC over the thinking
    text under a key of its own). Like the API, it answers 400 (``invalid_request_error``) to any
    request whose history holds a thinking block whose signature does not verify: a gateway that
    changes one byte of signed thinking breaks the conversation here as it would upstream.
  - With ``tool_use=True`` and ``tools`` in the request, a user turn that is not a tool result is
    answered with a call of the first tool, its input ``{"query": <the text received>}``
    (``stop_reason: tool_use``), or with the call a ``tool_use`` function picks from the request;
    a turn holding a ``tool_result`` is answered with text that echoes the result.
- anything else: ``{"ok": true, "path": ...}``.

Leak-scanning mode (``MockUpstream(..., originals=[...])``): every request is scanned by a
``LeakScanner`` (request target, every header name and value, body and chunked trailers) for every
planted original in every encoding a client or a bug could produce: raw, JSON escapes (``\\uXXXX``,
``\\/``, ``\\"``, also double-escaped), percent-encoding (``%3A``, ``+``), and base64 (standard and
URL-safe, all three alignments, found without decoding). Leaks are counted in ``leaks``; every
leak-proof test asserts ``upstream.leak_count == 0``.

Fault modes for the fault-injection tests: ``reset_after`` (RST the connection after that many SSE
events), ``record`` (False keeps only counters, for the soak run).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import socket
import ssl
import struct
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Recorded:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    trailers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


# --------------------------------------------------------------------------------------------------
# Leak scanner
# --------------------------------------------------------------------------------------------------

_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SIMPLE_ESCAPE = re.compile(r'\\([\\/"bfnrt])')
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "/": "/", '"': '"', "\\": "\\"}


def json_unescape(text: str) -> str:
    """Decode JSON string escapes wherever they are (works on partial or invalid JSON too)."""
    def u(m: re.Match) -> str:
        return chr(int(m.group(1), 16))
    text = _U_ESCAPE.sub(u, text)
    # Surrogate pairs from \ud83d\ude00 become one character; lone ones stay as they are.
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _SIMPLE_ESCAPE.sub(lambda m: _SIMPLE[m.group(1)], text)


def _b64_needles(original: str) -> list[str]:
    """Substrings that appear in any base64 text whose decoded bytes contain ``original``."""
    raw = original.encode()
    out = []
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + raw).decode()
        start, end = (shift * 8 + 5) // 6, ((shift + len(raw)) * 8) // 6
        needle = enc[start:end]
        if len(needle) >= 8:
            out += [needle, needle.replace("+", "-").replace("/", "_")]
    return sorted(set(out))


@dataclass(frozen=True)
class Leak:
    where: str          # "target", "header:<name>", "body", "trailer:<name>"
    original: str
    encoding: str       # "raw", "json-escape", "percent", "base64"


class LeakScanner:
    """Finds planted originals in any text, in every encoding we can think of."""

    def __init__(self, originals: list[str]):
        self.originals = sorted(set(originals))
        self._b64 = {o: _b64_needles(o) for o in self.originals}

    def views(self, text: str) -> list[tuple[str, str]]:
        """(encoding, decoded text) pairs: escapes undone up to three levels deep, each also
        percent-decoded (``%XX`` and ``+``) up to two levels deep."""
        views = [("raw", text)]
        current = text
        for _ in range(3):
            nxt = json_unescape(current)
            if nxt == current:
                break
            views.append(("json-escape", nxt))
            current = nxt
        for name, view in list(views):
            current = view
            for _ in range(2):
                nxt = urllib.parse.unquote_plus(current, errors="replace")
                if nxt == current:
                    break
                views.append(("percent" if name == "raw" else "json-escape+percent", nxt))
                current = nxt
        return views

    def scan(self, data: bytes | str, where: str) -> list[Leak]:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        found = []
        views = self.views(text)
        for original in self.originals:
            for encoding, view in views:
                if original in view:
                    found.append(Leak(where, original, encoding))
                    break
            else:
                if any(n in view for _, view in views for n in self._b64[original]):
                    found.append(Leak(where, original, "base64"))
        return found

    def scan_request(self, req: Recorded) -> list[Leak]:
        found = self.scan(req.target, "target")
        for name, value in req.headers:
            found += self.scan(f"{name}: {value}", f"header:{name.lower()}")
        found += self.scan(req.body, "body")
        for name, value in req.trailers:
            found += self.scan(f"{name}: {value}", f"trailer:{name.lower()}")
        return found


@dataclass
class MockUpstream:
    certfile: str
    keyfile: str
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Recorded] = field(default_factory=list)
    delta_size: int = 7          # bytes of text per SSE delta
    delay: float = 0.0           # seconds between SSE events
    originals: list[str] | None = None   # leak-scanning mode: scan every request for these
    record: bool = True          # False: count requests (and leaks) without keeping them (soak)
    reset_after: int | None = None       # RST the connection after this many SSE events
    tunnel: bool = False         # accept CONNECT (200) and Upgrade (101), then scan the raw tunnel bytes
    # Answer a user turn with a tool call: True calls the request's first tool with {"query": text};
    # a function of the request payload returns (tool name, input), or None for a plain answer.
    tool_use: bool | Callable[[dict], tuple[str, dict] | None] = False
    signature_errors: int = 0    # requests refused (400) for a thinking block whose signature fails
    thinking_key: bytes = field(default_factory=lambda: os.urandom(32))
    requests: int = 0            # every request read, recorded or not
    leaks: list[Leak] = field(default_factory=list)
    leak_kinds: Counter = field(default_factory=Counter)   # (where, encoding) -> count

    @property
    def leak_count(self) -> int:
        return len(self.leaks) + (sum(self.leak_kinds.values()) if not self.record else 0)

    def leak_report(self) -> str:
        return ", ".join(f"{leak.original} in {leak.where} ({leak.encoding})" for leak in self.leaks[:20])

    def sign(self, thinking: str) -> str:
        """The signature the mock gives (and demands for) a thinking block with this text."""
        mac = hmac.new(self.thinking_key, thinking.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        return base64.b64encode(b"mock-sig:" + mac).decode()

    def bad_signature(self, payload: dict) -> str | None:
        """The API's 400 message for the first thinking block in the history whose signature fails."""
        for i, message in enumerate(payload.get("messages") or []):
            content = message.get("content") if isinstance(message, dict) else None
            for j, block in enumerate(content if isinstance(content, list) else []):
                if isinstance(block, dict) and block.get("type") == "thinking":
                    text, sig = block.get("thinking"), block.get("signature")
                    if not (isinstance(text, str) and isinstance(sig, str)
                            and hmac.compare_digest(sig, self.sign(text))):
                        return f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
        return None

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
                self.requests += 1
                self._scan(req)
                if self.record:
                    self.received.append(req)
                if self.tunnel and (req.method == "CONNECT" or req.header("upgrade")):
                    await self._tunnel(req, reader, writer)
                    break
                await self._answer(req, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ssl.SSLError,
                ValueError, _Reset):
            pass
        finally:
            writer.close()

    async def _tunnel(self, req: Recorded, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Switch protocols as a hostile or buggy upstream would; whatever the client then sends
        through the tunnel is recorded as one more request (method ``TUNNEL``) and scanned."""
        if req.method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: %s\r\n\r\n"
                         % (req.header("upgrade") or "").encode("latin-1"))
        await writer.drain()
        data = b""
        try:
            while len(data) < 1 << 20:
                chunk = await asyncio.wait_for(reader.read(65536), 2.0)
                if not chunk:
                    break
                data += chunk
        except (TimeoutError, ConnectionError):
            pass
        tunnel = Recorded("TUNNEL", req.target, [], data)
        self._scan(tunnel)
        if self.record:
            self.received.append(tunnel)

    def _scan(self, req: Recorded) -> None:
        if self.originals is None:
            return
        if not hasattr(self, "_scanner"):
            self._scanner = LeakScanner(self.originals)
        for leak in self._scanner.scan_request(req):
            if self.record:
                self.leaks.append(leak)
            else:
                self.leak_kinds[(leak.where, leak.encoding)] += 1
                if len(self.leaks) < 20:
                    self.leaks.append(leak)

    async def _answer(self, req: Recorded, writer: asyncio.StreamWriter) -> None:
        payload = None
        if req.method == "POST" and req.target.split("?")[0] == "/v1/messages":
            try:
                payload = json.loads(req.body)
            except ValueError:
                payload = None
        status = b"200 OK"
        if isinstance(payload, dict):
            refused = self.bad_signature(payload)
            if refused is not None:
                self.signature_errors += 1
                status = b"400 Bad Request"
                body = json.dumps({"type": "error", "error": {"type": "invalid_request_error",
                                                              "message": refused}}).encode()
            else:
                blocks, stop_reason = self._reply(payload)
                if payload.get("stream"):
                    await self._stream(writer, blocks, stop_reason)
                    return
                body = json.dumps(_message(blocks, stop_reason)).encode()
        else:
            body = json.dumps({"ok": True, "path": req.target}).encode()
        writer.write(b"HTTP/1.1 %s\r\ncontent-type: application/json\r\n"
                     b"content-length: %d\r\n\r\n" % (status, len(body)) + body)
        await writer.drain()

    def _reply(self, payload: dict) -> tuple[list[dict], str]:
        """The assistant's content blocks and stop reason for one request (see the module doc)."""
        text, result = _last_user_text(payload), _last_tool_result(payload)
        blocks: list[dict] = []
        thinking = payload.get("thinking")
        if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
            seen = result if result is not None else text
            thought = (f"The user wrote: {seen[:300]!r}. I could compare it with 10.99.1.7 in account "
                       f"999988887777, but that is only my example.")
            blocks.append({"type": "thinking", "thinking": thought, "signature": self.sign(thought)})
        tools = payload.get("tools")
        if result is not None:
            blocks.append({"type": "text", "text": f"The tool said: {result}"})
            return blocks, "end_turn"
        call = None
        if callable(self.tool_use):
            call = self.tool_use(payload)
        elif self.tool_use and isinstance(tools, list) and tools and isinstance(tools[0], dict):
            call = str(tools[0].get("name")), {"query": text}
        if call is not None:
            self._tool_calls = getattr(self, "_tool_calls", 0) + 1
            blocks.append({"type": "text", "text": "Let me look that up."})
            blocks.append({"type": "tool_use", "id": f"toolu_mock{self._tool_calls:04d}",
                           "name": call[0], "input": call[1]})
            return blocks, "tool_use"
        blocks.append({"type": "text", "text": text})
        return blocks, "end_turn"

    async def _stream(self, writer: asyncio.StreamWriter, blocks: list[dict], stop_reason: str) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                     b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n")
        for n, event in enumerate(sse_message(blocks, stop_reason, self.delta_size)):
            if self.reset_after is not None and n >= self.reset_after:
                _reset(writer)
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            await writer.drain()
            if self.delay:
                await asyncio.sleep(self.delay)
        writer.write(b"0\r\n\r\n")
        await writer.drain()


class _Reset(Exception):
    """The mock reset the connection on purpose."""


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0), as a crashing upstream would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    raise _Reset()


def _message(blocks: list[dict] | str, stop_reason: str = "end_turn") -> dict:
    content = [{"type": "text", "text": blocks}] if isinstance(blocks, str) else blocks
    return {"id": "msg_mock", "type": "message", "role": "assistant", "model": "claude-mock",
            "content": content, "stop_reason": stop_reason,
            "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}


def _sse(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def sse_message(blocks: list[dict], stop_reason: str, delta_size: int) -> list[bytes]:
    """The Anthropic Messages stream for these content blocks (text, thinking, tool_use), each cut
    into deltas of ``delta_size`` characters, as the API streams them."""
    start = _message([], stop_reason)
    start["stop_reason"] = None
    events = [_sse("message_start", {"type": "message_start", "message": start}), _sse("ping", {"type": "ping"})]
    for index, block in enumerate(blocks):
        kind = block["type"]
        if kind == "thinking":
            empty, deltas = {"type": "thinking", "thinking": "", "signature": ""}, [
                *({"type": "thinking_delta", "thinking": p} for p in _pieces(block["thinking"], delta_size)),
                {"type": "signature_delta", "signature": block["signature"]}]
        elif kind == "tool_use":
            empty = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": p}
                      for p in _pieces(json.dumps(block["input"]), delta_size)]
        else:
            empty = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"], delta_size)]
        events.append(_sse("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": empty}))
        events += [_sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
                   for d in deltas]
        events.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
    events += [_sse("message_delta", {"type": "message_delta",
                                      "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                      "usage": {"output_tokens": 1}}),
               _sse("message_stop", {"type": "message_stop"})]
    return events


def sse_events(text: str, delta_size: int) -> list[bytes]:
    """The Anthropic Messages stream for one text block, cut into deltas of ``delta_size`` chars."""
    return sse_message([{"type": "text", "text": text}], "end_turn", delta_size)


def _last_tool_result(payload: dict) -> str | None:
    """The text of the tool_result blocks in the last message, if it is a user turn holding any."""
    messages = payload.get("messages") or []
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    content = last.get("content") if last.get("role") == "user" else None
    results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"] \
        if isinstance(content, list) else []
    if not results:
        return None
    out = []
    for block in results:
        inner = block.get("content")
        if isinstance(inner, str):
            out.append(inner)
        elif isinstance(inner, list):
            out += [b["text"] for b in inner if isinstance(b, dict) and isinstance(b.get("text"), str)]
    return "\n".join(out)


def _last_user_text(payload: dict) -> str:
    for message in reversed(payload.get("messages", [])):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if not isinstance(content, list):
            return ""
        return "".join(b.get("text", "") for b in content if isinstance(b, dict) and isinstance(b.get("text"), str))
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
        rec.body = await _read_chunked(reader, rec.trailers)
    elif rec.header("content-length"):
        rec.body = await reader.readexactly(int(rec.header("content-length") or 0))
    return rec


async def _read_chunked(reader: asyncio.StreamReader, trailers: list[tuple[str, str]] | None = None) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                name, _, value = line.decode("latin-1").partition(":")
                if trailers is not None:
                    trailers.append((name.strip(), value.strip()))
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)
