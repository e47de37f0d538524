"""The agent's Prometheus metrics: histograms, the text exposition format, and a tiny HTTP endpoint.

``python -m agent serve --metrics-listen 127.0.0.1:9101`` serves ``GET /metrics`` (Prometheus text
format 0.0.4) from the agent's own event loop: no thread, no new dependency. Every agent process
has its own metrics port (``haproxy/run.sh`` gives process *i* the port ``AGENT_METRICS_PORT + i``);
Prometheus scrapes each and ``sum()`` aggregates. One shared port (like the SPOP port with
SO_REUSEPORT) would answer each scrape from a random process, so it is refused.

Labels are fixed words only: HTTP statuses, causes (``agent/service/handlers.py`` makes them tokens) and
identifier kinds from the detector packs. No label or value ever carries an original identifier.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

log = logging.getLogger("agent.service.metrics")

PREFIX = "aws_mask_agent"
# Masking time (seconds): a small JSON body takes tens of microseconds, an 8 MiB one up to seconds.
TIME_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                2.5, 5.0, 10.0)
# Body sizes (bytes): 1 KiB .. 8 MiB (GATEWAY_MAX_BODY's default) and beyond.
SIZE_BUCKETS = tuple(float(1024 * 4 ** i) for i in range(8)) + (8388608.0, 16777216.0)
# Restore-map entries per request.
ENTRY_BUCKETS = (0.0, 1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0)


class Histogram:
    """A Prometheus histogram without labels: cumulative buckets, sum and count."""

    def __init__(self, buckets: Sequence[float]):
        self.buckets = tuple(sorted(buckets))
        self.counts = [0] * len(self.buckets)      # per bucket, not cumulative
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.total += value
        self.count += 1
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
                break

    def lines(self, name: str) -> list[str]:
        out, running = [], 0
        for bound, n in zip(self.buckets, self.counts, strict=True):
            running += n
            out.append(f'{name}_bucket{{le="{_num(bound)}"}} {running}')
        out.append(f'{name}_bucket{{le="+Inf"}} {self.count}')
        out.append(f"{name}_sum {_num(self.total)}")
        out.append(f"{name}_count {self.count}")
        return out


def _num(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Family:
    """One metric family being written: HELP, TYPE, samples."""

    def __init__(self, out: list[str], name: str, kind: str, help_text: str):
        self.out, self.name = out, f"{PREFIX}_{name}"
        out.append(f"# HELP {self.name} {help_text}")
        out.append(f"# TYPE {self.name} {kind}")

    def sample(self, value: float, suffix: str = "", **labels: object) -> None:
        text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        self.out.append(f"{self.name}{suffix}{{{text}}} {_num(value)}" if text else
                        f"{self.name}{suffix} {_num(value)}")

    def samples(self, label: str, items: Iterable[tuple[object, float]]) -> None:
        for key, value in items:
            self.sample(value, **{label: key})


def render(metrics: Any, extra: dict[str, float] | None = None) -> str:
    """The exposition text for a ``agent.service.handlers.Metrics`` (plus gauges such as open connections)."""
    out: list[str] = []
    Family(out, "requests_total", "counter", "Mask requests answered, by HTTP status the gateway will give.") \
        .samples("status", sorted(metrics.by_status.items()))
    Family(out, "errors_total", "counter", "Mask requests not masked (status != 200), by cause.") \
        .samples("cause", sorted(metrics.errors.items()))
    Family(out, "identifiers_masked_total", "counter", "Identifiers replaced by pseudonyms, by kind.") \
        .samples("kind", sorted(metrics.identifiers.items()))
    Family(out, "unknown_messages_total", "counter", "SPOE messages with a name no handler knows.") \
        .sample(metrics.unknown_messages)
    Family(out, "request_body_bytes_total", "counter", "Request body bytes received for masking.") \
        .sample(metrics.bytes_in)
    Family(out, "masked_body_bytes_total", "counter", "Masked body bytes sent back.").sample(metrics.bytes_out)
    out.extend(_hist(metrics.mask_seconds, "mask_seconds", "Time to mask one body (engine time)."))
    out.extend(_hist(metrics.body_bytes, "request_body_bytes", "Size of each request body sent to the agent."))
    out.extend(_hist(metrics.map_entries, "restore_map_entries",
                     "Pseudonym->original pairs in each restore map sent back."))
    out.extend(_hist(metrics.map_bytes, "restore_map_bytes", "Size of each encoded restore map."))
    Family(out, "reloads_total", "counter", "Detector pack reloads (SIGHUP), by result.") \
        .samples("result", sorted(metrics.reloads.items()))
    Family(out, "detections_total", "counter", "Masked bodies by where detection ran: agent, helper (a "
           "second process, large bodies), agent_after_helper_failure.") \
        .samples("where", sorted(metrics.detected_by.items()))
    for name, value in sorted((extra or {}).items()):
        Family(out, name, "gauge", _GAUGE_HELP.get(name, name)).sample(value)
    return "\n".join(out) + "\n"


_GAUGE_HELP = {
    "connections": "SPOP connections open from HAProxy.",
    "packs_generation": "Detector pack generation in use (1 at start, +1 per successful reload).",
    "up": "1 while the agent serves.",
}


def _hist(h: Histogram, name: str, help_text: str) -> list[str]:
    full = f"{PREFIX}_{name}"
    return [f"# HELP {full} {help_text}", f"# TYPE {full} histogram", *h.lines(full)]


# --------------------------------------------------------------------------------------------------
# HTTP endpoint
# --------------------------------------------------------------------------------------------------

MAX_REQUEST_HEAD = 8192


class MetricsServer:
    """``GET /metrics`` (and ``/``) on a loopback port; anything else is 404/405. HTTP/1.0 style: one
    request per connection, then close. The request line is never logged (it is client text)."""

    def __init__(self, text: Callable[[], str]):
        self.text = text
        self._server: asyncio.Server | None = None

    async def listen(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._handle, host, port, reuse_address=True)
        return self._server.sockets[0].getsockname()[:2]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            status, ctype, body = self._answer(head[:MAX_REQUEST_HEAD])
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                     "Connection: close\r\n\r\n".encode() + body)
        try:
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    def _answer(self, head: bytes) -> tuple[str, str, bytes]:
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) != 3:
            return "400 Bad Request", "text/plain", b"bad request\n"
        method, target = parts[0], parts[1].split(b"?", 1)[0]
        if target not in (b"/metrics", b"/"):
            return "404 Not Found", "text/plain", b"not found; try /metrics\n"
        if method not in (b"GET", b"HEAD"):
            return "405 Method Not Allowed", "text/plain", b"GET only\n"
        body = self.text().encode()
        return "200 OK", "text/plain; version=0.0.4; charset=utf-8", b"" if method == b"HEAD" else body
