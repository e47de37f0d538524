"""Property tests (hypothesis): mask/restore round trips, adversarial JSON encodings, pseudonym
invariants (format, determinism, no collisions, re-masking restorable)."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.engine import restore_map
from agent.engine.restore import restore_text
from tests.support.effort import examples
from tests.support.masker_support import masker

HEX = "0123456789abcdef"
ids = st.one_of(
    st.builds(lambda p, h: f"{p}-{h}", st.sampled_from(["i", "vpc", "subnet", "sg", "ami", "tgw-attach"]),
              st.text(HEX, min_size=17, max_size=17)),
    st.builds(lambda d: "1" + d, st.text("0123456789", min_size=11, max_size=11)),
    st.builds(lambda a, b, c: f"10.{a}.{b}.{c}", st.integers(0, 255), st.integers(0, 255), st.integers(1, 254)),
    st.builds(lambda k: "AKIA" + k, st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16)),
    st.builds(lambda a, n: f"arn:aws:iam::{a}:role/{n}", st.text("0123456789", min_size=12, max_size=12),
              st.from_regex(r"[A-Za-z][A-Za-z0-9-]{5,20}", fullmatch=True)),
)
glue = st.sampled_from([" ", "\n", "\t", ", ", "\"", "'", "(", ") ", ": ", "=", "/", " and "])
filler = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20).filter(
    lambda t: not re.search(r"[0-9A-Za-z]$", t))


@st.composite
def documents(draw):
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        parts += [draw(filler), draw(glue), draw(ids), draw(glue)]
    return "".join(parts)


@settings(max_examples=examples(150), deadline=None)
@given(documents())
def test_text_round_trip(text):
    r = masker().mask_body(text.encode(), "text/plain")
    restore_map.decode(restore_map.encode(r.restore_map))   # every entry is wire-safe
    assert restore_text(r.body.decode(), r.restore_map) == text


@settings(max_examples=examples(150), deadline=None)
@given(documents(), st.booleans())
def test_json_round_trip_any_encoding(text, ascii_only):
    body = json.dumps({"messages": [{"role": "user", "content": text}]}, ensure_ascii=ascii_only)
    r = masker().mask_body(body.encode(), "application/json")
    out = json.loads(r.body)["messages"][0]["content"]
    assert restore_text(out, r.restore_map) == text


@settings(max_examples=examples(100), deadline=None)
@given(documents())
def test_masking_twice_restores(text):
    m = masker()
    first = m.mask_body(text.encode(), "text/plain")
    second = m.mask_body(first.body, "text/plain")
    assert restore_text(second.body.decode(), second.restore_map) == first.body.decode()


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(ids, min_size=1, max_size=12, unique=True))
def test_no_shared_pseudonyms_and_no_pseudonym_is_an_original(values):
    text = " ; ".join(values)
    r = masker().mask_body(text.encode(), "text/plain")
    assert len(set(r.restore_map)) == len(r.restore_map)
    originals = set(r.restore_map.values())
    assert not originals & set(r.restore_map)


@settings(max_examples=examples(100), deadline=None)
@given(st.text(HEX, min_size=17, max_size=17), st.integers(0, 255), st.integers(0, 255))
def test_formats_preserved(h, b, c):
    text = f"i-{h} 10.{b}.{c}.7 10.{b}.{c}.9 192.168.{b}.{c}"
    r = masker().mask_body(text.encode(), "text/plain")
    inst, ip1, ip2, ip3 = r.body.decode().split()
    assert re.fullmatch(r"i-[0-9a-f]{17}", inst)
    assert ip1.startswith("10.") and ip3.startswith("192.168.")
    assert ip1.rsplit(".", 1)[0] == ip2.rsplit(".", 1)[0]   # same /24 stays the same /24


def test_same_account_same_pseudonym_everywhere():
    acct = "123456789012"
    text = (f"arn:aws:iam::{acct}:role/App {acct}.dkr.ecr.us-east-1.amazonaws.com/app "
            f"s3://logs-{acct}-us-east-1/x account {acct}")
    out = masker().mask_body(text.encode(), "text/plain").body.decode()
    assert acct not in out
    pseudo = re.search(r"arn:aws:iam::(\d{12}):", out).group(1)
    assert out.count(pseudo) == 4
    assert "-us-east-1/x" in out   # region inside the bucket name stays readable
