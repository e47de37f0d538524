"""A helper process that runs detection on a large body while the agent validates and analyses it.

Masking one JSON body is a chain of single-core passes (``agent/engine/masker.py``): validate the JSON,
lay out its strings and protected spans, find the identifiers, splice. Finding (``Finder.find`` on
the scan text) needs nothing from the other passes, so for a large body it can run in a second
process at the same time; the agent then waits only for the longer of the two halves (1 MB Claude
Code request: 10.6 -> ~7 ms). Masking holds the GIL, so a thread would not run in parallel.

The helper is started by the agent, with the agent's own detector list (pickled once), and answers
``find`` jobs over a socket pair: body bytes in, sorted parts out. It never logs or stores a body
(its ``Finder`` remembers pieces as the agent's does: spans and kinds under private keys);
on an exception it answers the exception's type only. Whatever goes wrong with it (not started yet,
crashed, stopped, slow, an error), ``Finder.find`` runs in the agent instead: the helper only ever
saves time, and its answer is the same function's answer on the same text.

    python -m agent.engine.detect_helper FD      (started by ``DetectHelper``; not a command for people)
"""

from __future__ import annotations

import logging
import pickle
import signal
import socket
import struct
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

from agent.engine.detectors import Detector
from agent.engine.finder import Finder, Seeded
from agent.engine.gc_pause import cycle_gc_paused
from agent.runtime import CPUS, tune_malloc

log = logging.getLogger("agent.engine.detect_helper")

ROOT = Path(__file__).resolve().parents[2]   # the folder holding the agent package
# At 100 KB the helper saved 0.1-0.25 ms per request for ~20 % more agent CPU (bench/probe.py, one
# client); at 1 MB it saves ~3 ms for ~15 %. Below this size it is not worth its hand-over.
DEFAULT_MIN_BYTES = 256 * 1024
# How long the agent waits for the helper's answer: a base plus a per-MiB allowance (dense AWS
# inventories take ~40 ms per MiB to scan). The helper does what the agent would do itself in a few
# ms per MiB, so longer means it is stopped or starved; the agent then does it (the request still
# has to fit GATEWAY_MASK_TIMEOUT, 10 s by default, so the wait stays well below it).
DEFAULT_TIMEOUT = 0.5
TIMEOUT_PER_MIB = 0.25
RESTART_AFTER = 5.0        # seconds between restarts, so a helper that keeps dying costs little
_JOB = struct.Struct("!Q")


