"""The whole request at the HTTP edge, on HAProxy 2.6 and 3.2 (DESIGN.md invariant 9): framing
(chunked and HTTP/2 bodies, trailers), the request target (userinfo of an absolute URI), every
header, and Content-Encoding lists. Each test asserts on what the recording mock upstream received
(target, headers, trailers, body), or that it received nothing."""

from __future__ import annotations

import json

import pytest

from tests.support import h2_raw
from tests.support.harness import CERTS
from tests.support.planted import ACCOUNT, INSTANCE, ORIGINALS, PROMPT, leaks
from tests.support.send import raw

BODY = json.dumps({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": PROMPT}]}).encode()
TRAILERS = [("x-note", f"account {ACCOUNT} instance {INSTANCE}")]


@pytest.fixture
def scanning(upstream):
    upstream.originals = list(ORIGINALS)
    return upstream


def h2(gateway, body: bytes, trailers=None, headers=None, path: str = "/v1/messages"):
    return h2_raw.request(gateway.https_port, str(CERTS / "ca.pem"), "POST", path,
                          [("content-type", "application/json"), *(headers or [])], body, trailers)


# --- framing: HTTP/2 trailers -------------------------------------------------------------------------

@pytest.mark.parametrize("body", [BODY, b""], ids=["with-body", "empty-body"])
def test_h2_request_trailers_never_reach_the_upstream(gateway, scanning, body):
    """An HTTP/2 request without content-length that ends with trailers (a HEADERS frame after the
    DATA). Before: 3.2 forwarded them verbatim in a chunked request (with a body), and so did 2.6
    for an empty body. Now every request leaves with a Content-Length, which cannot carry trailers."""
    status, _ = h2(gateway, body, TRAILERS)
    assert status == 200
    assert len(scanning.received) == 1
    got = scanning.received[0]
    assert got.trailers == []
    assert got.header("transfer-encoding") is None
    assert int(got.header("content-length")) == len(got.body)
    assert leaks(got.body) == [] and scanning.leak_count == 0, scanning.leak_report()


def test_h2_body_without_content_length_leaves_with_the_masked_length(gateway, scanning):
    status, _ = h2(gateway, BODY)
    assert status == 200
    got = scanning.received[0]
    assert int(got.header("content-length")) == len(got.body) > 0
    assert json.loads(got.body)["model"] == "m" and leaks(got.body) == []


# --- the request target ------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    f"http://{ACCOUNT}@gw.example/v1/messages?beta=true",
    f"http://{ACCOUNT}:{INSTANCE}@gw.example/v1/messages",
    f"HTTP://{ACCOUNT}@gw.example/v1/messages",
], ids=["user", "user-password", "upper-scheme"])
def test_absolute_form_userinfo_never_reaches_the_upstream(gateway, scanning, target):
    """Before: the target left as sent ("POST http://123456789012@localhost/v1/messages"). The agent
    only saw path and query, and HAProxy forwards an absolute-form target as it came."""
    out = raw(gateway.http_port, f"POST {target} HTTP/1.1\r\nhost: gw.example\r\ncontent-type: application/json\r\n"
              f"content-length: {len(BODY)}\r\nconnection: close\r\n\r\n".encode() + BODY)
    assert out.startswith(b"HTTP/1.1 200"), out[:300]
    assert len(scanning.received) == 1
    got = scanning.received[0]
    assert got.target.split("?")[0] == "/v1/messages" and "@" not in got.target, got.target
    assert scanning.leak_count == 0, scanning.leak_report()


def test_h2_authority_userinfo_never_reaches_the_upstream(gateway, scanning):
    status, _ = h2_raw.request(gateway.https_port, str(CERTS / "ca.pem"), "POST", "/v1/messages",
                               [("content-type", "application/json")], BODY, authority=f"{ACCOUNT}@localhost")
    for got in scanning.received:
        assert got.target == "/v1/messages" and "@" not in (got.header("host") or "")
    assert scanning.leak_count == 0, scanning.leak_report()


# --- request headers ---------------------------------------------------------------------------------

ANTHROPIC_KEY = "sk-ant-api03-" + "Zq8" * 30 + "-AA"
BEDROCK_LONG = "ABSKQmVkcm9ja0FQSUtleS1hYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk="
BEDROCK_SHORT = "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249Q2FsbFdpdGhCZWFyZXJUb2tlbg=="


