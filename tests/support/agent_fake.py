"""A stand-in agent for supervisor tests (``python -m tests.support.agent_fake serve ... --heartbeat-fd N``):
no SPOP, only the heartbeat, and a behaviour chosen by ``FAKE_AGENT_MODE``:

- ``beat``: beats until SIGTERM, then exits 0.
- ``crash``: beats once (ready), then exits 3 after ``FAKE_AGENT_LIFE`` seconds (default 0.1).
- ``fail``: exits 2 at once, as an agent with broken packs does.
- ``deaf``: beats until SIGTERM, which it ignores (a stuck agent that still beats is not stalled).
"""

from __future__ import annotations

import os
import signal
import sys
import time


def main(argv: list[str]) -> int:
    fd = int(argv[argv.index("--heartbeat-fd") + 1])
    interval = float(argv[argv.index("--heartbeat-interval") + 1])
    mode = os.environ.get("FAKE_AGENT_MODE", "beat")
    if mode == "fail":
        print("agent serve: cannot load the masking engine: test failure", file=sys.stderr)
        return 2
    stop = []
    signal.signal(signal.SIGTERM, (lambda *_: None) if mode == "deaf" else (lambda *_: stop.append(1)))
    started = time.monotonic()
    while not stop:
        os.write(fd, b".")
        if mode == "crash" and time.monotonic() - started >= float(os.environ.get("FAKE_AGENT_LIFE", "0.1")):
            return 3
        time.sleep(interval)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
