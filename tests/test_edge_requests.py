"""The whole request at the HTTP edge, on HAProxy 2.6 and 3.2 (DESIGN.md invariant 9): framing
(chunked and HTTP/2 bodies, trailers), the request target (userinfo of an absolute URI), every
header, and Content-Encoding lists. Each test asserts on what the recording mock upstream received
(target, headers, trailers, body), or that it received nothing."""

from __future__ import annotations

import json

import pytest

from tests import h2_raw
from tests.harness import CERTS
from tests.planted import ACCOUNT, INSTANCE, ORIGINALS, PROMPT, leaks

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

def raw(port: int, data: bytes) -> bytes:
    from tests.test_security import raw as raw_send
    return raw_send(port, data)


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
