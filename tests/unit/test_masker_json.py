"""JSON request bodies: detection on decoded strings, valid JSON out, byte-exact pass-through of
signed thinking, signatures, encrypted fields and base64 sources, and refusals with clear errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.engine.masker import Masker
from agent.engine.results import MaskRefused
from agent.engine.settings import MaskConfig
from tests.support.effort import examples
from tests.support.masker_support import TEST_KEY, masker, shipped_packs

IID = "i-1234567890abcdef0"
ACCT = "123456789012"


def mask(body: str | bytes, ctype: str = "application/json"):
    data = body.encode() if isinstance(body, str) else body
    return masker().mask_body(data, ctype)


@pytest.mark.parametrize("raw", [
    '{"a": "\\u0069-1234567890abcdef0"}',
    '{"a": "see\\ni-1234567890abcdef0\\nnext"}',
    '{"a": "quoted \\"i-1234567890abcdef0\\" here"}',
    '{"a": "tab\\ti-1234567890abcdef0"}',
    '{"a": "url https:\\/\\/x\\/instance%3Di-1234567890abcdef0"}',
    '{"a": "arn:aws:ec2:us-east-1:123456789012:instance\\/i-1234567890abcdef0"}',
    '{"a": "\\u0031\\u0032\\u0033456789012 is the account"}',
    # strings special only for a typographic escape (Claude Code's prompts): checked by the fast path
    '{"a": "\\u2014 i-1234567890abcdef0 \\u2014"}',
    '{"a": "\\u2014 \\u0069-1234567890abcdef0\\ud83e\\udd16"}',
    '{"a": "C:\\\\logs\\\\i-1234567890abcdef0 \\u2192 done"}',
])
def test_escaped_identifiers_are_found_and_output_is_valid_json(raw):
    out = mask(raw).body.decode()
    decoded = json.dumps(json.loads(out))
    assert IID not in decoded and "1234567890abcdef0" not in json.loads(out)["a"]
    assert json.loads(out)  # still valid JSON


def test_escaped_account_decoded():
    out = mask('{"a": "account \\u0031\\u0032\\u0033456789012"}').body
    assert ACCT not in json.loads(out)["a"]


def test_escape_adjacent_n_is_not_eaten():
    out = json.loads(mask('{"a": "x\\ni-1234567890abcdef0\\n"}').body)["a"]
    assert out.startswith("x\ni-") and out.endswith("\n") and len(out) == len("x\ni-1234567890abcdef0\n")


def test_untouched_bytes_identical_and_deterministic():
    body = ('{"system":  "You are helpful.\\u00e9",\n '
            '"messages": [{"role":"user","content":"vm i-1234567890abcdef0 ok"}]}')
    r1, r2 = mask(body), mask(body)
    assert r1.body == r2.body
    out = r1.body.decode()
    i = body.index(IID)
    assert out[:i] == body[:i] and out[i + len(IID):] == body[i + len(IID):]


def test_thinking_blocks_signature_encrypted_and_base64_pass_byte_exact():
    thinking = ('{"type": "thinking", "thinking": "I see i-1234567890abcdef0 and 10.0.0.5", '
                '"signature": "EqQBi-1234567890abcdef0=="}')
    redacted = '{"type":"redacted_thinking","data":"i-1234567890abcdef0AKIAIOSFODNN7EXAMPLE"}'
    image = ('{"type":"image","source":{"type":"base64","media_type":"image/png",'
             '"data":"iVBORw0KGgo123456789012AKIAIOSFODNN7EXAMPLE"}}')
    enc = '{"type":"compaction","content":"fine","encrypted_content":"123456789012","signature":"10.0.0.1"}'
    # A text block defines neither field: there they are data like any other, and masked.
    text = '{"type":"text","text":"vm i-1234567890abcdef0","signature":"10.0.0.1"}'
    body = ('{"messages":[{"role":"assistant","content":[' + thinking + "," + redacted + "," + image + ","
            + enc + "," + text + "]}]}")
    out = mask(body).body.decode()
    for block in (thinking, redacted, image):
        assert block in out
    assert '"encrypted_content":"123456789012"' in out and '"signature":"10.0.0.1"' in out
    assert IID not in json.loads(out)["messages"][0]["content"][4]["text"]
    assert json.loads(out)["messages"][0]["content"][4]["signature"] != "10.0.0.1"


def test_document_refused_by_default_and_passed_by_policy():
    doc = ('{"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64",'
           '"media_type":"application/pdf","data":"JVBERi0xLjQK"}},{"type":"text","text":"i-1234567890abcdef0"}]}]}')
    with pytest.raises(MaskRefused) as e:
        mask(doc)
    assert e.value.status == 415 and "document" in e.value.message and "GATEWAY_DOCUMENTS" in e.value.message
    m = Masker(TEST_KEY, shipped_packs(), MaskConfig(documents="pass"))
    out = m.mask_body(doc.encode(), "application/json").body.decode()
    assert '"data":"JVBERi0xLjQK"' in out and IID not in out


def test_text_documents_are_masked_not_refused():
    doc = ('{"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text",'
           '"media_type":"text/plain","data":"host 10.1.2.3"}}]}]}')
    assert "10.1.2.3" not in mask(doc).body.decode()


@pytest.mark.parametrize("body,ctype,status", [
    (b'{"a": ', "application/json", 400),
    (b'\xff\xfe{"a":1}', "application/json", 400),
    (b"--x\r\nContent-Disposition: form-data\r\n\r\ni-1234567890abcdef0", "multipart/form-data; boundary=x",
     415),
    (b"\x00\x01i-1234567890abcdef0", "application/octet-stream", 415),
    (b'{"a":"b"}', "application/json; charset=latin-1", 415),
])
def test_refusals(body, ctype, status):
    with pytest.raises(MaskRefused) as e:
        mask(body, ctype)
    assert e.value.status == status and e.value.message and "1234567890abcdef0" not in e.value.message


def test_keys_that_are_identifiers_are_masked_cli_keys_are_not():
    body = '{"i-1234567890abcdef0": {"InstanceId": "i-1234567890abcdef0", "State": "running"}}'
    out = mask(body).body.decode()
    assert IID not in out and '"InstanceId"' in out and '"State": "running"' in out
    data = json.loads(out)
    (key,) = data
    assert data[key]["InstanceId"] == key   # same original, same pseudonym in key and value


def test_account_as_json_number_stays_a_number():
    out = json.loads(mask('{"input": {"AccountId": 123456789012}}').body)
    assert isinstance(out["input"]["AccountId"], int) and out["input"]["AccountId"] != 123456789012


def test_tool_result_with_escaped_cli_json():
    cli = json.dumps({"Buckets": [{"Name": "acme-prod-logs"}], "Owner": {"ID": "abc"}}, indent=2)
    body = json.dumps({"messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_01", "content": cli}]}]})
    out = mask(body).body.decode()
    assert "acme-prod-logs" not in out and json.loads(out)


def test_empty_body_and_no_identifiers():
    assert mask(b"").body == b""
    body = b'{"messages":[{"role":"user","content":"hello feedback sandbox"}]}'
    r = mask(body)
    assert r.body == body and r.restore_map == {} and r.counts == {}


@pytest.mark.parametrize("key,value", [
    ("SecretAccessKey", "wJalrXUtnFEMI\\/K7MDENG\\/bPxRfiCYEXAMPLEKEY"),
    ("aws_secret_access_key", "wJalrXUtnFEMI\\/K7MDENG\\/bPxRfiCYEXAMPLEKEY"),
    ("SessionToken", "AQoDYXdzEJr1K4JWP3ZpfwcZQdxbmXfNtLH7gNBG4mDkMuaKQ\\u003d\\u003d"),
    ("BucketName", "acme\\u002dfinance\\u002dreports"),
    ("LogGroupName", "\\/aws\\/lambda\\/orders-handler-prod"),
])
def test_key_and_escaped_value_at_the_requests_own_level(key, value):
    """Tool-call arguments: the key and a value holding \\/ or \\u sit in the body's own JSON."""
    raw = ('{"messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "aws", '
           '"input": {"' + key + '": "' + value + '", "Other": "plain"}}]}]}')
    out = json.loads(mask(raw).body)
    original = json.loads('"' + value + '"')
    masked = out["messages"][0]["content"][0]["input"][key]
    assert masked != original
    for piece in original.split("/"):
        if len(piece) >= 6 and piece != "lambda":  # the AWS-defined /aws/<service>/ prefix stays readable
            assert piece not in masked


