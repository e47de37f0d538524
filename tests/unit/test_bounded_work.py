"""Bounded work (issue 11, item 1): no value makes pseudonym assignment loop, whatever it is.

A name that is nothing but a region or an AZ used to get a pseudonym equal to itself, which the
assignment rejected and retried forever (``{"Name": "eu-west-1a"}`` hung the agent). Now:
- a name with nothing to hide (no letter or digit outside its regions and AZs) is not masked at all
  (``splitters.nothing_secret``): a region is public vocabulary;
- every retry is bounded (``assign.MAX_TWEAKS``), names and IP labels fall back to a second form,
  and a request with no free pseudonym left is refused with an Anthropic-shaped 400.

Degenerate values come from AWS grammar pieces (every region and AZ of botocore's endpoint data),
each case under a hard timeout so a hang fails the case instead of freezing the suite. Case ids
and failure messages name the case, never the value.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from agent.engine.assignment import MAX_TWEAKS, Assignment
from agent.engine.detectors import Kind
from agent.engine.masker import Masker
from agent.engine.pseudonyms import Generator
from agent.engine.restore import restore_text
from agent.engine.results import MaskRefused
from agent.engine.splitters import REGION, nothing_secret
from tests.support import aws_grammar as g
from tests.support.deadline import hard_timeout
from tests.support.masker_support import shipped_packs

ROOT = Path(__file__).resolve().parents[2]
KEY = b"bounded-work-test-key-0123456789abcdef"
# pytest-timeout's own timer must not take SIGALRM from hard_timeout below.
pytestmark = pytest.mark.timeout(300, method="thread")


_MASKER: Masker | None = None


def masker() -> Masker:
    global _MASKER
    if _MASKER is None:
        _MASKER = Masker(KEY, shipped_packs())
    return _MASKER


# --- degenerate values, from grammar pieces -------------------------------------------------------
def _pseudonym_of_a_name() -> str:
    body = json.dumps({"Name": "orders-archive-7"}).encode()
    return json.loads(masker().mask_body(body, "application/json").body)["Name"]


def degenerate_values() -> list[tuple[str, str]]:
    """(case id, value). The id says what the value is made of, never the value."""
    rng = random.Random(11)
    out: list[tuple[str, str]] = []
    out += [(f"region-{i}", r) for i, r in enumerate(g.regions())]
    out += [(f"az-{i}", az) for i, az in enumerate(g.azs())]
    out += [(f"kept-only-{i}", g.kept_only(rng)) for i in range(40)]
    out += [(f"region-sep-{i}", r + sep) for i, (r, sep) in
            enumerate((rng.choice(g.regions()), s) for s in g.SEPARATORS)]
    out += [(f"account-{i}", g.account(rng)) for i in range(5)]
    out += [(f"region-account-{i}", rng.choice(g.regions()) + "-" + g.account(rng)) for i in range(5)]
    out += [("pseudonym-of-a-name", _pseudonym_of_a_name())]
    seps = ["".join(rng.choice(g.SEPARATORS) for _ in range(n)) for n in (1, 2, 3, 8)]
    out += [(f"separators-{i}", s) for i, s in enumerate(seps)]
    out += [("empty", "")]
    out += [(f"one-char-{i}", c) for i, c in enumerate("aZ7-")]
    out += [(f"digits-{n}", "".join(rng.choice("0123456789") for _ in range(n))) for n in (1, 2, 4, 11, 12, 13)]
    out += [(f"region-digits-{i}", rng.choice(g.regions()) + "-" + str(rng.randrange(1, 99)))
            for i in range(5)]
    return out


CONTEXTS = {
    "json-name": lambda v: json.dumps({"Name": v}),
    "json-bucket-escaped": lambda v: json.dumps(
        {"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                                    "content": json.dumps({"BucketName": v})}]}]}),
    "prose-bucket": lambda v: json.dumps({"messages": [{"role": "user", "content": f"S3 bucket {v} is empty"}]}),
    "s3-uri": lambda v: json.dumps({"system": f"aws s3 ls s3://{v}/logs/"}),
    "arn": lambda v: json.dumps({"system": f"arn:aws:s3:::{v}"}),
    "cli-flag": lambda v: json.dumps({"system": f"aws s3api head-bucket --bucket {v}\n"}),
    "yaml": lambda v: json.dumps({"system": f"Resources:\n  B:\n    Properties:\n      BucketName: {v}\n"}),
    "unicode-escaped": lambda v: ('{"Name": "' + "".join(f"\\u{ord(c):04x}" for c in v[:1])
                                  + json.dumps(v[1:])[1:] + "}"),
}

VALUES = degenerate_values()


def _degenerate_case_fails(value: str, context: str) -> str | None:
    """What is wrong with masking ``value`` in ``context`` (None: nothing)."""
    body = CONTEXTS[context](value)
    with hard_timeout():
        result = masker().mask_body(body.encode(), "application/json")
    masked = result.body.decode()
    out = json.loads(masked)                                   # valid JSON
    if json.loads(restore_text(masked, result.restore_map)) != json.loads(body):
        return "restore differs"
    if len(set(result.restore_map.values())) != len(result.restore_map):
        return "two originals, one pseudonym"
    if any(pseudo == original for pseudo, original in result.restore_map.items()):
        return "a pseudonym equal to its original"
    if value and nothing_secret(value) and out != json.loads(body):
        return "a name with nothing to hide was changed"
    return None


# One test per context over every degenerate value (3,201 cases): as separate pytest items their
# bookkeeping cost more than the masking. A failure names each case by its id, never its value.
@pytest.mark.parametrize("context", list(CONTEXTS))
def test_degenerate_values_terminate_and_round_trip(context):
    failed = {}
    for cid, value in VALUES:
        why = _degenerate_case_fails(value, context)
        if why:
            failed[f"{cid}/{context}"] = why
    assert not failed, failed


def test_every_region_and_az_is_kept():
    """REGION, which decides what a name keeps, knows every region and AZ of every partition."""
    missing = [i for i, r in enumerate(g.regions() + g.azs()) if not REGION.fullmatch(r)]
    assert not missing, f"{len(missing)} regions/AZs not matched (indexes {missing[:10]})"


# --- the assignment on its own: values that no detector would pass it ----------------------------
def _assign(items: set[tuple[str, str]], kinds: dict[str, Kind] | None = None) -> Assignment:
    with hard_timeout():
        return Assignment(Generator(KEY), kinds or shipped_packs().kinds, items)


def _assert_sound(a: Assignment, items: set[tuple[str, str]]) -> None:
    originals = {o for _, o in items}
    assert set(a.lookup) >= items
    for (kind, original), pseudo in a.lookup.items():
        assert a.restore_map[pseudo] == original
        assert pseudo not in originals, f"{kind}: pseudonym equal to an original of the request"


@pytest.mark.parametrize("index", range(0, len(g.regions()) + 6, 7))
def test_kept_only_name_gets_a_second_form(index):
    """Given to the assignment anyway, a name that is its own first form gets the second form."""
    value = (g.regions() + g.azs())[index]
    items = {("name", value)}
    a = _assign(items)
    assert a.lookup[("name", value)] != value
    _assert_sound(a, items)


def test_pigeonhole_of_one_free_character():
    """36 names that differ in one character: the first form has 36 choices, all of them taken."""
    region = g.regions()[0]
    items = {("name", f"{region}-{c}") for c in "abcdefghijklmnopqrstuvwxyz0123456789"}
    a = _assign(items)
    _assert_sound(a, items)
    assert len({a.lookup[it] for it in items}) == len(items)


def test_name_equal_to_another_names_pseudonym():
    first = _assign({("name", "orders-archive-7")}).lookup[("name", "orders-archive-7")]
    items = {("name", "orders-archive-7"), ("name", first)}
    a = _assign(items)
    _assert_sound(a, items)


def test_ip_label_whose_first_form_is_taken():
    """ip-A's first form is ip-P (P the pseudonym of A); when ip-P is itself in the request, the
    first form never changes with the tweak (it used to loop forever)."""
    ip = "10.0.0.1"
    p = _assign({("ipv4", ip)}).lookup[("ipv4", ip)]
    items = {("iplabel", "ip-" + ip.replace(".", "-")), ("iplabel", "ip-" + p.replace(".", "-"))}
    a = _assign(items)
    _assert_sound(a, items)


def test_ip_label_clash_through_the_masker():
    ip = "10.0.0.1"
    p = _assign({("ipv4", ip)}).lookup[("ipv4", ip)]
    text = f"hosts ip-{ip.replace('.', '-')}.ec2.internal and ip-{p.replace('.', '-')}.ec2.internal"
    body = json.dumps({"system": text})
    with hard_timeout():
        result = masker().mask_body(body.encode(), "application/json")
    assert json.loads(restore_text(result.body.decode(), result.restore_map)) == json.loads(body)


def test_no_free_pseudonym_refuses_the_request():
    """Every value of a format's space is in the request: refused (400, Anthropic error type),
    after at most MAX_TWEAKS attempts per original, instead of retried forever."""
    kinds = {"tiny": Kind("tiny", "digits")}
    items = {("tiny", str(d)) for d in range(1, 10)}   # one digit, never 0: all nine taken
    calls = 0
    gen = Generator(KEY)
    make = gen.make

    def counting(*args, **kwargs):
        nonlocal calls
        calls += 1
        return make(*args, **kwargs)

    gen.make = counting
    with hard_timeout(), pytest.raises(MaskRefused) as refused:
        Assignment(gen, kinds, items)
    assert refused.value.status == 400 and refused.value.error_type == "invalid_request_error"
    assert refused.value.cause == "pseudonym_exhausted"
    assert calls <= MAX_TWEAKS
    assert not any(v in refused.value.message for _, v in items if len(v) > 1)


def test_assignment_work_is_bounded_per_original():
    """At most MAX_TWEAKS pseudonyms are made per original (and each embedded account once)."""
    rng = random.Random(5)
    items = {("name", g.kept_only(rng)) for _ in range(50)} | {("name", g.name(rng)) for _ in range(200)}
    gen = Generator(KEY)
    make, calls = gen.make, [0]

    def counting(*args, **kwargs):
        calls[0] += 1
        return make(*args, **kwargs)

    gen.make = counting
    with hard_timeout():
        Assignment(gen, shipped_packs().kinds, items)
    assert calls[0] <= MAX_TWEAKS * 3 * len(items)


def test_a_full_private_range_is_refused_not_looped():
    """Every address of 192.168.0.0/16 in one body: the prefix-preserving permutation of that range
    has no free pseudonym left, so the request is refused (it used to retry forever)."""
    text = " ".join(f"192.168.{a}.{b}" for a in range(256) for b in range(256))
    with hard_timeout(60), pytest.raises(MaskRefused) as refused:
        masker().mask_body(json.dumps({"system": text}).encode(), "application/json")
    assert (refused.value.status, refused.value.cause) == (400, "pseudonym_exhausted")


# A name propagated from an ARN, then a long run after one of its stand-alone occurrences: the run is read
# once whatever it holds (before, the derived-name tail "<name>-<words>" was re-read by backtracking and
# for every occurrence inside the run: a 48,000-character run cost 0.9 s, ~800 KB would have cost hours),
# and no derived name is longer than a name can be (a pseudonym of a 400 KB one cost 3.9 s).
LONG_RUNS = {
    "hyphen-words": "-a" * 200_000 + ".x",
    "one-long-word": "-" + "a" * 400_000 + ".x",
    "the-name-repeated": "-orders-prod-exports" * 80_000,
    "dots-then-a-word": "-a" + "." * 400_000 + "x",
}


@pytest.mark.parametrize("run", list(LONG_RUNS))
def test_a_long_run_after_a_propagated_name_terminates(run):
    text = f"aws s3 ls s3://orders-prod-exports/\norders-prod-exports{LONG_RUNS[run]}\nand orders-prod-exports too"
    body = json.dumps({"messages": [{"role": "user", "content": text}]}).encode()
    with hard_timeout(30):
        masked = json.loads(masker().mask_body(body, "application/json").body)["messages"][0]["content"]
    first, *_, last = masked.split("\n")
    assert "orders-prod-exports" not in first + last, f"{run}: the name survives where it stands alone"


def test_many_values_and_long_strings_read_clean_before_stay_linear():
    """Long strings with escapes read clean once are looked through for the request's propagating
    values in one literal pass. Asked value by value and string by string, 30,000 accounts and 3 MB
    of such strings (a system prompt resent) took 31 s; in one pass ~3 s."""
    system = [{"type": "text", "text": f"block {i} \u2014 " + "plain words only here. " * 450} for i in range(300)]
    engine = masker()
    first = json.dumps({"system": system, "messages": [{"role": "user", "content": "hi"}]}).encode()
    assert engine.mask_body(first, "application/json").restore_map == {}
    accounts = [f"{100000000000 + i * 7919:012d}" for i in range(30_000)]
    text = " ".join(f"account {a}" for a in accounts) + f" and again {accounts[-1]}"
    second = json.dumps({"system": system, "messages": [{"role": "user", "content": text}]}).encode()
    with hard_timeout(15):
        masked = engine.mask_body(second, "application/json")
    assert accounts[0] not in masked.body.decode() and accounts[-1] not in masked.body.decode()