class DetectHelper:
    """The agent's side: start the helper, hand it jobs, collect answers, restart it when it fails."""

    def __init__(self, detectors: list[Detector], *, min_bytes: int = DEFAULT_MIN_BYTES,
                 timeout: float = DEFAULT_TIMEOUT):
        self._detectors = pickle.dumps(detectors)
        self.min_bytes = min_bytes
        self.timeout = timeout
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._ready = False
        self._started_at = float("-inf")
        self._job = 0
        self._deadline = 0.0
        self._closed = False
        self._start()

    # ---- lifecycle ---------------------------------------------------------------------------------

    def _start(self) -> None:
        self._stop()
        self._started_at = time.monotonic()
        ours, theirs = socket.socketpair()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "agent.engine.detect_helper", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except OSError as exc:
            ours.close()
            log.warning("detection helper did not start; detection stays in the agent",
                        extra={"fields": {"event": "detect_helper", "exception": type(exc).__name__}})
            return
        finally:
            theirs.close()
        self._conn = Connection(ours.detach())
        self._conn.send_bytes(self._detectors)

    def _stop(self, kill: bool = False) -> None:
        """End the helper: on EOF it exits by itself; one that failed is killed at once (it may be
        stopped or stuck, and the agent's event loop waits here)."""
        self._ready = False
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            if kill:
                self._proc.kill()
            try:
                self._proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def close(self) -> None:
        self._closed = True
        self._stop()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def available(self) -> bool:
        """Started and past its start-up (it answers ``ready`` once its detectors are compiled)."""
        if self._closed:
            return False
        if self._conn is None:
            if time.monotonic() - self._started_at >= RESTART_AFTER:
                self._start()
            return False
        if not self._ready:
            try:
                if self._conn.poll(0):
                    self._ready = self._conn.recv_bytes() == b"ready"
            except (OSError, EOFError):
                self._fail("start-up")
        return self._ready

    def _fail(self, when: str) -> None:
        log.warning("detection helper failed; detection runs in the agent until it is restarted",
                    extra={"fields": {"event": "detect_helper", "when": when}})
        self._stop(kill=True)

    # ---- jobs --------------------------------------------------------------------------------------

    def submit(self, body: bytes) -> int | None:
        """Hand ``body`` (UTF-8 of the text to scan) to the helper; the job number, or None."""
        if len(body) < self.min_bytes or not self.available() or not cpu_to_spare():
            return None
        self._job += 1
        try:
            assert self._conn is not None
            self._conn.send_bytes(_JOB.pack(self._job))
            self._conn.send_bytes(body)        # as it is: prefixing the number would copy it
        except OSError:
            self._fail("submit")
            return None
        self._deadline = time.monotonic() + self.timeout + TIMEOUT_PER_MIB * len(body) / 1048576
        return self._job

    def collect(self, job: int) -> Seeded | None:
        """The parts of ``job`` and the values they propagate (``Finder.find_seeded``), or None if
        the helper failed (then it is stopped, restarted later).

        Answers of older jobs (whose caller stopped early, e.g. on invalid JSON) are skipped."""
        deadline = self._deadline
        try:
            while self._conn is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not self._conn.poll(left):
                    self._fail("timeout")
                    return None
                number, ok, value = pickle.loads(self._conn.recv_bytes())
                if number == job:
                    if not ok:
                        self._fail(f"exception {value}")
                        return None
                    return value
        except (OSError, EOFError, pickle.UnpicklingError, ValueError):
            self._fail("answer")
        return None


def cpu_to_spare(loadavg: bytes | None = None, cpus: int = CPUS) -> bool:
    """Whether a CPU is idle right now: fewer runnable tasks (this one included) than CPUs.

    The helper only pays off on a core nobody else wants. Under load (HAProxy, other agents, the
    clients) it would take CPU from them for its hand-over (~+15 % CPU per body), so it is not used:
    measured with one agent at 2 and 4 concurrent 1 MB requests, throughput fell 19 % without this
    check and 0-6 % with it. /proc/loadavg's ``running/total`` field is the kernel's instantaneous
    count (reading it costs ~10 us)."""
    try:
        if loadavg is None:
            with open("/proc/loadavg", "rb") as f:
                loadavg = f.read()
        running = int(loadavg.split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return False
    return running < cpus


# --------------------------------------------------------------------------------------------------
# The helper process
# --------------------------------------------------------------------------------------------------


def _serve(conn: Connection) -> None:
    from agent.engine.json_layout import big_pieces, neutralize, pieces, scan_text

    tune_malloc()
    finder = Finder(pickle.loads(conn.recv_bytes()))
    conn.send_bytes(b"ready")
    while True:
        try:
            (number,) = _JOB.unpack(conn.recv_bytes())
            data = conn.recv_bytes()
        except EOFError:
            return
        try:
            with cycle_gc_paused():   # as the agent's own masking does (agent/engine/gc_pause.py)
                scan = scan_text(data.decode("utf-8"))
                answer = (number, True, finder.find_seeded(scan, big_pieces(pieces(neutralize(scan)))))
        except Exception as exc:  # noqa: BLE001 - the type only: a message could quote the body
            answer = (number, False, type(exc).__name__)
        del data                  # the body does not outlive its job here
        conn.send_bytes(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))


def main(argv: list[str]) -> int:
    # Ctrl-C in a terminal signals the whole process group; the agent decides when the helper ends
    # (it closes the socket), so the helper does not die halfway through an answer.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    conn = Connection(int(argv[0]))
    try:
        _serve(conn)
    except (EOFError, OSError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
