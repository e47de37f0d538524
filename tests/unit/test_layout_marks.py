"""json_layout finds escapes, protection marks and %XX with Hyperscan, or with regex passes
without Hyperscan; the container step-over tries a nested regex before json's C parser. Whichever
path runs, the layout must be the same."""

from __future__ import annotations

import json
import random

from agent.engine import json_layout
from tests.support import fuzz_invariants


def _layout(text: str) -> tuple:
    lay = json_layout.analyse(text)
    return lay.scan, lay.neutral, lay.protected_starts, lay.protected_ends, lay.documents, lay.special


def _bodies() -> list[str]:
    rng = random.Random(5)
    out = []
    for seed in range(40):
        out += list(fuzz_invariants.bodies(fuzz_invariants.make_case(seed))[:2])
    kinds = ["thinking", "redacted_thinking", "text", "image", "document", "compaction", "web_search_result"]
    for _ in range(300):
        def block():
            b = {"type": rng.choice(kinds)}
            for k in rng.sample(["signature", "thinking", "encrypted_content", "text", "source", "content"], 3):
                b[k] = rng.choice(["s%41g", "thinking", "base64", 'x\\y"z', "a%2Fb", "\u00e9\\u0041", "c:\\\\u/x",
                                   {"type": "base64", "media_type": rng.choice(["image/png", "application/pdf"]),
                                    "data": "QUJD"}, [{"type": "thinking", "signature": "q"}]])
            if rng.random() < 0.6:   # long enough that a neighbour's mark is not near its brace
                b["filler"] = "word " * rng.randrange(40, 120)
            items = list(b.items())
            rng.shuffle(items)
            return dict(items)
        body = {"system": [block()], "messages": [
            {"role": rng.choice(["user", "assistant"]), "content": [block() for _ in range(rng.randrange(1, 4))]}
            for _ in range(rng.randrange(1, 4))], "tools": [{"name": "t", "input_schema": block()}]}
        out.append(json.dumps(body, indent=rng.choice([None, 1]), ensure_ascii=rng.random() < 0.5))
    filler = "word " * 80
    for kind, extra in (("redacted_thinking", {"data": "QUJD"}), ("thinking", {}),
                        ("web_search_result", {"encrypted_content": "e"}),
                        ("image", {"source": {"media_type": "image/png", "data": "QUJD", "type": "base64"}})):
        out.append(json.dumps({"messages": [
            {"role": "user", "content": [{"type": "text", "text": filler}]},
            {"role": "assistant", "content": [{"type": "text", "text": filler},
                                               {"filler": filler, **extra, "type": kind}]}]}))
    return out


def test_hyperscan_and_regex_marks_give_the_same_layout(monkeypatch):
    bodies = _bodies()
    fast = [_layout(b) for b in bodies]
    monkeypatch.setattr(json_layout, "_LAYOUT_DB", None)
    assert [_layout(b) for b in bodies] == fast
    assert any(f[2] for f in fast) and any(f[4] for f in fast) and any(f[5] for f in fast)


def test_step_over_regex_and_parser_agree(monkeypatch):
    bodies = _bodies() + ['{"a": ' + "[" * 30 + "1" + "]" * 30 + ', "messages": []}']
    fast = [_layout(b) for b in bodies]
    monkeypatch.setattr(json_layout, "_CONTAINER_MATCH", lambda *_: None)
    assert [_layout(b) for b in bodies] == fast


def test_backslash_runs_blank_alike_on_both_paths(monkeypatch):
    """Where the Hyperscan pass says escaped backslashes start, the scan text is built from those
    places; the regex pass finds them itself. Runs of 1-6 backslashes before every escape letter, a
    quote, a slash and a plain letter, in every nesting of JSON in JSON, give the same scan text."""
    values = ["a" + "\\" * k + c + "0041 b" for k in range(1, 7) for c in 'nrtbfu/"x\\']
    bodies = [json.dumps({"messages": [{"role": "user", "content": v}], "nested": json.dumps({"k": v})},
                         ensure_ascii=ascii_only) for v in values for ascii_only in (True, False)]
    bodies.append(json.dumps({"k": "\\" * 5000 + "n" + "\\\\n" * 3000}))
    fast = [_layout(b) for b in bodies]
    monkeypatch.setattr(json_layout, "_LAYOUT_DB", None)
    assert [_layout(b) for b in bodies] == fast
    assert all(lay[0] == json_layout.scan_text(b) for lay, b in zip(fast, bodies, strict=True))
