"""asyncio SPOP server: ``python -m agent serve``. HAProxy connects here and sends bodies to mask.

A thin shell around the sans-IO codec in ``agent/spop/``: one connection is one
``spop.AgentConnection``; bytes go in, events come out, and NOTIFY messages are dispatched by SPOE
message name to handlers (``{"mask": MaskHandler}``), the way coraza-spoa does it. With pipelining,
each NOTIFY runs as its own task and its ACK goes out when ready, in any order (ACKs carry the
stream-id/frame-id of their NOTIFY).

Metrics: ``--metrics-listen HOST:PORT`` serves Prometheus text at ``/metrics`` (``agent/service/metrics.py``),
one port per process.

Liveness: ``--heartbeat-fd FD`` (given by the supervisor, ``agent/service/supervisor.py``) makes the
event loop write one byte to that pipe every ``--heartbeat-interval`` seconds. The supervisor kills
an agent whose beats stop (its loop is stuck in a body, or the process is stopped) and starts a new
one; a broken pipe means the supervisor is gone, and the agent then stops as on SIGTERM.

Signals: SIGTERM/SIGINT drain (stop accepting, stop reading, finish the frames in flight, send
AGENT-DISCONNECT status 0, exit 0); SIGHUP reloads the detector packs (a broken config keeps the old
ones); SIGUSR1 logs the metrics counters.

Why one thread: masking is CPU-bound Python that holds the GIL, so a thread pool would add hand-offs
and no parallelism. Each process runs masking in its event loop thread, one body at a time; run
several processes (the Makefile/ops do) to use several cores. A large JSON body that arrives while
nothing else waits in this process also uses a second core: its detection runs in this process's
helper (``agent/engine/detect_helper.py``, ``--detect-helper-min-bytes``) while the agent validates it.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import os
import signal
import stat
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agent import spop
from agent.engine.detect_helper import DEFAULT_MIN_BYTES as DEFAULT_HELPER_MIN_BYTES
from agent.runtime import CPUS, tune_malloc
from agent.service.handlers import Handler, MaskerHolder, MaskHandler, Metrics, RequestContext, load_masker
from agent.service.metrics import MetricsServer, render

log = logging.getLogger("agent.service.server")

DEFAULT_LISTEN = "127.0.0.1:12345"
# HAProxy keeps at most max-waiting-frames (default 20) NOTIFYs in flight per connection; a peer that
# sends far more is not HAProxy, so reading pauses until some are answered.
MAX_IN_FLIGHT = 64
# HAProxy gives up on a NOTIFY after "timeout processing" (GATEWAY_MASK_TIMEOUT, 10 s by default);
# waiting longer than that on shutdown serves nobody.
DEFAULT_DRAIN_TIMEOUT = 15.0


# --------------------------------------------------------------------------------------------------
# One connection
# --------------------------------------------------------------------------------------------------


class AgentProtocol(asyncio.Protocol):
    """Feeds one socket's bytes to a codec and runs the handlers for its NOTIFYs."""

    def __init__(self, server: AgentServer):
        self.server = server
        self.codec = spop.AgentConnection(max_frame_size=server.max_frame_size, pipelining=server.pipelining)
        self.transport: asyncio.Transport | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.draining = False
        self.reading_paused = False
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # ---- asyncio callbacks ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)
        if self.server.draining:
            self.begin_drain()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.codec.receive_data(data)
        except spop.SpopError as err:
            log.warning("protocol error, disconnecting", extra={"fields": {
                "event": "protocol_error", "status": int(err.status), "detail": err.message}})
            self.disconnect(err.status, err.message)
            return
        for event in events:
            self._on_event(event)

    def eof_received(self) -> bool | None:
        return None      # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        for task in self.tasks:
            task.cancel()     # HAProxy is gone: nobody can receive these ACKs
        self.server.connections.discard(self)
        if not self.closed.done():
            self.closed.set_result(None)

    # ---- events -----------------------------------------------------------------------------------

    def _on_event(self, event: spop.Event) -> None:
        if isinstance(event, spop.Hello):
            log.debug("hello", extra={"fields": {
                "event": "hello", "healthcheck": event.healthcheck, "engine_id": event.engine_id,
                "haproxy_versions": ",".join(event.haproxy_versions),
                "haproxy_max_frame_size": event.haproxy_max_frame_size,
                "max_frame_size": event.max_frame_size,
                "haproxy_capabilities": ",".join(sorted(event.haproxy_capabilities)),
                "capabilities": ",".join(sorted(event.capabilities))}})
            self._write(self.codec.send_agent_hello())
            if event.healthcheck:
                self._close()            # 3.2.3: healthcheck = AGENT-HELLO + close()
        elif isinstance(event, spop.Notify):
            self._start(event)
        elif isinstance(event, spop.Disconnect):
            log.info("HAProxy disconnected", extra={"fields": {
                "event": "haproxy_disconnect", "status": event.status_code,
                "detail": event.message[:spop.MAX_DISCONNECT_MESSAGE]}})
            self.disconnect(spop.Status.NORMAL)     # 3.2.8: answer, then close

    def _start(self, notify: spop.Notify) -> None:
        task = asyncio.get_running_loop().create_task(self._answer(notify))
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        if len(self.tasks) >= MAX_IN_FLIGHT and self.transport and not self.reading_paused:
            self.transport.pause_reading()
            self.reading_paused = True

    async def _answer(self, notify: spop.Notify) -> None:
        ctx = RequestContext(notify.stream_id, notify.frame_id, self.codec.frame_limit, self.server.in_flight)
        actions: list[spop.Action] = []
        for message in notify.messages:
            actions.extend(await self.server.dispatch(message, ctx))
        self._send_ack(notify, actions)

    def _send_ack(self, notify: spop.Notify, actions: list[spop.Action]) -> None:
        if self.transport is None or self.transport.is_closing() or self.codec.state is not spop.State.READY:
            return
        try:
            data = self.codec.send_ack(notify.stream_id, notify.frame_id, actions)
        except spop.SpopError as err:
            # The handler should have sized its answer (the mask handler sends 413 itself); if the
            # ACK still cannot be sent, an ACK without variables makes HAProxy fail closed (503).
            log.error("ACK could not be encoded; sending it without variables", extra={"fields": {
                "event": "ack_error", "status": int(err.status), "detail": err.message}})
            try:
                data = self.codec.send_ack(notify.stream_id, notify.frame_id, [])
            except spop.SpopError:
                return
        self._write(data)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("NOTIFY task failed", extra={"fields": {"exception": type(task.exception()).__name__}})
        room = len(self.tasks) < MAX_IN_FLIGHT // 2
        if self.reading_paused and room and not self.draining and self.transport:
            self.transport.resume_reading()
            self.reading_paused = False
        if self.draining and not self.tasks:
            self.disconnect(spop.Status.NORMAL)

    # ---- closing ------------------------------------------------------------------------------

    def begin_drain(self) -> None:
        """Stop taking frames; once the ones in flight are answered, say goodbye (status 0)."""
        self.draining = True
        if self.transport and not self.transport.is_closing():
            self.transport.pause_reading()
            self.reading_paused = True
        if not self.tasks:
            self.disconnect(spop.Status.NORMAL)

    def disconnect(self, status: spop.Status | int, message: str | None = None) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self._write(self.codec.send_disconnect(status, message))
        self._close()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()      # flushes what was written, then closes


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------