@pytest.mark.parametrize("text", ["C:\\logs\\i-1234567890abcdef0.txt", "dir\\\\i-1234567890abcdef0",
                                  "see\\ni-1234567890abcdef0", '{\\"InstanceId\\": \\"i-1234567890abcdef0\\"}'])
def test_plain_text_identifier_after_a_backslash(text):
    """Windows paths and escaped JSON pasted as text: a backslash is a separator, never a shield."""
    out = mask(text, "text/plain").body.decode()
    assert IID not in out and len(out) == len(text)


def _all_special_strings(self, text, lay):
    """Reference for the one-pass filter: every unprotected special string gets the exact view (so
    none is left for the literal pass of propagated values)."""
    from agent.engine.masker import _KEY_BEFORE, Unflagged
    out = []
    for s, e in lay.special:
        if not lay.is_protected(s - 1, e + 1):
            key = _KEY_BEFORE.search(lay.neutral, max(0, s - 80), s)
            out.append((s, e, key.start() if key is not None else s))
    return out, Unflagged([], [], "", set())


def _special_bodies() -> list[str]:
    from bench.corpora import claude_code_request, dense_inventory_request
    from tests.support.masker_support import CORPUS, load_jsonl, request
    esc = json.dumps   # ensure_ascii: every non-ASCII character becomes \uXXXX, every string special
    bodies = [esc({"messages": [{"role": "user", "content": c["text"] + " \u2014"}]})
              for f in sorted(CORPUS.glob("*.jsonl")) for c in load_jsonl(f)]
    bodies.append(claude_code_request(seed=1, target=200_000).decode())
    bodies.append(dense_inventory_request(target=60_000).decode().replace("-", "\\u002d"))
    bodies += [
        # the only finding of a string is anchored at its start, right after another special string
        esc({"a": "ends with account \u2014", "b": "2 123456789012 eni-0a1b2c3d4e5f60718 \u2014"}),
        esc({"a": "\u2014 vpc flow", "b": "\u00e92 123456789012 eni-0a1b2c3d4e5f60718"}),
        '{"a": "x \\u2014 arn:aws:iam::123456789012:role\\/deploy", "b": "\\u0069-0a1b2c3d4e5f60718"}',
        '{"SecretAccessKey": "wJalrXUtnFEMI\\/K7MDENG\\/bPxRfiCYEXAMPLEKEY", "c": "\\u2014"}',
        request("a %41%42 b \u2014 10.0.0.5").decode(),
    ]
    return bodies


