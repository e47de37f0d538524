"""Every example in every shipped pack runs as a test, through the same path the gateway uses."""

from __future__ import annotations

import functools

import pytest

from agent.engine.finder import Finder, iter_matches
from agent.engine.splitters import SPLITTERS
from tests.support.masker_support import shipped_packs

PACKS = shipped_packs()
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


@functools.cache
def _corpus_texts() -> tuple[str, ...]:
    from bench.corpora import claude_code_request, dense_inventory_request
    from tests.support.masker_support import CORPUS, load_jsonl
    texts = [c["text"] for f in sorted(CORPUS.glob("*.jsonl")) for c in load_jsonl(f)]
    texts.append(claude_code_request(target=60_000).decode()[:80_000])
    texts.append(dense_inventory_request(target=40_000).decode())
    return tuple(texts)


@pytest.mark.parametrize("det", [d for d in PACKS.detectors if d.anchors], ids=lambda d: d.id)
def test_anchor_path_equals_finditer_on_corpora(det):
    """Same check on the whole engine corpus and benchmark samples, through the real prefilter."""
    from agent.engine.prefilter import make_prefilter
    pre = make_prefilter([det])
    for text in _corpus_texts():
        full = sorted(m.span() for m in det.regex.finditer(text) if _accepted(det, text, m))
        fast = sorted(m.span() for m in iter_matches(det, text, pre.scan(text).get(0, []))
                      if _accepted(det, text, m))
        assert fast == full, f"{det.where}: anchored path differs from finditer"


def test_regexes_join_into_one_alternation():
    """bench/bench_engine.py's naive baseline joins every regex, named groups made plain, into one
    pattern: no detector may rely on group names beyond (?P<value>) (no (?(name)...) conditionals)."""
    import re
    parts = [re.sub(r"\(\?P<\w+>", "(?:", d.regex.pattern) for d in PACKS.detectors]
    re.compile("|".join(f"(?:{p})" for p in parts))