class AgentServer:
    """Accepts SPOP connections and dispatches NOTIFY messages by name to ``handlers``.

    Unknown message names are acknowledged with no actions (HAProxy then sets no variable, which the
    gateway config treats as a failure).
    """

    def __init__(self, handlers: Mapping[str, Handler], *, max_frame_size: int = spop.DEFAULT_MAX_FRAME_SIZE,
                 pipelining: bool = True, metrics: Metrics | None = None):
        self.handlers = dict(handlers)
        self.max_frame_size = max_frame_size
        self.pipelining = pipelining
        self.metrics = metrics if metrics is not None else Metrics()
        self.connections: set[AgentProtocol] = set()
        self.draining = False
        self._servers: list[asyncio.Server] = []
        self._unix_paths: list[Path] = []

    async def dispatch(self, message: spop.Message, ctx: RequestContext) -> list[spop.Action]:
        handler = self.handlers.get(message.name)
        if handler is None:
            self.metrics.unknown_messages += 1
            log.warning("unknown SPOE message, acknowledged without actions",
                        extra={"fields": {"event": "unknown_message", "message": message.name[:64]}})
            return []
        try:
            return await handler(message, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:     # never let one message take the connection down
            log.error("handler failed", extra={"fields": {"message": message.name[:64],
                                                          "exception": type(exc).__name__}})
            return []

    def in_flight(self) -> int:
        """NOTIFYs received on any connection and not answered yet."""
        return sum(len(conn.tasks) for conn in self.connections)

    async def listen_tcp(self, host: str, port: int, reuse_port: bool = False) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: AgentProtocol(self), host, port, reuse_address=True,
                                          reuse_port=reuse_port or None)
        self._servers.append(server)
        return server.sockets[0].getsockname()[:2]

    async def listen_unix(self, path: str | Path) -> Path:
        path = Path(path)
        _remove_stale_socket(path)
        loop = asyncio.get_running_loop()
        server = await loop.create_unix_server(lambda: AgentProtocol(self), str(path))
        self._servers.append(server)
        self._unix_paths.append(path)
        return path

    async def shutdown(self, timeout: float = DEFAULT_DRAIN_TIMEOUT) -> None:
        """Stop accepting, let every connection finish its frames, then close everything."""
        self.draining = True
        for server in self._servers:
            server.close()
        conns = list(self.connections)
        for conn in conns:
            conn.begin_drain()
        pending = [c.closed for c in conns if not c.closed.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=timeout)
            if late:
                log.warning("drain timeout; closing connections with frames in flight",
                            extra={"fields": {"event": "drain_timeout", "connections": len(late)}})
                for conn in conns:
                    conn.disconnect(spop.Status.TIMEOUT, "agent shutting down: drain timeout")
        for server in self._servers:
            await server.wait_closed()
        for path in self._unix_paths:
            _remove_stale_socket(path)