def test_one_pass_special_string_filter_loses_nothing(monkeypatch):
    """The one-pass check of decoded special strings only skips strings; masking with it equals
    masking with the exact view of every special string."""
    engine = Masker(TEST_KEY, shipped_packs())
    bodies = _special_bodies()
    fast = [engine.mask_body(b.encode(), "application/json") for b in bodies]
    monkeypatch.setattr(Masker, "_strings_to_view", _all_special_strings)
    for body, got in zip(bodies, fast, strict=True):
        want = engine.mask_body(body.encode(), "application/json")
        assert (got.body, got.restore_map) == (want.body, want.restore_map)
    assert sum(bool(r.restore_map) for r in fast) > len(bodies) // 2


# A long string with an escape (so special), in which nothing is found alone, and where each value stands.
_CLEAN = "Notes \u2014 " + "we keep the nightly exports here. " * 20 + "Export target: {v} (see runbook)."
_NAMING = [
    ("acme-orders-archive-2024", "arn:aws:s3:::acme-orders-archive-2024/exports/"),
    ("481516234200", "arn:aws:iam::481516234200:role/deploy"),
]


def _spelled(body: str, value: str) -> str:
    """``body`` with the first ``value`` (the system prompt's) written as ``\\u00XX`` escapes."""
    return body.replace(value, "".join(f"\\u{ord(c):04x}" for c in value), 1)


