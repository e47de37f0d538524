"""Masking one body without CPython's cyclic garbage collector running in the middle of it.

A dense body allocates tens of thousands of small container objects that live until the body is
done (anchor hits, matches, candidate spans, parts): each one counts towards the collector's
thresholds, so it runs ~100 times per MB, and the older generations it then walks are mostly those
same live objects, none of them garbage (dense AWS inventory: ~20 % of the masking time). The
engine's objects are freed by reference counting as soon as the body is done; it builds no cycles,
and any a caller's code does build are collected by the first collection after the body, as usual.

Pausing is process-wide (``gc.disable``), which is safe here: the agent masks one body at a time in
its event loop thread, and the detection helper one job at a time. A pause only ever ends as it
started: if the collector was off already (a caller turned it off), it stays off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_gc_paused() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
