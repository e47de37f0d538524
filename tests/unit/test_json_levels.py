"""splitters.any_at_level: one pass over the brackets answers what checking each pair did."""

from __future__ import annotations

import random
import re

from agent.engine.splitters import any_at_level

_BRACKETS = re.compile(r"[\[\]{}]")


def _same_level(text: str, a: int, b: int) -> bool:
    """The pairwise definition: brackets between a and b balance and never close one opened before a."""
    depth = 0
    for ch in _BRACKETS.findall(text, a, b):
        depth += 1 if ch in "{[" else -1
        if depth < 0:
            return False
    return depth == 0


def test_any_at_level_is_the_pairwise_check():
    rng = random.Random(5)
    checked = 0
    for _ in range(20_000):
        text = "".join(rng.choice("{}[]xxxx") for _ in range(rng.randint(2, 40)))
        xs = [i for i, c in enumerate(text) if c == "x"]
        if len(xs) < 2:
            continue
        pos = rng.choice(xs)
        rest = [x for x in xs if x != pos]
        others = sorted(rng.sample(rest, rng.randint(1, len(rest))))
        lo = rng.randint(0, min(others[0], pos))
        hi = rng.randint(max(others[-1], pos) + 1, len(text))
        expected = any(_same_level(text, *sorted((o, pos))) for o in others)
        assert any_at_level(text, pos, others, lo, hi) == expected, (text, pos, others, lo, hi)
        checked += 1
    assert checked > 10_000


def test_a_severity_beside_or_nested():
    text = '{"id": "x", "detail": {"severity": 1}} {"severity": 2, "more": [1], "id": "y"}'
    first_id, second_id = text.index('"x"'), text.index('"y"')
    nested, outer = text.index('"severity": 1'), text.index('"severity": 2')
    assert not any_at_level(text, first_id, [nested], 0, len(text))
    assert any_at_level(text, second_id, [nested, outer], 0, len(text))
