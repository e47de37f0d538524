"""agent/service/headers.py and the mask handler's header checks, without HAProxy (test_edge_requests.py
runs them through the real gateway)."""

from __future__ import annotations

import asyncio

import pytest

from agent import spop
from agent.service import headers as hdrs
from agent.service.handlers import MaskerHolder, MaskHandler, Metrics, RequestContext
from tests.support.spop_fakes import FakeMasker, fake_holder
from tests.support.spop_peer import mask_message


def handle(msg: spop.Message, metrics: Metrics | None = None) -> dict[str, object]:
    actions = asyncio.run(MaskHandler(fake_holder(), metrics)(msg, RequestContext(1, 1, 16380)))
    return {a.name: a.value.value for a in actions}


def test_hdrs_bin_round_trip_and_names_lowercased() -> None:
    pairs = [(b"Content-Type", b"application/json"), (b"x-long", b"v" * 5000), (b"x-empty", b"")]
    assert hdrs.parse_hdrs_bin(hdrs.encode_hdrs_bin(pairs)) == [(n.lower(), v) for n, v in pairs]
    assert hdrs.parse_hdrs_bin(hdrs.encode_hdrs_bin([])) == []


@pytest.mark.parametrize("raw", [b"", b"\x05ab", b"\x01a\x01b", b"\x00\x00extra", b"\xff"])
def test_malformed_hdrs_bin_is_refused(raw: bytes) -> None:
    with pytest.raises(hdrs.BadHeaders):
        hdrs.parse_hdrs_bin(raw)


def test_missing_or_malformed_hdrs_fails_closed() -> None:
    msg = mask_message(b"{}")
    without = spop.Message("mask", tuple((k, v) for k, v in msg.args if k != "hdrs"))
    broken = spop.Message("mask", tuple((k, spop.binary(b"\x05x") if k == "hdrs" else v) for k, v in msg.args))
    for bad in (without, broken):
        out = handle(bad)
        assert out["status"] == 500 and out["error_type"] == "api_error"


@pytest.mark.parametrize("value,kind", [
    ("AKIAIOSFODNN7EXAMPLE", "access-key"), ("Bearer ASIAIOSFODNN7EXAMPLE", "access-key"),
    ("ABSKQmVkcm9ja0FQSUtleS1hYmNkZWZnaGlqa2xt", "bedrock-api-key"),
    ("Bearer bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t", "bedrock-api-key"),
    ("Bedrock-Api-Key-YmVkcm9jay5hbWF6b25hd3MuY29t", "bedrock-api-key"),
    ("AKIAIOSFODNN7EXAMPLE".replace("A", "%41", 1), "access-key"),
])
def test_credentials_are_found_in_any_header(value: str, kind: str) -> None:
    for name in (b"x-api-key", b"authorization", b"x-other"):
        assert set(hdrs.aws_credentials([(name, value.encode())])) == {kind}


@pytest.mark.parametrize("value", [
    "sk-ant-api03-xxABSKQmVkcm9ja0FQSUtleS1hYmNkZWZnaGlqa2xt-AA",     # ABSK inside a token
    "sk-ant-api03-xAKIAIOSFODNN7EXAMPLE", "AKIA", "ABSKshort", "bedrock-api-key-short",
    "Bearer sk-ant-oat01-" + "Qw9" * 30,
])
def test_no_credential_in_ordinary_keys(value: str) -> None:
    assert hdrs.aws_credentials([(b"x-api-key", value.encode())]) == {}


def test_handler_refuses_credentials_and_identifiers_and_names_only_kinds() -> None:
    metrics = Metrics()
    out = handle(mask_message(b"{}", headers=[("x-api-key", "AKIAIOSFODNN7EXAMPLE")]), metrics)
    assert out["status"] == 400 and "access-key=1" in out["error"] and "AKIAIOSFODNN7EXAMPLE" not in out["error"]
    out = handle(mask_message(b"{}", headers=[("x-note", "account 123456789012")]), metrics)  # FakeMasker finds it
    assert out["status"] == 400 and "account=1" in out["error"] and "123456789012" not in out["error"]
    assert metrics.errors == {"credential_in_header": 1, "identifier_in_header": 1}


def test_credential_headers_are_not_inspected_for_identifiers_and_host_is_skipped() -> None:
    out = handle(mask_message(b"{}", headers=[("x-api-key", "123456789012"), ("authorization", "123456789012"),
                                               ("host", "123456789012.example")]))
    assert out["status"] == 200


@pytest.mark.parametrize("codings", [["gzip, identity"], ["identity", "br"], ["identity,x"]])
def test_every_content_coding_counts(codings: list[str]) -> None:
    out = handle(mask_message(b"{}", cenc="identity", headers=[("content-encoding", c) for c in codings]))
    assert out["status"] == 415


def test_identity_codings_pass() -> None:
    out = handle(mask_message(b"{}", cenc="identity", headers=[("content-encoding", "identity, Identity")]))
    assert out["status"] == 200


def test_header_and_url_verdicts_are_remembered_per_engine() -> None:
    """The same headers and URL on every request (a client's usual case) are searched once per engine:
    the verdict, refusal included, is the same from memory, and a reload searches again."""
    engines = [FakeMasker(), FakeMasker()]
    holder = MaskerHolder(lambda: engines.pop(0) if len(engines) > 1 else engines[0])
    first = holder.current
    handler = MaskHandler(holder)

    def run(headers: list[tuple[str, str]], **kw) -> dict[str, object]:
        actions = asyncio.run(handler(mask_message(b"{}", headers=headers, **kw), RequestContext(1, 1, 16380)))
        return {a.name: a.value.value for a in actions}

    def plain_calls(masker: FakeMasker) -> int:
        return sum(1 for _, ctype in masker.calls if ctype == "text/plain")

    leaky = [("x-note", "account 123456789012")]
    for _ in range(3):
        assert run(leaky)["status"] == 400
        assert run([("x-note", "fine")], path="/v1/messages/batches/msgbatch_01")["status"] == 200
    assert plain_calls(first) == 3            # the leaky header, the fine one, the URL: once each
    assert run([("x-note", "account 123456789013")])["status"] == 200    # another text: searched
    assert plain_calls(first) == 4
    assert holder.reload()
    assert holder.current is not first
    assert run(leaky)["status"] == 400 and plain_calls(holder.current) == 1
