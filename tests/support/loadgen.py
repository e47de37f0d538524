"""Load for the fault, soak and fuzz tests: an asyncio HTTP client (httpx) in a background thread.

Two shapes:
- ``Load(url, concurrency=n)``: n workers send requests back to back (closed loop), for fault tests;
- ``Load(url, rate=r)``: r requests per second whatever the latency (open loop), for the soak.

Every request carries the planted identifiers (tests/support/planted.py), half of them streamed. Each
outcome is recorded as ``Result`` (start time, latency, status or transport error, whether an error
answer had Anthropic's shape), so tests assert on what clients saw.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field

try:                # the HTTP client the anthropic SDK pins (its fork of httpx)
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]

from tests.support.planted import PROMPT


def body(n: int, stream: bool) -> bytes:
    return json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 64, "stream": stream,
                       "system": f"request {n}",
                       "messages": [{"role": "user", "content": PROMPT}]}).encode()


@dataclass
class Result:
    start: float             # time.monotonic() when the request was sent
    latency: float           # seconds until the whole answer was read (or the error)
    status: int | None       # HTTP status, None for a transport error
    error: str = ""          # transport error class name, or "shape" for a non-Anthropic error body
    stream: bool = False
    restored: bool = True    # a 200 whose text carries the original prompt (pseudonyms restored)
    retried: bool = False    # sent again after the connection closed before any answer (see Load)


def is_anthropic_error(raw: bytes) -> bool:
    try:
        payload = json.loads(raw)
    except ValueError:
        return False
    return (isinstance(payload, dict) and payload.get("type") == "error"
            and isinstance(payload.get("error"), dict) and isinstance(payload["error"].get("type"), str)
            and isinstance(payload["error"].get("message"), str))


@dataclass
class Load:
    url: str
    concurrency: int = 4
    rate: float | None = None        # open loop: requests per second
    timeout: float = 20.0
    check_restore: bool = True
    # Send a request once more when its keep-alive connection was closed before any byte of an answer
    # came back, as the Anthropic SDKs do (they retry connection errors). HTTP/1.1 lets a server close
    # an idle connection at any time; during a reload HAProxy's old worker closes each connection
    # once its response is out, and a client reusing it at that moment races the close.
    retry_unanswered: bool = False
    results: list[Result] = field(default_factory=list)

    def start(self) -> Load:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[Result]:
        self._stop.set()
        self._thread.join(self.timeout + 10)
        assert not self._thread.is_alive(), "load generator did not stop"
        return self.results

    # ---- internals ------------------------------------------------------------------------------

    async def _main(self) -> None:
        limits = httpx.Limits(max_connections=max(self.concurrency, 64), max_keepalive_connections=16)
        async with httpx.AsyncClient(base_url=self.url, timeout=self.timeout, limits=limits) as client:
            if self.rate is None:
                await asyncio.gather(*(self._worker(client, i) for i in range(self.concurrency)))
            else:
                await self._open_loop(client)

    async def _worker(self, client: httpx.AsyncClient, i: int) -> None:
        n = i
        while not self._stop.is_set():
            await self._one(client, n)
            n += self.concurrency

    async def _open_loop(self, client: httpx.AsyncClient) -> None:
        assert self.rate
        tasks: set[asyncio.Task] = set()
        t0 = time.monotonic()
        n = 0
        while not self._stop.is_set():
            due = t0 + n / self.rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self._one(client, n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        if tasks:
            await asyncio.wait(tasks, timeout=self.timeout + 5)

    async def _one(self, client: httpx.AsyncClient, n: int) -> None:
        result = await self._send(client, n)
        if result.error.startswith("RemoteProtocolError: Server disconnected without sending a response") \
                and self.retry_unanswered:
            result = await self._send(client, n)
            result.retried = True
        self.results.append(result)

    async def _send(self, client: httpx.AsyncClient, n: int) -> Result:
        stream = n % 2 == 1
        start = time.monotonic()
        headers = {"content-type": "application/json", "x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
        try:
            async with client.stream("POST", "/v1/messages?beta=true", content=body(n, stream),
                                     headers=headers) as resp:
                raw = await resp.aread()
            result = Result(start, time.monotonic() - start, resp.status_code, stream=stream)
            if resp.status_code != 200:
                result.error = "" if is_anthropic_error(raw) else "shape"
            elif self.check_restore:
                result.restored = _restored(raw, stream)
        except (httpx.HTTPError, OSError) as exc:
            result = Result(start, time.monotonic() - start, None, f"{type(exc).__name__}: {str(exc)[:120]}", stream)
        return result


def _restored(raw: bytes, stream: bool) -> bool:
    if not stream:
        try:
            return json.loads(raw)["content"][0]["text"] == PROMPT
        except (ValueError, KeyError, IndexError, TypeError):
            return False
    text = ""
    for line in raw.decode("utf-8", "replace").splitlines():
        if line.startswith("data: "):
            try:
                event = json.loads(line[6:])
            except ValueError:
                return False
            if event.get("type") == "content_block_delta":
                text += event["delta"].get("text", "")
    return text == PROMPT


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