@pytest.mark.parametrize("spell", [str, _spelled], ids=["as-is", "escaped"])
@pytest.mark.parametrize("plain", [False, True], ids=["named-in-special", "named-in-plain"])
@pytest.mark.parametrize(("value", "naming"), _NAMING, ids=["bucket", "account"])
def test_known_clean_special_string_still_takes_propagated_values(value, naming, plain, spell):
    """A long special string read clean once is skipped by the next request's decoded pass (every turn
    resends the system prompt); a value the next request names elsewhere is still masked in it, in
    every spelling, exactly as an engine that never saw the string masks it."""
    clean = _CLEAN.format(v=value)
    spelling = (lambda body: spell(body, value)) if spell is _spelled else str
    first = spelling(json.dumps({"system": clean, "messages": [{"role": "user", "content": "hi \u2014"}]}))
    user = naming + (" ok" if plain else " \u2014")
    second = spelling(json.dumps({"system": clean, "messages": [{"role": "user", "content": user}]}))
    engine = Masker(TEST_KEY, shipped_packs())
    assert engine.mask_body(first.encode(), "application/json").restore_map == {}
    got = engine.mask_body(second.encode(), "application/json")
    want = Masker(TEST_KEY, shipped_packs()).mask_body(second.encode(), "application/json")
    assert (got.body, got.restore_map) == (want.body, want.restore_map)
    out = got.body.decode()
    assert value not in out and value not in json.loads(out)["system"]


_JSONISH = "{}[]:,\" \t\n\r\\/ubfnrt0123456789.eE+-aflsNIy\u00e9\u2014\x01"


def _json_accepts(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except (ValueError, RecursionError):
        return False


def _mutations(draw_text: str) -> list[str]:
    base = json.dumps({"messages": [{"role": "user", "content": ["a\\nb", 1.5e3, None, True, {"k": "\u2014"}]}]})
    return [base[:i] + draw_text + base[i:] for i in range(0, len(base), 7)]


@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet=_JSONISH, max_size=40))
def test_the_fast_validator_accepts_nothing_json_refuses(fragment):
    """``_parses`` asks simdjson first: whatever it accepts, ``json`` must accept too (the engine's
    layout of strings relies on a valid document), on random text and on a valid body with the
    same text spliced in anywhere."""
    from agent.engine.masker import _parses, simdjson
    assert simdjson is not None, "pysimdjson is a pinned dependency"
    for text in [fragment, *_mutations(fragment)]:
        if text.startswith("\ufeff"):
            continue
        try:
            simdjson.Parser().parse(text.encode("utf-8"))
            fast = True
        except Exception:  # noqa: BLE001
            fast = False
        if fast:
            assert _json_accepts(text), text
        assert _parses(text) == _json_accepts(text), text


@pytest.mark.parametrize("ascii_only", [True, False])
def test_masked_body_is_the_text_spliced_and_encoded(ascii_only):
    """The masked body is the body with each original replaced: every non-ASCII width (2, 3 and 4
    bytes) before, between and right beside identifiers; and a body with nothing to mask comes back
    byte for byte."""
    text = ("\U0001F916 i-0a1b2c3d4e5f60718 \u2014\u4e2d arn:aws:iam::123456789012:role/app-deploy\u00e9 "
            "10.0.12.7\u2192sg-0fedcba9876543210 \u4e2d\u6587")
    body = json.dumps({"messages": [{"role": "user", "content": text}]}, ensure_ascii=ascii_only)
    got = mask(body)
    assert len(got.restore_map) >= 4
    spliced = body
    for pseudonym, original in got.restore_map.items():
        spliced = spliced.replace(original, pseudonym)
    assert got.body == spliced.encode("utf-8")
    clean = json.dumps({"messages": [{"role": "user", "content": "\U0001F916 nothing \u2014 here"}]},
                       ensure_ascii=ascii_only).encode("utf-8")
    assert mask(clean).body == clean
