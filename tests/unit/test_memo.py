"""The bounded memo (agent/engine/memo.py): keys are private, the bounds hold, a value is stored once."""

from __future__ import annotations

from agent.engine.memo import Memo, private_key


def test_a_key_put_twice_weighs_once():
    # A piece that stands twice in one body is a miss both times and put twice: it must not count
    # twice towards the budget (which would empty the memo early).
    memo: Memo[str] = Memo(10, budget=7)
    key, found = memo.get(("piece",))
    assert found is None
    memo.put(key, "spans", 3)
    memo.put(key, "spans", 3)
    assert memo._weight == 3
    other, _ = memo.get(("other piece",))
    memo.put(other, "more", 2)           # 3 + 2 is within the budget (3 + 3 + 2 is not): nothing emptied
    assert len(memo) == 2


def test_bounds_empty_the_memo():
    memo: Memo[int] = Memo(3, budget=100)
    for n in range(3):
        memo.put(memo.get((f"piece {n}",))[0], n)
    memo.put(memo.get(("one more",))[0], 9)
    assert len(memo) == 1
    heavy: Memo[int] = Memo(100, budget=10)
    heavy.put(heavy.get(("a",))[0], 1, 8)
    heavy.put(heavy.get(("b",))[0], 2, 8)
    assert len(heavy) == 1 and heavy._weight == 8


def test_private_key_is_two_different_hashes_of_the_text():
    first, second = private_key(("some text",))
    assert first != second
    assert private_key(("some text",)) == (first, second)
    assert private_key(("other text",)) != (first, second)
    assert private_key((1, "x")) != private_key((1, "y"))
