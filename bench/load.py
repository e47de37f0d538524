"""Load and latency measurements: ``hey`` for request/response runs, a raw-socket client for the SSE
time to first byte, and /proc CPU accounting of every process in the path around each run."""

from __future__ import annotations

import csv
import io
import resource
import socket
import ssl
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.setups import cpu_ms, cpu_ticks

HEADERS = ["anthropic-version: 2023-06-01", "x-api-key: bench-not-a-key"]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s) + 0.5) - 1))]


@dataclass
class Run:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_ms: dict[str, float] = field(default_factory=dict)     # per role, whole run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def cpu_per_request(self) -> dict[str, float]:
        return {role: ms / self.requests for role, ms in self.cpu_ms.items()} if self.requests else {}


class CpuMeter:
    def __init__(self, pids: dict[str, list[int]]):
        self.pids = pids

    def read(self) -> dict[str, int]:
        return {role: sum(cpu_ticks(p) for p in pids) for role, pids in self.pids.items()}


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def hey(url: str, body_file: Path, concurrency: int, seconds: float, meter: CpuMeter) -> Run:
    cmd = ["hey", "-z", f"{seconds}s", "-c", str(concurrency), "-m", "POST", "-T", "application/json",
           "-D", str(body_file), "-disable-compression", "-t", "60", "-o", "csv"]
    for h in HEADERS:
        cmd += ["-H", h]
    before, client_before = meter.read(), _children_cpu()
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 120)
    after, client_after = meter.read(), _children_cpu()
    if out.returncode:
        raise RuntimeError(f"hey failed: {out.stderr[-2000:]}")
    times, errors, end = [], 0, 0.0
    for row in csv.DictReader(io.StringIO(out.stdout)):
        rt = float(row["response-time"])
        if row["status-code"] != "200":
            errors += 1
            continue
        times.append(rt * 1000)
        end = max(end, float(row["offset"]) + rt)
    cpu = {role: cpu_ms(after[role] - before[role]) for role in after}
    cpu["client (hey)"] = (client_after - client_before) * 1000
    return Run(len(times), errors, end, pct(times, 50), pct(times, 99), cpu)


# --------------------------------------------------------------------------------------------------
# SSE: time to the first content_block_delta, over one keep-alive connection
# --------------------------------------------------------------------------------------------------


class _Conn:
    def __init__(self, port: int, tls: bool):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def _until(self, sep: bytes) -> bytes:
        while (i := self.buf.find(sep)) < 0:
            self._fill()
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def _exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def stream(self, body: bytes) -> tuple[float, float, bytes]:
        """(seconds to the first content_block_delta, seconds to the end, body)."""
        head = (b"POST /v1/messages HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n"
                + b"".join(h.encode() + b"\r\n" for h in HEADERS)
                + b"content-length: %d\r\n\r\n" % len(body))
        t0 = time.perf_counter()
        self.sock.sendall(head + body)
        status, *lines = self._until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        if " 200 " not in status + " ":
            raise RuntimeError(f"stream answered {status}")
        hdrs = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines)}
        got, first = b"", None
        if "chunked" in hdrs.get("transfer-encoding", ""):
            while True:
                size = int(self._until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._until(b"\r\n")
                    break
                got += self._exactly(size)
                self._exactly(2)
                if first is None and b"content_block_delta" in got:
                    first = time.perf_counter() - t0
        else:
            n = int(hdrs.get("content-length", "0"))
            while True:
                take = self.buf[:n - len(got)]        # what arrived with the headers first
                got, self.buf = got + take, self.buf[len(take):]
                if first is None and b"content_block_delta" in got:
                    first = time.perf_counter() - t0
                if len(got) >= n:
                    break
                self._fill()
        return first if first is not None else float("nan"), time.perf_counter() - t0, got

    def close(self) -> None:
        self.sock.close()


@dataclass
class StreamRun:
    n: int
    ttfb_p50_ms: float
    ttfb_p99_ms: float
    total_p50_ms: float


@dataclass
class ConversationRun:
    turns: int
    bytes_min: int
    bytes_max: int
    p50_ms: float
    p99_ms: float


def conversation_run(port: int, tls: bool, talks: list[list[bytes]]) -> ConversationRun:
    """One client sends each conversation's turns in order over one keep-alive connection, each body
    once; a conversation's first turn (its start, read whole) is not timed."""
    times: list[float] = []
    conn = _Conn(port, tls)
    try:
        for turns in talks:
            conn.stream(turns[0])
            times += [conn.stream(body)[1] * 1000 for body in turns[1:]]
    finally:
        conn.close()
    sizes = [len(b) for turns in talks for b in turns[1:]]
    return ConversationRun(len(times), min(sizes), max(sizes), pct(times, 50), pct(times, 99))


def sse(port: int, tls: bool, body: bytes, n: int, warmup: int = 3) -> tuple[StreamRun, bytes]:
    conn = _Conn(port, tls)
    try:
        for _ in range(warmup):
            conn.stream(body)
        firsts, totals, last = [], [], b""
        for _ in range(n):
            first, total, last = conn.stream(body)
            firsts.append(first * 1000)
            totals.append(total * 1000)
    finally:
        conn.close()
    return StreamRun(n, pct(firsts, 50), pct(firsts, 99), statistics.median(totals)), last
