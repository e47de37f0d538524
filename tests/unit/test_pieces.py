"""What the engine remembers between requests reads as a fresh read (``json_layout.pieces``,
``Finder.find``'s memo of pieces, ``json_layout._NODES``).

A conversation resends its earlier turns, system prompt and tools every time, so the engine keeps,
per root value or array element of a body (a piece), what it found there. These tests try to make a
remembered piece read differently from a fresh one: pieces that move (the Claude Code key order puts
``messages`` before ``system`` and ``tools``, so every turn shifts them), pieces whose neighbours
change, signed thinking blocks (protected spans), cache markers that move between turns, the fuzz
lane's conversations, and the recall artifacts as turns. Each compares a masker that has seen the
conversation so far with one that forgets everything before each request.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.engine import json_layout
from agent.engine.json_layout import analyse, pieces
from tests.support import fuzz_invariants, recall_artifacts
from tests.support.masker_support import masker

FIXTURE = Path(__file__).resolve().parents[2] / "bench" / "fixtures" / "claude_code_2.1.332_hi.json"
_SIGNATURE = "EqQBCkgIARABGAIiQ" + "x" * 300


def _forget(m) -> None:
    m.finder._pieces._data.clear()
    m._clean_strings._data.clear()
    json_layout._NODES._data.clear()


def _both(body: bytes):
    """(the shared masker's answer, having seen what came before; a fresh read's answer)."""
    m = masker()
    warm = m.mask_body(body, "application/json")
    saved = (dict(m.finder._pieces._data), dict(json_layout._NODES._data), dict(m._clean_strings._data))
    _forget(m)
    cold = m.mask_body(body, "application/json")
    m.finder._pieces._data.update(saved[0])
    json_layout._NODES._data.update(saved[1])
    m._clean_strings._data.update(saved[2])
    return warm, cold


def _assert_same(body: bytes) -> None:
    warm, cold = _both(body)
    assert warm.body == cold.body
    assert warm.restore_map == cold.restore_map
    assert warm.counts == cold.counts
    text = body.decode()
    lay_warm = analyse(text)
    json_layout._NODES._data.clear()
    lay_cold = analyse(text)
    assert (lay_warm.protected_starts, lay_warm.protected_ends) == (lay_cold.protected_starts, lay_cold.protected_ends)


# --- the cut ------------------------------------------------------------------------------------
_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=12), _values, max_size=6), st.sampled_from([None, 1, 2]),
       st.booleans())
def test_pieces_are_whole_values_in_order(doc, indent, ascii_only):
    text = json.dumps(doc, indent=indent, ensure_ascii=ascii_only)
    found = pieces(analyse(text).neutral)
    assert found is not None
    expected = [(k, v) for k, value in doc.items() for v in (value if isinstance(value, list) else [value])]
    assert [json.loads(text[s:e]) for s, e, _ in found] == [v for _, v in expected]
    # keys as written (an escaped spelling is not the API's key: no role, as in the structure walk)
    assert all(k == key for (_, _, k), (key, _) in zip(found, expected, strict=True)
               if json.dumps(key, ensure_ascii=ascii_only)[1:-1] == key)
    ends = [0] + [e for _, e, _ in found]
    assert all(s >= prev for (s, _, _), prev in zip(found, ends, strict=False))


@pytest.mark.parametrize("text", ['[{"a": 1}]', '{"a": 1}\n{"b": 2}\n', '"x"', "3", '{"a": [1, 2]} []'])
def test_no_pieces_unless_one_object(text):
    assert pieces(text) is None


@pytest.mark.parametrize("element", ["1", '""', "{}", '{"type": "text", "text": "x"}'])
def test_an_array_of_data_is_no_conversation(element, monkeypatch):
    """Bounded work: 400,000 small values (what no conversation holds) cost MAX_PIECES steps, not one
    per value; past that the body is read whole, as it was before pieces."""
    steps = []
    real = json_layout._value_end
    monkeypatch.setattr(json_layout, "_value_end", lambda n, p: steps.append(p) or real(n, p))
    text = '{"model": "m", "messages": [' + ", ".join([element] * 400_000) + "]}"
    assert pieces(text) is None
    assert len(steps) <= json_layout.MAX_PIECES + 2
    text = '{"messages": [' + ", ".join([element] * json_layout.MAX_PIECES) + "]}"
    assert len(pieces(text)) == json_layout.MAX_PIECES


# --- remembered reads as fresh ------------------------------------------------------------------
def _claude_code_turns(texts: list[str]) -> list[bytes]:
    """A Claude Code conversation growing by one exchange per text: the user pastes it, the
    assistant thinks (signed), calls a tool, gets the text back as its result; the cache marker
    moves to the newest message each turn, as Claude Code does."""
    base = json.loads(FIXTURE.read_text())
    messages: list[dict] = list(base["messages"])
    out = []
    for n, text in enumerate(texts):
        for m in messages:
            if isinstance(m["content"], list):
                for block in m["content"]:
                    block.pop("cache_control", None)
        messages.append({"role": "user", "content": [{"type": "text", "text": text,
                                                      "cache_control": {"type": "ephemeral"}}]})
        messages.append({"role": "assistant", "content": [
            {"type": "thinking", "thinking": f"look at {text[:200]}", "signature": _SIGNATURE},
            {"type": "tool_use", "id": f"toolu_{n:02d}", "name": "Bash", "input": {"command": text[:300]}}]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"toolu_{n:02d}", "content": text * 2}]})
        out.append(json.dumps({**base, "messages": messages}).encode())
    return out


def test_claude_code_conversation_of_recall_artifacts():
    cases = recall_artifacts.generate(seed=5, per_template=1)
    texts = [c.text for c in cases]
    chunk = [("\n\n".join(texts[i:i + 6])) for i in range(0, len(texts), 6)]
    for body in _claude_code_turns(chunk[:40]):
        _assert_same(body)


def test_thinking_signatures_stay_protected_when_remembered():
    bodies = _claude_code_turns(["acct 123456789012 role arn:aws:iam::123456789012:role/deploy-x " * 20] * 4)
    for body in bodies:
        _assert_same(body)
        masked = masker().mask_body(body, "application/json").body.decode()
        assert masked.count(_SIGNATURE) == body.decode().count(_SIGNATURE)


@pytest.mark.parametrize("seed", range(60))
def test_fuzz_conversations(seed):
    turn1, turn2, _ = fuzz_invariants.bodies(fuzz_invariants.make_case(seed))
    for body in (turn1, turn2, turn2):
        _assert_same(body.encode())


def test_a_piece_moved_or_among_other_neighbours():
    """The same tool result at another offset, after other messages, under another key order."""
    paste = "aws s3 ls s3://orion-ledger-exports-77\n" + "i-0abc1234def567890 in vpc-0a1b2c3d4e5f60718\n" * 30
    block = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": paste}]}
    shapes = [
        {"model": "m", "messages": [block]},
        {"model": "m", "system": "you are terse " * 100, "messages": [{"role": "user", "content": "hi " * 300}, block]},
        {"messages": [block, {"role": "assistant", "content": "ok " * 300}], "model": "m"},
        {"messages": [{"role": "user", "content": "prod account 210987654321 " * 40}, block], "model": "m"},
    ]
    for shape in shapes:
        _assert_same(json.dumps(shape).encode())


def test_memo_entries_hold_no_text():
    """Spans, priorities, kinds and flags: nothing of the body (the kinds are the packs' names)."""
    m = masker()
    body = _claude_code_turns(["bucket orion-ledger-exports-77 account 123456789012 " * 30])[0]
    m.mask_body(body, "application/json")
    kinds = set(m.kinds)

    def check(value) -> None:
        if isinstance(value, (tuple, list)):
            for v in value:
                check(v)
        else:
            assert isinstance(value, (int, bool)) or value in kinds, type(value)

    # special strings read clean: a system prompt with escapes, as json.dumps writes it
    m.mask_body(json.dumps({"system": "notes \u2014 " + "plain words here. " * 60,
                            "messages": [{"role": "user", "content": "hi"}]}).encode(), "application/json")
    assert m.finder._pieces._data and m._clean_strings._data
    for value in [*m.finder._pieces._data.values(), *json_layout._NODES._data.values(),
                  *m._clean_strings._data.values()]:
        check(value)
    for key in m._clean_strings._data:
        check(key)
