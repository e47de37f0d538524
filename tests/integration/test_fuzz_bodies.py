"""Fuzzing request bodies: hypothesis builds JSON documents with AWS identifiers planted in random
places (values, keys, nested deep, next to escapes) and random encodings (raw, ``\\uXXXX`` escapes,
``\\/``, percent-encoded URLs, non-ASCII around them). For each: nothing planted survives masking in
any encoding (tests/mock_upstream.LeakScanner), the output parses, and restore(mask(x)) == x
(as JSON values, percent-encoding normalised). A smaller number of examples goes through the real
gateway to a leak-scanning upstream, and the client must get the original text back."""

from __future__ import annotations

import json
import random
import subprocess
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.engine.restore import restore_text
from tests.support.harness import CERTS, Gateway
from tests.support.masker_support import masker
from tests.support.mock_upstream import LeakScanner, MockUpstream
from tests.unit.test_propagation_across_strings import SEEDS, _case_body

HEX = "0123456789abcdef"


@st.composite
def identifier(draw) -> tuple[str, list[str]]:
    """(text to plant, originals that must not survive)."""
    kind = draw(st.integers(0, 6))
    if kind == 0:
        prefix = draw(st.sampled_from(["i", "vpc", "subnet", "sg", "vol", "eni"]))
        v = prefix + "-" + draw(st.text(HEX, min_size=17, max_size=17))
        return v, [v]
    if kind == 1:
        v = draw(st.sampled_from(["subnet", "sg", "i"])) + "-" + draw(st.text(HEX, min_size=8, max_size=8))
        return v, [v]
    if kind == 2:
        v = "AKIA" + draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16))
        return v, [v]
    if kind == 3:
        v = f"10.{draw(st.integers(0, 255))}.{draw(st.integers(0, 255))}.{draw(st.integers(1, 254))}"
        return v, [v]
    acct = "1" + draw(st.text("0123456789", min_size=11, max_size=11))
    if kind == 4:
        return f"account {acct}", [acct]
    if kind == 5:
        return f'"AccountId": "{acct}"', [acct]
    role = draw(st.from_regex(r"[a-z][a-z0-9-]{5,15}", fullmatch=True))
    arn = f"arn:aws:iam::{acct}:role/{role}"
    return arn, [acct, arn]


GLUE = st.sampled_from([" ", "\n", "\t", ", ", '"', "'", "(", ") ", ": ", "=", " é ", "→", "\\"])
FILLER = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12).map(
    lambda t: t if not t or not t[-1].isalnum() else t + " ")


@st.composite
def planted_string(draw, sink: list[str]) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        text, originals = draw(identifier())
        sink.extend(originals)
        if draw(st.integers(0, 4)) == 0 and text.startswith("arn:"):
            text = "https://console.aws.amazon.com/go?arn=" + urllib.parse.quote(text, safe="")
        parts += [draw(FILLER), draw(GLUE), text, draw(GLUE)]
    return "".join(parts)


def encode_string(s: str, mode: int, rnd: random.Random) -> str:
    """A JSON string literal for ``s`` in one of several legal spellings."""
    if mode == 0:
        return json.dumps(s, ensure_ascii=False)
    if mode == 1:
        return json.dumps(s)
    if mode == 2:
        return json.dumps(s).replace("/", "\\/")
    out = ['"']                                        # random characters as \uXXXX
    for ch in s:
        lit = json.dumps(ch, ensure_ascii=False)[1:-1]
        if rnd.random() < 0.4 and ord(ch) < 0x10000:
            lit = f"\\u{ord(ch):04x}" if rnd.random() < 0.5 else f"\\u{ord(ch):04X}"
        out.append(lit)
    out.append('"')
    return "".join(out)


@st.composite
def documents(draw) -> tuple[str, list[str]]:
    """(raw JSON text, planted originals)."""
    sink: list[str] = []
    rnd = random.Random(draw(st.integers(0, 2**32)))

    def value(depth: int) -> str:
        choice = draw(st.integers(0, 6 if depth < 4 else 2))
        if choice == 0:
            return encode_string(draw(planted_string(sink)), draw(st.integers(0, 3)), rnd)
        if choice == 1:
            return json.dumps(draw(st.one_of(st.integers(), st.booleans(), st.none(), st.text(max_size=8))))
        if choice == 2:
            return encode_string(draw(st.text(max_size=10)), 1, rnd)
        if choice in (3, 4):
            n = draw(st.integers(0, 3))
            keys = []
            for i in range(n):
                if draw(st.integers(0, 3)) == 0:
                    keys.append(encode_string(draw(planted_string(sink)), draw(st.integers(0, 3)), rnd))
                else:
                    keys.append(json.dumps(f"k{i}"))
            return "{" + ", ".join(f"{k}: {value(depth + 1)}" for k in keys) + "}"
        return "[" + ",".join(value(depth + 1) for _ in range(draw(st.integers(0, 3)))) + "]"

    doc = '{"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": ' + \
        encode_string(draw(planted_string(sink)), draw(st.integers(0, 3)), rnd) + '}], "metadata": ' + value(0) + "}"
    return doc, sink


