"""Our own corpus (tests/corpus/*.jsonl): real-looking AWS CLI, CloudTrail, Terraform, console and
shell text, plus negative text (code, UUIDs, SHAs, versions, times, MACs, AWS vocabulary).
Each case runs as text and inside a JSON request, and must round-trip through restore.

A case is ``{"text", "must_mask", "origin"}`` plus an optional ``must_keep``: ``must_mask`` values
must not survive; an empty ``must_mask`` means the text comes out unchanged; each ``must_keep``
value (a region, a timestamp, a request UUID, a version next to the identifiers) must come out
exactly as often as it went in. ``no_restore`` (a reason) marks a case whose masked output is not
expected to restore byte for byte."""

from __future__ import annotations

import re

import pytest

from agent.engine.restore import restore_text
from tests.support.masker_support import CORPUS, load_jsonl, masker, message_text, request

CASES = [c for f in sorted(CORPUS.glob("*.jsonl")) for c in load_jsonl(f)]


@pytest.mark.parametrize("case", CASES, ids=[c["origin"] + ":" + c["text"][:30] for c in CASES])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_corpus_case(case, as_json):
    m = masker()
    if as_json:
        r = m.mask_body(request(case["text"]), "application/json")
        out = message_text(r.body)
    else:
        r = m.mask_body(case["text"].encode(), "text/plain")
        out = r.body.decode()
    if not case["must_mask"]:
        assert out == case["text"]
    for value in case["must_mask"]:
        assert value not in out
    for value in case.get("must_keep", ()):
        assert out.count(value) == case["text"].count(value) > 0, f"{value!r} was changed"
    if _glued(m, case["text"]) or case.get("no_restore"):
        # two identifiers glued together, or an ID continued by "-word" (eni-...-all): restore never
        # acts inside a longer token of the pseudonym's own shape, by design (agent/engine/restore.py)
        return
    assert restore_text(out, r.restore_map) == case["text"]


_WORD = re.compile(r"[A-Za-z0-9_]")


def _glued(m, text: str) -> bool:
    spans = m.scan(text, as_json=False)
    return any(a[1] == b[0] and _WORD.match(text, a[1] - 1) and _WORD.match(text, b[0])
               for a, b in zip(spans, spans[1:], strict=False))
