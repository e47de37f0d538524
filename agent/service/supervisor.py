"""Agent supervisor: ``python -m agent supervise [options] -- [agent serve options]``.

``haproxy/run.sh`` (``make run``) and the compose file's agent container start the agents through
it. It runs ``--processes`` agents (each ``python -m agent serve ...``, sharing the SPOP port with
``--reuse-port``) and keeps that many serving:

- **Dies** (crash, OOM kill, exit): started again after a backoff that doubles with each failure in
  a row (``--backoff`` .. ``--backoff-max``) and resets once an agent has served ``STABLE_AFTER`` s.
- **Stalls**: every agent writes one byte per ``--heartbeat-interval`` to a pipe from its event loop
  (``--heartbeat-fd``). No beat for ``--mask-timeout`` (``GATEWAY_MASK_TIMEOUT``: by then HAProxy has
  answered the request it holds with 503 and forwarded nothing) means the loop is stuck in a body or
  the process is stopped (SIGSTOP): it is killed with SIGKILL, its whole process group (the
  detection helper too), and replaced. The watchdog lives outside the agent, so a stopped or stuck
  agent cannot hide from it. An agent that never beats within ``--start-timeout`` is killed too.
- **SIGTERM/SIGINT**: SIGTERM to every agent (they drain), SIGKILL to what is left after ``--grace``
  seconds, or at once to one that stalls meanwhile, or on a second SIGTERM/SIGINT (a second after
  the first: Ctrl-C under run.sh delivers SIGINT and SIGTERM together). Then exit 0.
  SIGHUP and SIGUSR1 are passed on to the agents (pack reload, metrics log).
- Agents run in their own process groups (so a kill takes their helper along) with
  ``PR_SET_PDEATHSIG`` = SIGKILL: if the supervisor itself is killed, its agents go with it.

Start-up: if an agent exits before any agent ever answered (broken packs, key file, port in use),
the supervisor stops and exits 1 instead of restarting forever: ``make run`` fails with the agent's
own message. Later failures restart with backoff: the other agents keep serving meanwhile.

Metrics (``--metrics-listen``, ``SUPERVISOR_METRICS_PORT`` in run.sh): ``aws_mask_agent_restarts_total
{cause}`` with cause ``exit`` (exited by itself), ``signal`` (killed by a signal not from the
supervisor, e.g. the OOM killer), ``stall`` (no heartbeat for the mask timeout), ``start_timeout``;
``aws_mask_agent_processes`` (configured) and ``aws_mask_agent_processes_ready`` (beating now).
Each restart is also one JSON log line (``"event":"agent_restart"``) on stderr.

Why a Python module and not bash in run.sh: the stall watchdog needs a per-agent deadline on a pipe,
process groups, and a reaping order that never signals a reused pid (the group is killed while the
dead agent is still a zombie); that is short and testable here, and fragile in bash.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agent.service.metrics import Family, MetricsServer

log = logging.getLogger("agent.service.supervisor")

CAUSES = ("exit", "signal", "stall", "start_timeout")
TICK = 0.1                 # seconds between checks of every agent
STABLE_AFTER = 30.0        # an agent that served this long resets its slot's backoff
ESCALATE_AFTER = 1.0       # a second SIGTERM/SIGINT this much later kills the agents at once
_PR_SET_PDEATHSIG = 1

_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d)?\s*$")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_haproxy_time(text: str) -> float:
    """An HAProxy time (``10s``, ``500ms``, ``2m``; a bare number is milliseconds) in seconds."""
    m = _TIME.match(text)
    if not m:
        raise ValueError(f"not an HAProxy time: {text!r} (e.g. 10s, 500ms, 2m)")
    return float(m.group(1)) * _UNITS[m.group(2) or "ms"]


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Seconds before restart number ``failures`` in a row: base, 2 base, 4 base, ... at most cap."""
    if failures <= 0:
        return 0.0
    return min(cap, base * 2 ** min(failures - 1, 30))


@dataclass
class Policy:
    stall_timeout: float = 10.0
    grace: float = 15.0
    start_timeout: float = 60.0
    backoff: float = 0.5
    backoff_max: float = 30.0

    @property
    def heartbeat_interval(self) -> float:
        return min(0.5, self.stall_timeout / 5)


