"""A hard per-case time limit for engine tests: a hang fails one case instead of freezing the suite.

``hard_timeout`` uses SIGALRM, so tests that use it must keep pytest-timeout off that signal
(``pytest.mark.timeout(..., method="thread")``). It interrupts Python code; a hang inside one C
call (a regex) is still ended by pytest-timeout's thread method, which fails the run.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager


class Hang(AssertionError):
    pass


@contextmanager
def hard_timeout(seconds: float = 10):
    """Raise ``Hang`` when the block runs longer than ``seconds``."""
    def on_alarm(signum, frame):
        raise Hang(f"did not finish within {seconds} s")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
