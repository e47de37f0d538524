"""Test helper: a fake masking engine (the real one is agent/engine/masker.py) and a server runner.

``FakeMasker`` replaces the account id ``123456789012`` with ``555555555555`` and reacts to marker
words so tests can reach every branch of the mask handler without the real detectors:
``REFUSE`` -> MaskRefused, ``BOOM`` -> an exception whose text quotes the body, ``DOUBLE`` -> a
masked body twice the size (to overflow the ACK), ``BADMAP`` -> a restore map the wire format refuses.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from agent.engine.results import MaskRefused, MaskResult
from agent.service.handlers import Handler, MaskerHolder, MaskHandler, Metrics
from agent.service.server import AgentServer

ORIGINAL = b"123456789012"
PSEUDONYM = b"555555555555"


class FakeMasker:
    def __init__(self, find: bytes = ORIGINAL, replace: bytes = PSEUDONYM, tag: str = "v1"):
        self.find, self.replace, self.tag = find, replace, tag
        self.calls: list[tuple[bytes, str | None]] = []

    def mask_body(self, body: bytes, content_type: str | None, parallel: bool = False) -> MaskResult:
        self.calls.append((body, content_type))
        if b"REFUSE" in body:
            raise MaskRefused(400, "invalid_request_error", "documents are refused by policy", "document")
        if b"BOOM" in body:
            raise RuntimeError(f"engine crashed on {body!r}")
        n = body.count(self.find)
        masked = body.replace(self.find, self.replace)
        if b"DOUBLE" in body:
            masked = masked * 2
        rmap = {self.replace.decode(): self.find.decode()} if n else {}
        if b"BADMAP" in body:
            rmap = {"bad pseudonym": "x"}
        return MaskResult(masked, rmap, {"account": n} if n else {})


class FileMasker(FakeMasker):
    """A fake engine configured from a JSON file ``{"find": ..., "replace": ..., "tag": ...}``."""

    @classmethod
    def load(cls, path: str | Path) -> FileMasker:
        conf = json.loads(Path(path).read_text())
        return cls(conf["find"].encode(), conf["replace"].encode(), conf.get("tag", ""))


def fake_holder(masker: FakeMasker | None = None) -> MaskerHolder:
    m = masker or FakeMasker()
    return MaskerHolder(lambda: m)


@contextlib.asynccontextmanager
async def running_server(handlers: Mapping[str, Handler] | None = None, *, masker: FakeMasker | None = None,
                         metrics: Metrics | None = None, max_frame_size: int | None = None,
                         pipelining: bool = True) -> AsyncIterator[tuple[AgentServer, int]]:
    """An AgentServer on 127.0.0.1 with an ephemeral port; always shut down on exit."""
    metrics = metrics if metrics is not None else Metrics()
    if handlers is None:
        handlers = {"mask": MaskHandler(fake_holder(masker), metrics)}
    kwargs = {"max_frame_size": max_frame_size} if max_frame_size else {}
    server = AgentServer(handlers, metrics=metrics, pipelining=pipelining, **kwargs)
    _, port = await server.listen_tcp("127.0.0.1", 0)
    try:
        yield server, port
    finally:
        await server.shutdown(timeout=2.0)
