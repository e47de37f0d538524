"""The real agent (``python -m tests.support.agent_stall serve ...``) with one test hook: a body that
holds ``STALL_MARKER`` blocks the event loop for ten minutes, in the handler, before any masking.

That is what an engine bug that never returns does to an agent (issue 11: a name equal to a region
made the pseudonym search loop forever): the loop runs no timer, no signal handler and no other
connection's frames. The supervisor must see the heartbeats stop, kill the agent and start a new
one; HAProxy must answer the stalled request 503 and forward nothing.
"""

from __future__ import annotations

import sys
import time

from agent.__main__ import main
from agent.service import handlers

STALL_MARKER = b"STALL-THE-EVENT-LOOP"
_real_call = handlers.MaskHandler.__call__


async def _call(self, msg, ctx):
    body = msg.get("body")
    if body is not None and isinstance(body.value, bytes) and STALL_MARKER in body.value:
        time.sleep(600)          # blocks the loop, as a body that never finishes masking would
    return await _real_call(self, msg, ctx)


handlers.MaskHandler.__call__ = _call

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