def _remove_stale_socket(path: Path) -> None:
    try:
        if stat.S_ISSOCK(path.stat().st_mode):
            path.unlink()
    except FileNotFoundError:
        pass


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServeConfig:
    host: str | None = "127.0.0.1"
    port: int = 12345
    unix: str | None = None
    max_frame_size: int = spop.DEFAULT_MAX_FRAME_SIZE
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT
    reuse_port: bool = False
    metrics_host: str | None = None
    metrics_port: int = 0
    heartbeat_fd: int | None = None
    heartbeat_interval: float = 0.5


class ConfigError(ValueError):
    pass


REMOTE_REFUSED = (
    "refusing to listen on {addr}: it is not a loopback address. The agent receives whole request bodies "
    "in clear text and SPOP has neither TLS nor authentication, so anyone who can reach the port can read "
    "what is sent to it and forge masking answers. Listen on 127.0.0.1/::1 or a --unix socket next to "
    "HAProxy, or pass --allow-remote if the network between HAProxy and the agent is private (e.g. a "
    "container network)."
)


def parse_listen(value: str, allow_remote: bool) -> tuple[str, int]:
    """``HOST:PORT`` or ``[V6]:PORT``; non-loopback hosts only with ``allow_remote``."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"--listen wants HOST:PORT (got {value!r})")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not allow_remote and not _is_loopback(host):
        raise ConfigError(REMOTE_REFUSED.format(addr=value))
    return host, int(port_text)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False       # a host name could resolve anywhere: treat it as remote


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m agent serve",
                                description="SPOP agent that masks AWS identifiers in request bodies.")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--listen", default=None, metavar="HOST:PORT",
                       help=f"TCP address to listen on (default {DEFAULT_LISTEN}; loopback only unless "
                            "--allow-remote)")
    where.add_argument("--unix", metavar="PATH", help="listen on a Unix socket instead of TCP")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --listen address (bodies travel in clear text)")
    p.add_argument("--key-file", required=True, metavar="PATH", help="secret key for the pseudonyms")
    p.add_argument("--packs-dir", metavar="DIR", default=None,
                   help="detector packs directory (default: built-in)")
    p.add_argument("--max-frame-size", type=int, default=spop.DEFAULT_MAX_FRAME_SIZE, metavar="BYTES",
                   help="largest SPOP frame accepted; HAProxy's smaller tune.bufsize-4 normally wins")
    p.add_argument("--drain-timeout", type=float, default=DEFAULT_DRAIN_TIMEOUT, metavar="SECONDS",
                   help="on SIGTERM, how long to wait for frames in flight")
    p.add_argument("--reuse-port", action="store_true",
                   help="share the port with other agent processes (SO_REUSEPORT): the kernel spreads "
                        "HAProxy's connections over them, so masking scales past one core")
    p.add_argument("--metrics-listen", default=None, metavar="HOST:PORT",
                   help="serve Prometheus metrics at http://HOST:PORT/metrics (loopback only unless "
                        "--allow-remote); give each agent process its own port")
    p.add_argument("--detect-helper-min-bytes", type=int, default=DEFAULT_HELPER_MIN_BYTES, metavar="BYTES",
                   help="JSON bodies of at least this size run detection in a helper process while the agent "
                        "validates them: a large request uses two cores, when no other request waits "
                        f"(default {DEFAULT_HELPER_MIN_BYTES}; 0: no helper process; none on a single CPU)")
    p.add_argument("--heartbeat-fd", type=int, default=None, metavar="FD",
                   help="write one byte to this inherited pipe every --heartbeat-interval seconds from the "
                        "event loop (the supervisor's liveness signal); stop when the pipe breaks")
    p.add_argument("--heartbeat-interval", type=float, default=0.5, metavar="SECONDS",
                   help="seconds between heartbeats (default 0.5)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def config_from_args(args: argparse.Namespace) -> ServeConfig:
    if not spop.MIN_FRAME_SIZE <= args.max_frame_size < (1 << 32):
        raise ConfigError(f"--max-frame-size must be in [{spop.MIN_FRAME_SIZE}, 2**32)")
    if args.detect_helper_min_bytes < 0:
        raise ConfigError("--detect-helper-min-bytes must be 0 (no helper) or a size in bytes")
    if args.heartbeat_fd is not None and not 0.01 <= args.heartbeat_interval <= 60:
        raise ConfigError("--heartbeat-interval must be in [0.01, 60] seconds")
    beat = {"heartbeat_fd": args.heartbeat_fd, "heartbeat_interval": args.heartbeat_interval}
    metrics_host, metrics_port = None, 0
    if args.metrics_listen:
        metrics_host, metrics_port = parse_listen(args.metrics_listen, args.allow_remote)
    if args.unix:
        return ServeConfig(host=None, port=0, unix=args.unix, max_frame_size=args.max_frame_size,
                           drain_timeout=args.drain_timeout, metrics_host=metrics_host,
                           metrics_port=metrics_port, **beat)
    host, port = parse_listen(args.listen or DEFAULT_LISTEN, args.allow_remote)
    if metrics_host is not None and metrics_port == port:
        raise ConfigError("--metrics-listen must use another port than --listen")
    return ServeConfig(host=host, port=port, max_frame_size=args.max_frame_size,
                       drain_timeout=args.drain_timeout, reuse_port=args.reuse_port,
                       metrics_host=metrics_host, metrics_port=metrics_port, **beat)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; handlers put their fields in ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name,
                "msg": record.getMessage(), "pid": record.process}
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, separators=(",", ":"), default=str)


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("agent")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


async def serve(config: ServeConfig, holder: MaskerHolder, metrics: Metrics | None = None) -> int:
    """Run until SIGTERM/SIGINT, then drain and return the exit status."""
    metrics = metrics if metrics is not None else Metrics()
    tune_malloc()
    server = AgentServer({"mask": MaskHandler(holder, metrics)}, max_frame_size=config.max_frame_size,
                         metrics=metrics)
    if config.unix:
        where = str(await server.listen_unix(config.unix))
    else:
        assert config.host is not None
        host, port = await server.listen_tcp(config.host, config.port, config.reuse_port)
        where = f"{host}:{port}"
    metrics_server = None
    if config.metrics_host is not None:
        def exposition() -> str:
            return render(metrics, {"connections": len(server.connections),
                                    "packs_generation": holder.generation, "up": 1})
        metrics_server = MetricsServer(exposition)
        # No SO_REUSEPORT here: a shared metrics port would answer each scrape from a random process.
        mhost, mport = await metrics_server.listen(config.metrics_host, config.metrics_port)
        log.info("metrics listening", extra={"fields": {"event": "metrics_listening",
                                                        "address": f"{mhost}:{mport}"}})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = _install_signals(loop, stop, holder, metrics)
    if config.heartbeat_fd is not None:
        _start_heartbeat(loop, config.heartbeat_fd, config.heartbeat_interval, stop)
    log.info("listening", extra={"fields": {"event": "listening", "address": where, "pid": os.getpid()}})
    try:
        await stop.wait()
        started = time.monotonic()
        await server.shutdown(config.drain_timeout)
        if metrics_server is not None:
            await metrics_server.close()
        drain_s = round(time.monotonic() - started, 3)
        log.info("stopped", extra={"fields": {"event": "stopped", "drain_s": drain_s,
                                              "metrics": metrics.snapshot()}})
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    return 0


def _start_heartbeat(loop: asyncio.AbstractEventLoop, fd: int, interval: float, stop: asyncio.Event) -> None:
    """One byte now (the supervisor's "ready": we listen) and every ``interval`` seconds after, from
    this event loop, so a loop stuck in a body (or a stopped process) stops beating."""
    os.set_blocking(fd, False)

    def beat() -> None:
        try:
            os.write(fd, b".")
        except BlockingIOError:
            pass                 # the supervisor is behind on reading: it has enough beats
        except OSError:
            log.warning("supervisor gone (heartbeat pipe closed); stopping",
                        extra={"fields": {"event": "supervisor_gone"}})
            stop.set()
            return
        if not stop.is_set():
            loop.call_later(interval, beat)

    beat()


def _install_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, holder: MaskerHolder,
                     metrics: Metrics) -> list[int]:
    def log_metrics() -> None:
        log.info("metrics", extra={"fields": {"event": "metrics", "metrics": metrics.snapshot()}})

    def reload() -> None:
        metrics.reloads["ok" if holder.reload() else "failed"] += 1

    actions = {signal.SIGTERM: stop.set, signal.SIGINT: stop.set, signal.SIGHUP: reload,
               signal.SIGUSR1: log_metrics}
    for sig, callback in actions.items():
        loop.add_signal_handler(sig, callback)
    return list(actions)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"agent serve: {exc}", file=sys.stderr)
        return 2
    try:
        # On one CPU the helper could not run beside the agent: it would only add its hand-over.
        helper_min = args.detect_helper_min_bytes if CPUS >= 2 else 0
        holder = MaskerHolder(lambda: load_masker(args.key_file, args.packs_dir, helper_min))
    except Exception as exc:
        print(f"agent serve: cannot load the masking engine: {type(exc).__name__}: {str(exc)[:500]}",
              file=sys.stderr)
        return 1
    try:
        return asyncio.run(serve(config, holder))
    finally:
        holder.close()
