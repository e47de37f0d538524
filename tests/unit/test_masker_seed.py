"""The seed corpus (tests/corpus/seed-cases.jsonl, copied from ../shared/corpus): must_mask values
never survive; an empty must_mask means the text comes out unchanged. Each case runs as plain text
and inside a JSON request."""

from __future__ import annotations

import pytest

from tests.support.masker_support import SEED, load_jsonl, masker, message_text, request

CASES = load_jsonl(SEED)
assert len(CASES) == 60, "the seed corpus is incomplete"


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:50] for c in CASES])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_seed_case(case, as_json):
    m = masker()
    if as_json:
        out = message_text(m.mask_body(request(case["text"]), "application/json").body)
    else:
        out = m.mask_body(case["text"].encode(), "text/plain").body.decode()
    if not case["must_mask"]:
        assert out == case["text"]
    for value in case["must_mask"]:
        assert value not in out
