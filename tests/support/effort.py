"""How hard the property tests try.

``make test`` (and CI) runs every property test with the example count it names. ``make test-unit``,
the quick loop while editing, sets ``TEST_EFFORT=quick`` and runs a tenth of each count (at least 10),
which keeps it under 30 s on a 2-core machine. The quick lane draws fewer examples from the same generators, never other
ones, so anything it finds ``make test`` finds too.
"""

from __future__ import annotations

import os

QUICK = os.environ.get("TEST_EFFORT") == "quick"


def examples(n: int) -> int:
    """The number of examples a property test named ``n`` runs in this lane."""
    return max(10, n // 10) if QUICK else n
