"""Masking pauses CPython's cyclic collector (agent/engine/gc_pause.py): the pause must end as it
started, and masking must build no reference cycles, or pausing would defer real garbage."""

from __future__ import annotations

import gc

import pytest

from agent.engine.results import MaskRefused
from bench.corpora import claude_code_request, dense_inventory_request
from tests.support import fuzz_invariants
from tests.support.masker_support import masker


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_pause_ends_as_it_started(collector_on):
    m = masker()
    m.mask_body(b'{"a": "i-0123456789abcdef0"}', "application/json")
    assert gc.isenabled()
    with pytest.raises(MaskRefused):
        m.mask_body(b"{not json", "application/json")
    assert gc.isenabled()
    gc.disable()
    try:
        m.mask_body(b'{"a": "i-0123456789abcdef0"}', "application/json")
        assert not gc.isenabled()          # a caller that turned it off keeps it off
    finally:
        gc.enable()


def test_masking_builds_no_cycles(collector_on):
    m = masker()
    bodies = [claude_code_request(target=60_000), dense_inventory_request(target=60_000)]
    for seed in range(60):
        bodies += [b.encode() for b in fuzz_invariants.bodies(fuzz_invariants.make_case(seed))[:2]]
    m.mask_body(bodies[0], "application/json")     # warm: packs, caches
    gc.collect()
    gc.disable()
    try:
        for body in bodies:
            m.mask_body(body, "application/json")
            m.mask_body(body, "text/plain")
        for bad in (b"{not json", b"\xff\xfe", b'{"a": 1}'):
            try:
                m.mask_body(bad, "application/json")
            except MaskRefused:
                pass
        assert gc.collect() == 0
    finally:
        gc.enable()
