"""A value identified in one string of a request is masked in every other, however each is written.

Propagation (``finder._propagate``): an account or a name identified somewhere (in an ARN, an
``s3://`` URL) is masked wherever else it stands alone. A JSON body is read as several texts: the
plain strings in one pass, and each string that holds escapes (``\\uXXXX``, ``\\/``, JSON inside)
decoded on its own. Propagation has to cross between them. Python's ``json.dumps`` writes every
non-ASCII character as ``\\uXXXX`` by default, so one em dash in a pasted line made its string a
decoded one, and an account named in an ARN in another message stayed in clear there (and the
other way round).

Every pair of encodings, both orders: nothing survives, the body restores, and the masked document
is the same as when both strings are written as plain UTF-8 (the same request, spelt otherwise).
"""

from __future__ import annotations

import json
import random

import pytest

from tests.support.fuzz_invariants import _restored, _survives, _views
from tests.support.masker_support import masker
from tests.support.recall_artifacts import Gen

_GEN = Gen(20261206)
_ACCOUNT, _BUCKET, _ROLE = _GEN.account(), _GEN.bucket(), f"{_GEN.name()}-deployer-7"

# (what is identified, the text that identifies it, a text where it stands alone)
SEEDS = {
    "account": (_ACCOUNT, f"assume arn:aws:iam::{_ACCOUNT}:role/ops first", f"the number {_ACCOUNT} again"),
    "bucket": (_BUCKET, f"aws s3 cp s3://{_BUCKET}/exports/a.csv .", f"then copy it to {_BUCKET} now"),
    "role": (_ROLE, f"arn:aws:iam::{_ACCOUNT}:role/{_ROLE} failed", f"grant {_ROLE} read access"),
}


def _utf8(text: str) -> str:
    return json.dumps(text + " \u2014 a/b", ensure_ascii=False)


def _u_escaped(text: str) -> str:     # json.dumps' default: the em dash as \u2014
    return json.dumps(text + " \u2014 a/b")


def _slash(text: str) -> str:         # PHP's json_encode: every / as \/
    return _utf8(text).replace("/", "\\/")


def _value_escaped(text: str) -> str:  # the value's own first character as a \u escape
    lit = _utf8(text)
    for value, _, _ in SEEDS.values():
        lit = lit.replace(value, f"\\u{ord(value[0]):04x}{value[1:]}")
    return lit


def _json_inside(text: str) -> str:   # a tool result holding JSON text, itself with escapes
    return json.dumps(json.dumps({"log": text + "\n", "n": 1}), ensure_ascii=False)


ENCODINGS = {"utf8": _utf8, "u_escaped": _u_escaped, "slash": _slash, "value_escaped": _value_escaped,
             "json_inside": _json_inside}
SAME_VALUE = ("utf8", "u_escaped", "slash", "value_escaped")   # these spell the same string value


def _body(first: str, second: str) -> str:
    return ('{"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": ['
            f'{{"role": "user", "content": {first}}}, {{"role": "assistant", "content": {second}}}]}}')


CASES = [(kind, a, b, order) for kind in SEEDS for a in ENCODINGS for b in ENCODINGS
         for order in ("identified_first", "alone_first")]


def _case_body(kind: str, a: str, b: str, order: str) -> str:
    _, identifying, alone = SEEDS[kind]
    texts = (identifying, alone) if order == "identified_first" else (alone, identifying)
    return _body(ENCODINGS[a](texts[0]), ENCODINGS[b](texts[1]))


@pytest.mark.parametrize(("kind", "a", "b", "order"), CASES)
def test_a_value_identified_anywhere_is_masked_everywhere(kind, a, b, order):
    raw = _case_body(kind, a, b, order)
    result = masker().mask_body(raw.encode(), "application/json")
    masked = result.body.decode()
    value = SEEDS[kind][0]
    assert not _survives(value, _views(masked)), f"{kind} survives with {a} then {b} ({order})"
    assert _restored(json.loads(masked), result.restore_map) == _restored(json.loads(raw), {})
    if a in SAME_VALUE and b in SAME_VALUE:
        plain = masker().mask_body(_case_body(kind, "utf8", "utf8", order).encode(), "application/json")
        assert json.loads(masked) == json.loads(plain.body), "the same request spelt otherwise masks otherwise"


def test_propagation_reaches_strings_the_decoded_pass_found_nothing_in():
    """Many escaped strings, one of them holding the bare value: the one literal pass over their
    decoded text finds which to read again, wherever it sits among them."""
    rng = random.Random(7)
    filler = [json.dumps(f"note {i} \u2014 nothing here {rng.randrange(10**6)}") for i in range(40)]
    for at in (0, 17, 39):
        strings = list(filler)
        strings[at] = _u_escaped(SEEDS["account"][2])
        content = ", ".join(f'{{"type": "text", "text": {s}}}' for s in strings)
        raw = ('{"messages": [{"role": "user", "content": ' + _utf8(SEEDS["account"][1]) + '}, '
               '{"role": "user", "content": [' + content + ']}]}')
        masked = masker().mask_body(raw.encode(), "application/json").body.decode()
        assert not _survives(_ACCOUNT, _views(masked)), f"account survives at string {at}"
