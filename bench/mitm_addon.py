"""mitmproxy addon for the benchmark: what a team would write instead of this gateway.

It masks request bodies with this project's own engine (``agent.engine.masker.Masker``, same packs, same
key) and restores pseudonyms in responses: whole JSON bodies with one regex pass, SSE streams chunk
by chunk (``flow.response.stream``, else mitmproxy holds the whole stream). The chunk-wise restore
does not handle a pseudonym split across two chunks: it is cheaper than a correct one, so the
comparison favours mitmproxy.

    mitmdump --mode reverse:https://upstream -s bench/mitm_addon.py   (BENCH_KEY_FILE=<key file>)
"""

from __future__ import annotations

import json
import os
import re

from mitmproxy import http

from agent.engine.masker import Masker
from agent.engine.results import MaskRefused


def _restorer(restore_map: dict[str, str]):
    if not restore_map:
        return None
    alternation = "|".join(re.escape(p) for p in sorted(restore_map, key=len, reverse=True))
    rx = re.compile(alternation.encode())
    table = {p.encode(): o.encode() for p, o in restore_map.items()}
    return lambda data: rx.sub(lambda m: table[m.group(0)], data)


class MaskAddon:
    def __init__(self) -> None:
        self.masker = Masker.load(os.environ["BENCH_KEY_FILE"])

    def request(self, flow: http.HTTPFlow) -> None:
        body = flow.request.raw_content or b""
        if not body:
            return
        try:
            result = self.masker.mask_body(body, flow.request.headers.get("content-type"))
        except MaskRefused as refused:
            flow.response = http.Response.make(refused.status, json.dumps(
                {"type": "error", "error": {"type": refused.error_type, "message": refused.message}}),
                {"content-type": "application/json"})
            return
        flow.request.content = result.body
        flow.request.headers.pop("accept-encoding", None)
        flow.metadata["restore"] = _restorer(result.restore_map)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        restore = flow.metadata.get("restore")
        if flow.response is not None and "text/event-stream" in flow.response.headers.get("content-type", ""):
            flow.response.stream = restore if restore is not None else True

    def response(self, flow: http.HTTPFlow) -> None:
        restore = flow.metadata.get("restore")
        if restore is not None and flow.response is not None and not flow.response.stream:
            flow.response.content = restore(flow.response.content or b"")


addons = [MaskAddon()]