@dataclass
class Slot:
    index: int
    proc_pid: int | None = None
    beat_fd: int | None = None
    started: float = 0.0
    ready_at: float | None = None
    last_beat: float = 0.0
    kill_cause: str | None = None
    failures: int = 0
    next_start: float = 0.0


@dataclass
class Supervisor:
    argv_for: Callable[[int, int], list[str]]      # slot index, heartbeat fd -> argv of one agent
    processes: int
    policy: Policy = field(default_factory=Policy)
    pid_file: Path | None = None
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.slots = [Slot(i) for i in range(self.processes)]
        self.restarts: Counter[str] = Counter({c: 0 for c in CAUSES})
        self.stopping = False
        self.stop_requested = 0.0
        self.stop_deadline = 0.0
        self.ever_ready = False
        self.failed_start = False
        self._prctl = _pdeathsig_setter()

    # ---- processes ---------------------------------------------------------------------------------

    def spawn(self, slot: Slot, now: float) -> None:
        r, w = os.pipe()
        os.set_blocking(r, False)
        parent = os.getpid()
        prctl = self._prctl

        def child_setup() -> None:        # runs in the child, between fork and exec
            if prctl is not None:
                prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:    # the supervisor died before prctl: do not outlive it
                os._exit(1)

        try:
            proc = subprocess.Popen(self.argv_for(slot.index, w), pass_fds=(w,), start_new_session=True,
                                    preexec_fn=child_setup, stdin=subprocess.DEVNULL)
        except OSError as exc:
            os.close(r)
            os.close(w)
            log.error("agent could not be started", extra={"fields": {
                "event": "agent_spawn_failed", "slot": slot.index, "exception": type(exc).__name__}})
            slot.failures += 1
            slot.next_start = now + backoff_delay(slot.failures, self.policy.backoff, self.policy.backoff_max)
            return
        os.close(w)
        proc.returncode = 0     # reaped by us (os.waitid/waitpid) only: Popen must never wait on it
        slot.proc_pid, slot.beat_fd = proc.pid, r
        slot.started, slot.ready_at, slot.kill_cause = now, None, None
        slot.last_beat = now
        log.info("agent started", extra={"fields": {"event": "agent_started", "slot": slot.index,
                                                    "pid": proc.pid}})
        self.write_pids()

    def _kill(self, slot: Slot, cause: str) -> None:
        if slot.proc_pid is None or slot.kill_cause is not None:
            return
        slot.kill_cause = cause
        log.warning("killing agent", extra={"fields": {"event": "agent_kill", "slot": slot.index,
                                                       "pid": slot.proc_pid, "cause": cause}})
        _killpg(slot.proc_pid)

    def _beats(self, slot: Slot, now: float) -> None:
        if slot.beat_fd is None:
            return
        try:
            got = os.read(slot.beat_fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            got = b""
        if not got:
            return                        # EOF: the agent is exiting; its exit is reaped below
        slot.last_beat = now
        if slot.ready_at is None:
            slot.ready_at = now
            self.ever_ready = True
            log.info("agent ready", extra={"fields": {"event": "agent_ready", "slot": slot.index,
                                                      "pid": slot.proc_pid,
                                                      "start_s": round(now - slot.started, 3)}})

    def _reap(self, slot: Slot, now: float) -> bool:
        """True if the agent has exited (and is now reaped, its process group killed)."""
        pid = slot.proc_pid
        assert pid is not None
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            info = None
            gone = True
        else:
            gone = info is not None
        if not gone:
            return False
        # Still a zombie here, so its pid (= its process group id) cannot be reused yet: kill the
        # group (a detection helper left behind), then reap.
        _killpg(pid)
        try:
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = info.si_status if info is not None else 0
        if slot.beat_fd is not None:
            os.close(slot.beat_fd)
        served = now - slot.ready_at if slot.ready_at is not None else 0.0
        cause = slot.kill_cause or ("signal" if code < 0 else "exit")
        was_ready = slot.ready_at is not None
        slot.proc_pid, slot.beat_fd, slot.ready_at, slot.kill_cause = None, None, None, None
        self.write_pids()
        if self.stopping:
            log.info("agent stopped", extra={"fields": {"event": "agent_stopped", "slot": slot.index,
                                                        "pid": pid, "status": code}})
            return True
        if not was_ready and not self.ever_ready and code > 0:
            log.error("agent could not start; giving up (see its message above)", extra={"fields": {
                "event": "agent_start_failed", "slot": slot.index, "pid": pid, "status": code}})
            self.failed_start = True
            self.request_stop()
            return True
        slot.failures = 1 if served >= STABLE_AFTER else slot.failures + 1
        delay = backoff_delay(slot.failures, self.policy.backoff, self.policy.backoff_max)
        slot.next_start = now + delay
        self.restarts[cause] += 1
        log.warning("agent restart", extra={"fields": {
            "event": "agent_restart", "slot": slot.index, "pid": pid, "cause": cause, "status": code,
            "served_s": round(served, 3), "failures_in_a_row": slot.failures, "delay_s": delay}})
        return True

    # ---- the loop ----------------------------------------------------------------------------------

    def tick(self) -> None:
        now = self.clock()
        for slot in self.slots:
            if slot.proc_pid is not None:
                self._beats(slot, now)
                if self._reap(slot, now):
                    continue
                silent = now - slot.last_beat
                if self.stopping:
                    if now >= self.stop_deadline:
                        self._kill(slot, "grace")
                    elif slot.ready_at is not None and silent > self.policy.stall_timeout:
                        self._kill(slot, "stall")
                elif slot.ready_at is None:
                    if now - slot.started > self.policy.start_timeout:
                        self._kill(slot, "start_timeout")
                elif silent > self.policy.stall_timeout:
                    self._kill(slot, "stall")
            elif not self.stopping and now >= slot.next_start:
                self.spawn(slot, now)

    def running(self) -> bool:
        return any(slot.proc_pid is not None for slot in self.slots)

    def request_stop(self) -> None:
        now = self.clock()
        if self.stopping:
            # Asked again, later: no more waiting. Ctrl-C under run.sh arrives twice at once (SIGINT
            # from the terminal, SIGTERM from run.sh's trap), which must not cut the grace short.
            if now - self.stop_requested >= ESCALATE_AFTER:
                self.stop_deadline = now
            return
        self.stopping = True
        self.stop_requested = now
        self.stop_deadline = now + self.policy.grace
        log.info("stopping agents", extra={"fields": {"event": "stopping", "grace_s": self.policy.grace}})
        self.signal_all(signal.SIGTERM)

    def signal_all(self, sig: int) -> None:
        for slot in self.slots:
            if slot.proc_pid is not None and slot.kill_cause is None:
                try:
                    os.kill(slot.proc_pid, sig)
                except ProcessLookupError:
                    pass

    def write_pids(self) -> None:
        if self.pid_file is None:
            return
        tmp = self.pid_file.with_name(self.pid_file.name + ".tmp")
        tmp.write_text("".join(f"{s.proc_pid}\n" for s in self.slots if s.proc_pid is not None))
        tmp.replace(self.pid_file)

    def ready_count(self) -> int:
        return sum(1 for s in self.slots if s.ready_at is not None and s.kill_cause is None)

    def metrics_text(self) -> str:
        out: list[str] = []
        Family(out, "restarts_total", "counter", "Agent processes restarted by the supervisor, by cause: exit, "
               "signal (not sent by the supervisor), stall (no heartbeat for the mask timeout), start_timeout.") \
            .samples("cause", sorted(self.restarts.items()))
        Family(out, "processes", "gauge", "Agent processes the supervisor keeps running.").sample(self.processes)
        Family(out, "processes_ready", "gauge", "Agent processes whose heartbeat is current.") \
            .sample(self.ready_count())
        return "\n".join(out) + "\n"

    async def run(self, metrics_listen: tuple[str, int] | None = None) -> int:
        loop = asyncio.get_running_loop()
        handled = {signal.SIGTERM: self.request_stop, signal.SIGINT: self.request_stop,
                   signal.SIGHUP: lambda: self.signal_all(signal.SIGHUP),
                   signal.SIGUSR1: lambda: self.signal_all(signal.SIGUSR1)}
        for sig, callback in handled.items():
            loop.add_signal_handler(sig, callback)
        metrics = None
        if metrics_listen is not None:
            metrics = MetricsServer(self.metrics_text)
            host, port = await metrics.listen(*metrics_listen)
            log.info("supervisor metrics listening", extra={"fields": {
                "event": "metrics_listening", "address": f"{host}:{port}"}})
        try:
            while not self.stopping or self.running():
                self.tick()
                await asyncio.sleep(TICK)
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)
            if metrics is not None:
                await metrics.close()
            if self.pid_file is not None:
                self.pid_file.unlink(missing_ok=True)
        return 1 if self.failed_start else 0


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _pdeathsig_setter():
    """libc ``prctl`` (Linux), loaded before any fork; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m agent supervise",
                                description="Run N masking agents; restart any that dies or stalls.",
                                epilog="Everything after -- is passed to each `python -m agent serve`.")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1, metavar="N")
    p.add_argument("--mask-timeout", default=os.environ.get("GATEWAY_MASK_TIMEOUT", "10s"), metavar="TIME",
                   help="HAProxy time (default: $GATEWAY_MASK_TIMEOUT, else 10s): an agent whose heartbeat is "
                        "silent this long is killed and replaced")
    p.add_argument("--grace", type=float, default=None, metavar="SECONDS",
                   help="on SIGTERM, how long agents may drain before SIGKILL (default: mask timeout + 5 s)")
    p.add_argument("--start-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="an agent that has not started serving by then is killed and replaced (default 60)")
    p.add_argument("--backoff", type=float, default=0.5, metavar="SECONDS",
                   help="delay before the first restart; doubles with each failure in a row (default 0.5)")
    p.add_argument("--backoff-max", type=float, default=30.0, metavar="SECONDS",
                   help="longest delay between restarts (default 30)")
    p.add_argument("--agent-metrics-base", default=None, metavar="HOST:PORT",
                   help="agent i serves its metrics on HOST:PORT+i")
    p.add_argument("--metrics-listen", default=None, metavar="HOST:PORT",
                   help="the supervisor's own Prometheus metrics (restarts by cause)")
    p.add_argument("--pid-file", default=None, metavar="PATH", help="live agent pids, one a line")
    p.add_argument("--agent-module", default="agent", metavar="MODULE",
                   help="what `python -m` runs as the agent (tests run a module with test hooks)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"want HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def main(argv: list[str]) -> int:
    from agent.service.server import setup_logging

    own, agent_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    args = build_parser().parse_args(own)
    setup_logging(args.log_level)
    try:
        stall = parse_haproxy_time(args.mask_timeout)
        metrics_base = _host_port(args.agent_metrics_base) if args.agent_metrics_base else None
        metrics_listen = _host_port(args.metrics_listen) if args.metrics_listen else None
        if stall < 0.5 or args.processes < 1 or args.backoff < 0 or args.backoff_max < args.backoff:
            raise ValueError("need --mask-timeout >= 500ms, --processes >= 1, 0 <= --backoff <= --backoff-max")
    except ValueError as exc:
        print(f"agent supervise: {exc}", file=sys.stderr)
        return 2
    policy = Policy(stall_timeout=stall, grace=args.grace if args.grace is not None else stall + 5,
                    start_timeout=args.start_timeout, backoff=args.backoff, backoff_max=args.backoff_max)

    def argv_for(index: int, beat_fd: int) -> list[str]:
        cmd = [sys.executable, "-m", args.agent_module, "serve", *agent_args,
               "--heartbeat-fd", str(beat_fd), "--heartbeat-interval", str(policy.heartbeat_interval)]
        if metrics_base is not None:
            cmd += ["--metrics-listen", f"{metrics_base[0]}:{metrics_base[1] + index}"]
        return cmd

    sup = Supervisor(argv_for, args.processes, policy, Path(args.pid_file) if args.pid_file else None)
    return asyncio.run(sup.run(metrics_listen))
