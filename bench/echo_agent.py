"""Bench-only SPOP agent that answers every ``mask`` message with the body unchanged (no engine):
the gateway's cost without masking, for elimination (bench/probe.py ``echo``). Never for production.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent import spop  # noqa: E402
from agent.runtime import tune_malloc  # noqa: E402
from agent.service.handlers import success_actions  # noqa: E402
from agent.service.server import AgentServer  # noqa: E402


async def echo(msg: spop.Message, ctx) -> list[spop.Action]:
    data = msg.get("body")
    body = data.value if data is not None and isinstance(data.value, bytes) else b""
    return success_actions(body, b"", {}, 0)


async def main(port: int) -> None:
    if "--no-tune" not in sys.argv:
        tune_malloc()
    server = AgentServer({"mask": echo})
    await server.listen_tcp("127.0.0.1", port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
