"""The invariant fuzz lane, time-boxed and seeded (tests/fuzz_invariants.py; ``make fuzz`` runs it
long). FUZZ_LANE_SECONDS sets the budget (default 30 s), FUZZ_LANE_SEED the seed (default fixed, so
a run is repeatable). Failures are reported by seed and invariant, never with a value."""

from __future__ import annotations

import os

import pytest

from tests.support import fuzz_invariants as fuzz

pytestmark = pytest.mark.timeout(600, method="thread")   # SIGALRM is the per-case timeout's


def test_invariants_hold_on_generated_bodies():
    """The grammar families only. The pack-example family (every detector's own examples planted
    anywhere, any encoding) is ``make fuzz``'s: after issue 13's context packs it still finds leaks
    and unrestored pseudonyms in ~1 % of cases, all involving those examples (CJK and prose labels,
    CLI tables and env lists inside JSON-in-JSON strings; pseudonyms glued as `_i-..._`,
    `web-i-...`): known, listed in the README's Reliability section, not yet fixed."""
    seconds = float(os.environ.get("FUZZ_LANE_SECONDS", "30"))
    seed = int(os.environ.get("FUZZ_LANE_SEED", "11"))
    report = fuzz.run(seconds, seed, pack_examples=False)
    assert report.cases > 0
    assert not report.failures, report.text()