def post(gateway, *headers: str, target: str = "/v1/messages") -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return raw(gateway.http_port, f"POST {target} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{head}"
               f"content-length: {len(BODY)}\r\nconnection: close\r\n\r\n".encode() + BODY)


def refused(out: bytes, status: int, *words: str) -> dict:
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d" % status), out[:300]
    err = json.loads(body)
    assert err["type"] == "error" and err["error"]["type"] == "invalid_request_error"
    for word in words:
        assert word in err["error"]["message"]
    return err


@pytest.mark.parametrize("header", [
    f"x-debug: instance {INSTANCE} key AKIAIOSFODNN7EXAMPLE",
    f"x-note: account {ACCOUNT}",
    "x-forwarded-for: 10.20.30.40",
    f"x-trace: arn%3Aaws%3Aiam%3A%3A{ACCOUNT}%3Arole%2Fdeploy",
    f"x-{INSTANCE}: 1",
], ids=["debug", "account", "private-ip", "percent-encoded-arn", "in-the-name"])
def test_identifier_in_a_header_is_refused_and_nothing_is_forwarded(gateway, scanning, header):
    """Before: headers were never looked at, and the upstream received this one as sent."""
    refused(post(gateway, header, f"x-api-key: {ANTHROPIC_KEY}"), 400, "header")
    assert scanning.received == [] and scanning.leak_count == 0


@pytest.mark.parametrize("header", [
    "x-api-key: AKIAIOSFODNN7EXAMPLE",
    "authorization: Bearer ASIAIOSFODNN7EXAMPLE",
    f"authorization: Bearer {BEDROCK_LONG}",
    f"x-api-key: {BEDROCK_SHORT}",
    f"x-custom: {BEDROCK_LONG}",
], ids=["akia-in-x-api-key", "asia-in-authorization", "bedrock-long-term", "bedrock-short-term", "bedrock-other"])
def test_aws_credential_in_any_header_is_refused(gateway, scanning, header):
    """Credentials in the headers the API needs (x-api-key, authorization) too. Before: forwarded."""
    refused(post(gateway, header), 400, "AWS credential")
    assert scanning.received == []


def test_api_credentials_and_ordinary_headers_pass_unchanged(gateway, scanning):
    """What real clients send passes byte-exact: keys, anthropic-*, SDK and tracing headers."""
    sent = {"x-api-key": ANTHROPIC_KEY, "authorization": "Bearer sk-ant-oat01-" + "Qw9" * 30,
            "anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219,oauth-2025-04-20",
            "user-agent": "claude-cli/2.1.332 (external, cli)", "x-stainless-runtime-version": "v22.3.0",
            "x-claude-code-session-id": "4bf92f35-77b3-4da6-a3ce-929d0e0e4736",
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    out = post(gateway, *(f"{k}: {v}" for k, v in sent.items()))
    assert out.startswith(b"HTTP/1.1 200"), out[:300]
    got = scanning.received[0]
    assert {k: got.header(k) for k in sent} == sent


def test_gateway_reached_at_a_private_address_is_not_refused_for_its_host(gateway, scanning):
    """Host never leaves (hop 2 sets the upstream's), so a private address there is no identifier."""
    out = raw(gateway.http_port, b"POST /v1/messages HTTP/1.1\r\nhost: 10.20.30.40:8080\r\n"
              b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(BODY) + BODY)
    assert out.startswith(b"HTTP/1.1 200"), out[:300]
    assert scanning.received[0].header("host") == "localhost"


def test_h2_header_with_an_identifier_is_refused(gateway, scanning):
    status, body = h2(gateway, BODY, headers=[("x-debug", f"account {ACCOUNT}")])
    assert status == 400 and b"header" in body
    assert scanning.received == []


# --- Content-Encoding ----------------------------------------------------------------------------------

@pytest.mark.parametrize("codings", [["gzip, identity"], ["identity, gzip"], ["identity", "br"], ["x-custom"]],
                         ids=["gzip-identity", "identity-gzip", "two-headers", "unknown"])
def test_any_coding_but_identity_is_refused_with_415(gateway, scanning, codings):
    """Before: "gzip, identity" passed both checks (HAProxy's ACL matched the "identity" token, and
    the agent got only the last value) and the compressed body was forwarded uninspected."""
    refused(post(gateway, *(f"content-encoding: {c}" for c in codings)), 415, "Content-Encoding")
    assert scanning.received == []


def test_identity_coding_passes(gateway, scanning):
    assert post(gateway, "content-encoding: identity").startswith(b"HTTP/1.1 200")
    assert len(scanning.received) == 1
