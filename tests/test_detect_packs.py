"""Every example in every shipped pack runs as a test, through the same path the gateway uses."""

from __future__ import annotations

import pytest

from agent.detect import Finder, iter_matches
from agent.packs import load_packs
from agent.splitters import SPLITTERS

PACKS = load_packs()
CASES = [(d, ex, True) for d in PACKS.detectors for ex in d.match_examples] + \
        [(d, ex, False) for d in PACKS.detectors for ex in d.nomatch_examples]


def _ids(case):
    det, ex, positive = case
    text = ex if isinstance(ex, str) else ex["text"]
    return f"{det.id}-{'match' if positive else 'no_match'}-{text[:30]}"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_pack_example(case):
    det, ex, positive = case
    text = ex if isinstance(ex, str) else ex["text"]
    found = [text[s:e] for s, e, _ in Finder([det]).find(text)]
    if not positive:
        assert found == [], f"{det.where}: matched {found} in a no_match example"
    elif isinstance(ex, str):
        assert found == [text], f"{det.where}: expected the whole example to be masked, got {found}"
    else:
        assert sorted(found) == sorted(ex["masks"]), f"{det.where}: expected {ex['masks']}, got {found}"


def _accepted(det, text, m) -> bool:
    return bool(SPLITTERS[det.split](text, m, det.params, det.kind))


@pytest.mark.parametrize("det", [d for d in PACKS.detectors if d.anchors], ids=lambda d: d.id)
def test_anchors_find_what_the_regex_finds(det):
    """The anchor path is only an accelerator: on every example it finds exactly what finditer finds."""
    texts = [e if isinstance(e, str) else e["text"] for e in det.match_examples + det.nomatch_examples]
    for text in texts:
        for padded in (text, "lorem ipsum " * 30 + text + " dolor sit amet " * 30):
            full = sorted(m.span() for m in det.regex.finditer(padded) if _accepted(det, padded, m))
            fast = sorted(m.span() for m in iter_matches(det, padded) if _accepted(det, padded, m))
            assert fast == full, f"{det.where}: anchors miss matches in {text!r}"
