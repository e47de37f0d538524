"""Test helper: runs the real server loop (``agent.service.server.serve``) in its own process with a fake engine.

Used where a test needs a separate process: signals (SIGTERM drain, SIGHUP reload) and the real
HAProxy. The engine is ``tests.support.spop_fakes.FileMasker`` read from a JSON file, so a test can change or
break that file and send SIGHUP. Usage: python tests/support/spop_agent_proc.py PORT RULES_JSON [DRAIN_S]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agent.service.handlers import MaskerHolder  # noqa: E402
from agent.service.server import ServeConfig, serve, setup_logging  # noqa: E402
from tests.support.spop_fakes import FileMasker  # noqa: E402


def main(argv: list[str]) -> int:
    port, rules = int(argv[0]), argv[1]
    drain = float(argv[2]) if len(argv) > 2 else 5.0
    setup_logging("debug")
    holder = MaskerHolder(lambda: FileMasker.load(rules))
    return asyncio.run(serve(ServeConfig(host="127.0.0.1", port=port, drain_timeout=drain), holder))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
