"""Anchors with non-ASCII characters (CJK labels): allowed only in a class that also holds '?', and
Hyperscan scans them without those characters (its input maps every non-ASCII character to '?')."""

from __future__ import annotations

import pytest

from agent.engine.detectors import PackError, load_packs
from agent.engine.prefilter import hyperscan_pattern, make_prefilter

PACK = """pack: t
detectors:
  - id: t-cjk
    kind: account
    regex: '[\\u3000-\\uffef](?P<value>[0-9]{12})'
    anchors: ['ANCHOR']
    window: 0
    examples: {match: [{text: '계정555012345678', masks: ['555012345678']}], no_match: ['x555012345678']}
"""


def test_hyperscan_pattern_drops_non_ascii():
    assert hyperscan_pattern("[?\u3000-\uffef\uc815][0-9]{4}") == b"[?][0-9]{4}"


@pytest.mark.parametrize("anchor,ok", [("[?\u3000-\uffef][0-9]{4}", True), ("[\u3000-\uffef][0-9]{4}", False),
                                       ("\uacc4\uc815", False)])
def test_non_ascii_anchor_needs_a_class_with_question_mark(tmp_path, anchor, ok):
    (tmp_path / "t.yaml").write_text(PACK.replace("ANCHOR", anchor), encoding="utf-8")
    if not ok:
        with pytest.raises(PackError, match="non-ASCII"):
            load_packs(tmp_path)
        return
    det = [d for d in load_packs(tmp_path).detectors if d.id == "t-cjk"]
    pre = make_prefilter(det)
    assert pre.scan("계정555012345678")