def normalise(value: object, restore_map: dict[str, str] | None = None) -> object:
    """Every string percent-decoded (and restored with ``restore_map``): what the text means."""
    if isinstance(value, str):
        text = urllib.parse.unquote(value)
        return restore_text(text, restore_map) if restore_map else text
    if isinstance(value, list):
        return [normalise(v, restore_map) for v in value]
    if isinstance(value, dict):
        return {normalise(k, restore_map): normalise(v, restore_map) for k, v in value.items()}
    return value


@settings(max_examples=200, deadline=None)
@given(documents())
def test_nothing_survives_output_parses_and_restores(doc):
    raw, originals = doc
    json.loads(raw)                                    # the generator makes valid JSON
    result = masker().mask_body(raw.encode(), "application/json")
    masked = result.body.decode()
    out = json.loads(masked)                           # still valid JSON
    leaks = LeakScanner(originals).scan(masked, "body")
    assert not leaks, leaks
    assert out.keys() == json.loads(raw).keys()
    # Restored in the meaning domain: a pseudonym right after "%3A" is not a whole token in the raw
    # text (and the streaming restore would leave it too), decoded it is.
    assert normalise(out, result.restore_map) == normalise(json.loads(raw))


# --------------------------------------------------------------------------------------------------
# Through the real gateway (fewer examples: each is a real HTTP round trip)
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway_and_upstream(tmp_path_factory, certs, haproxy):
    up = MockUpstream(str(CERTS / "server.crt"), str(CERTS / "server.key"), originals=[]).start()
    gw = Gateway(tmp_path_factory.mktemp("fuzz-gw"), up.port, haproxy=haproxy)
    try:
        gw.start()
        yield gw, up
    finally:
        gw.stop()
        up.stop()


def _post(gw: Gateway, up: MockUpstream, target: str, raw: str):
    """POST ``raw`` as JSON through the gateway with curl: (the client's answer, the one request the
    upstream received), after asserting a 200 and exactly one upstream request."""
    up.received.clear()
    r = subprocess.run(["curl", "-sS", "--max-time", "20", gw.http_url + target,
                        "-H", "content-type: application/json", "--data-binary", "@-", "-w", "\n%{http_code}"],
                       input=raw.encode(), capture_output=True, timeout=30)
    out, code = r.stdout.rsplit(b"\n", 1)
    assert code == b"200", out[:500]
    assert len(up.received) == 1
    return out, up.received[0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents())
def test_through_the_gateway(gateway_and_upstream, doc):
    raw, originals = doc
    out, got = _post(*gateway_and_upstream, "/v1/messages?beta=true", raw)
    leaks = LeakScanner(originals).scan_request(got)
    assert not leaks, leaks
    json.loads(got.body)
    # The mock echoes the (masked) user text; the client must read the original text again.
    sent_text = json.loads(raw)["messages"][0]["content"]
    answer = json.loads(out)["content"][0]["text"]
    assert urllib.parse.unquote(answer) == urllib.parse.unquote(sent_text)


@pytest.mark.parametrize(("kind", "first", "second", "order"), [
    ("account", "u_escaped", "utf8", "alone_first"), ("account", "utf8", "u_escaped", "identified_first"),
    ("bucket", "json_inside", "utf8", "identified_first"), ("role", "slash", "value_escaped", "alone_first")])
def test_a_value_named_in_one_message_is_masked_in_the_other(gateway_and_upstream, kind, first, second, order):
    """Propagation across a body's strings, through the gateway: an account, a bucket or a role named
    in one message and standing alone in the other, each message written its own way (json.dumps'
    \\uXXXX, PHP's \\/, JSON inside a tool result, plain UTF-8): none reaches the upstream, in any
    encoding, and the client reads its own text again."""
    raw = _case_body(kind, first, second, order)
    out, got = _post(*gateway_and_upstream, "/v1/messages", raw)
    leaks = LeakScanner([SEEDS[kind][0]]).scan_request(got)
    assert not leaks, leaks
    assert json.loads(got.body)["messages"] != json.loads(raw)["messages"]
    # The mock echoes the last user text (a tool result's, for one); the client reads its own again.
    user = json.loads(raw)["messages"][0]["content"]
    sent = user if isinstance(user, str) else user[0]["content"]
    assert json.loads(out)["content"][0]["text"] == sent
