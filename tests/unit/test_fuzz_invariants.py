"""The invariant fuzz lane, time-boxed and seeded (tests/fuzz_invariants.py; ``make fuzz`` runs it
long). FUZZ_LANE_SECONDS sets the budget (default 30 s), FUZZ_LANE_SEED the seed (default fixed, so
a run is repeatable). Failures are reported by seed and invariant, never with a value."""

from __future__ import annotations

import os

import pytest

from tests.support import fuzz_invariants as fuzz

pytestmark = pytest.mark.timeout(600, method="thread")   # SIGALRM is the per-case timeout's


def test_invariants_hold_on_generated_bodies():
    """Every family, the packs' own examples included (planted anywhere, in any encoding, also as
    JSON inside a tool result's string)."""
    seconds = float(os.environ.get("FUZZ_LANE_SECONDS", "30"))
    seed = int(os.environ.get("FUZZ_LANE_SEED", "11"))
    report = fuzz.run(seconds, seed)
    assert report.cases > 0
    assert not report.failures, report.text()
