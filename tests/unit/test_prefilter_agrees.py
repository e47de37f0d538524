"""The Hyperscan prefilter finds what the stdlib ``re`` anchors find: same parts, on every text.

Hyperscan is only an accelerator (agent/engine/prefilter.py); a hit it misses is a leak. It once
missed one: an anchor alternation holding both ``CloudFormation [Ss]tack`` and three-letter words
(``ASG|ALB``) matched ``| ASG |`` alone but not after ``{"content": "why does\\n``, in Hyperscan
0.9.1, with or without start-of-match tracking. So both prefilters run over texts we did not write
for them: every generated recall artifact (classes and held-out sets), as text and as the scan text
of a Messages body, every pack example inside a body, and the fuzz lane's bodies.
"""

from __future__ import annotations

import json

import pytest

from agent.engine import json_layout
from agent.engine.finder import Finder
from agent.engine.prefilter import HyperscanAnchors, hyperscan
from tests.support import fuzz_invariants
from tests.support.effort import QUICK
from tests.support.masker_support import shipped_packs
from tests.support.recall_artifacts import CLASSES, HELD_OUT, generate

pytestmark = pytest.mark.skipif(hyperscan is None, reason="hyperscan not installed")


@pytest.fixture(scope="module")
def finders() -> tuple[Finder, Finder]:
    detectors = shipped_packs().detectors
    fast, slow = Finder(detectors, "hyperscan"), Finder(detectors, "re")
    assert isinstance(fast.prefilter, HyperscanAnchors)
    return fast, slow


def _scan_text(text: str) -> str:
    body = json.dumps({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": text}]})
    return json_layout.analyse(body).scan


def _texts() -> list[tuple[str, str]]:
    out = []
    for case in generate(seed=5, per_template=1, classes={**CLASSES, **HELD_OUT}):
        out.append((f"{case.template}:text", case.text))
        out.append((f"{case.template}:json", _scan_text(case.text)))
    for det in shipped_packs().detectors:      # every pack example, inside a body's string
        for ex in det.match_examples + det.nomatch_examples:
            text = ex if isinstance(ex, str) else ex["text"]
            out.append((f"{det.id}:example", _scan_text(f"why does\n{text}\nplease check")))
    for n in range(20 if QUICK else 120):
        turn1, turn2, _ = fuzz_invariants.bodies(fuzz_invariants.make_case(5_000_000 + n))
        out.append((f"fuzz-{n}", json_layout.analyse(turn2).scan))
    return out


def test_hyperscan_finds_what_re_finds(finders):
    fast, slow = finders
    differ = [name for name, text in _texts() if fast.find(text) != slow.find(text)]
    assert not differ, f"the Hyperscan prefilter and the re anchors disagree on {len(differ)}: {differ[:10]}"
