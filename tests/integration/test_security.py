"""Security review of the defaults, as tests: no request body (or URL) reaches the upstream unmasked
on any method, path or framing trick; tunnels are refused; the key file is private; the agent
refuses non-loopback listening; upstream TLS verification holds. The upstream scans every request
(and tunnel bytes) for every planted original; each test asserts zero leaks."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.support.harness import ROOT, make_key
from tests.support.planted import ORIGINALS, PROMPT, ROLE_ARN
from tests.support.send import raw

BODY = json.dumps({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": PROMPT}]}).encode()
CL = b"content-length: %d\r\n" % len(BODY)


@pytest.fixture
def scanning(upstream):
    upstream.originals = [*ORIGINALS, ROLE_ARN]
    upstream.tunnel = True          # a hostile upstream that accepts CONNECT and Upgrade
    return upstream


def chunked(body: bytes, trailer: bytes = b"") -> bytes:
    return b"%x\r\n%s\r\n0\r\n%s\r\n" % (len(body), body, trailer)


CASES = {
    "options": b"OPTIONS /v1/messages HTTP/1.1\r\nhost: x\r\n" + CL + b"connection: close\r\n\r\n" + BODY,
    "get-with-body": b"GET /v1/models HTTP/1.1\r\nhost: x\r\n" + CL + b"connection: close\r\n\r\n" + BODY,
    "weird-path": b"POST //v1/../v1/messages%2F?beta=true HTTP/1.1\r\nhost: x\r\n" + CL + b"connection: close\r\n\r\n"
                  + BODY,
    "asterisk": b"OPTIONS * HTTP/1.1\r\nhost: x\r\n" + CL + b"connection: close\r\n\r\n" + BODY,
    "expect-100": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\n" + CL
                  + b"connection: close\r\n\r\n" + BODY,
    "http-1.0": b"POST /v1/messages HTTP/1.0\r\n" + CL + b"\r\n" + BODY,
    "http-1.0-no-length": b"POST /v1/messages HTTP/1.0\r\n\r\n" + BODY,
    "pipelined": (b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n" + CL + b"\r\n" + BODY) * 2
                 + b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n" + CL + b"connection: close\r\n\r\n" + BODY,
    "cl-and-te": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n"
                 b"connection: close\r\n\r\n" + chunked(BODY),
    "te-cl-smuggle": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n"
                     b"content-length: 99\r\n\r\n"
                     + chunked(b"") + b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n" + CL + b"connection: close\r\n\r\n"
                     + BODY,
    "cl-smuggle": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}POST /v1/messages HTTP/1.1\r\n"
                  b"host: x\r\n" + CL + b"connection: close\r\n\r\n" + BODY,
    "duplicate-cl": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n" + CL + b"\r\n" + BODY,
    "te-obfuscated": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ntransfer-encoding: xchunked\r\n\r\n" + chunked(BODY),
    "te-list": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ntransfer-encoding: identity, chunked\r\n\r\n"
               + chunked(BODY),
    "chunk-extension": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n"
                       b"connection: close\r\n\r\n"
                       + chunked(BODY).replace(b"\r\n", b";x=123456789012\r\n", 1),
    "trailers": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
                + chunked(BODY, b"x-note: account 123456789012 i-0a1b2c3d4e5f60718\r\n"),
    "query-id": b"GET /v1/models?account=123456789012 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    "query-pct": b"GET /v1/models?arn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeploy-role HTTP/1.1\r\nhost: x\r\n"
                 b"connection: close\r\n\r\n",
    "path-id": b"DELETE /v1/files/i-0a1b2c3d4e5f60718 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
}
TUNNELS = {
    "connect": b"CONNECT api.anthropic.com:443 HTTP/1.1\r\nhost: api.anthropic.com:443\r\n\r\n",
    "websocket": b"GET /v1/messages HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
                 b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
    "h2c": b"GET /v1/models HTTP/1.1\r\nhost: x\r\nupgrade: h2c\r\nconnection: Upgrade, HTTP2-Settings\r\n"
           b"http2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
}


def test_no_method_path_or_framing_trick_leaks(gateway, scanning):
    for name, data in CASES.items():
        before = len(scanning.leaks)
        out = raw(gateway.http_port, data)
        assert out.startswith(b"HTTP/1."), name
        assert len(scanning.leaks) == before, (name, scanning.leak_report())
    # URLs with identifiers are refused by the agent, in Anthropic's error shape.
    out = raw(gateway.http_port, CASES["query-id"])
    assert out.startswith(b"HTTP/1.1 400") and b"URL" in out
    # Harmless query strings pass (Claude Code sends ?beta=true).
    assert raw(gateway.http_port, b"GET /v1/models?beta=true HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
               ).startswith(b"HTTP/1.1 200")
    assert scanning.leak_count == 0, scanning.leak_report()


def test_no_tunnel_carries_bytes_past_the_masking(gateway, scanning):
    for name, data in TUNNELS.items():
        out = raw(gateway.http_port, data, more=b"account 123456789012 " + PROMPT.encode())
        assert b" 101 " not in out.split(b"\r\n", 1)[0] and b"established" not in out, (name, out[:200])
    time.sleep(0.5)
    assert not [r for r in scanning.received if r.method == "TUNNEL"]
    assert scanning.leak_count == 0, scanning.leak_report()


def test_h2_body_is_masked(gateway, scanning):
    from tests.support.harness import CERTS
    r = subprocess.run(["curl", "-sS", "--http2", "--cacert", str(CERTS / "ca.pem"), "-X", "OPTIONS",
                        gateway.https_url + "/v1/weird/../messages?beta=true", "--data-binary", "@-"],
                       input=BODY, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert scanning.requests == 1 and scanning.leak_count == 0, scanning.leak_report()


def test_headers_pass_untouched_by_design(gateway, scanning):
    """The API's credential headers pass byte-exact (they are checked only for AWS credentials)."""
    out = raw(gateway.http_port, b"POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: sk-ant-api03-AKIA\r\n"
              b"anthropic-beta: x\r\n" + CL + b"connection: close\r\n\r\n" + BODY)
    assert out.startswith(b"HTTP/1.1 200")
    got = scanning.received[0]
    assert got.header("x-api-key") == "sk-ant-api03-AKIA" and got.header("anthropic-beta") == "x"


def test_upstream_with_an_untrusted_certificate_gets_nothing(make_gateway, scanning, tmp_path):
    # A CA that did not sign the upstream's certificate: verification fails, nothing is sent.
    other_ca = tmp_path / "other-ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k"),
                    "-out", str(other_ca), "-days", "1", "-subj", "/CN=other"], check=True, capture_output=True)
    for env in ({"UPSTREAM_CA_FILE": str(other_ca)},
                {"UPSTREAM_URL": f"https://wrong-name:{scanning.port}"}):
        gw = make_gateway(env=env)
        out = raw(gw.http_port, b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n" + CL + b"connection: close\r\n\r\n"
                  + BODY, wait=15)
        assert out.split(b" ", 2)[1] in (b"502", b"503"), out[:300]
    assert scanning.requests == 0


def test_upstream_must_be_https():
    r = subprocess.run(["bash", "-c", f'UPSTREAM_URL=http://api.anthropic.com . "{ROOT}/haproxy/env.sh"'],
                       capture_output=True, timeout=10)
    assert r.returncode != 0 and b"https://" in r.stderr


def test_key_files_are_private_even_with_a_lax_umask(tmp_path):
    old = os.umask(0)
    try:
        path = make_key(tmp_path / "h" / "key")
        (tmp_path / "m").mkdir()
        r = subprocess.run(["make", "-s", "-C", str(ROOT), "key", f"KEY={tmp_path}/m/key"],
                           capture_output=True, timeout=30)
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    made = tmp_path / "m" / "key"
    assert r.returncode == 0 and oct(made.stat().st_mode & 0o777) == "0o600"
    assert made.read_text().strip() not in (r.stdout + r.stderr).decode()


def test_agent_refuses_a_public_listen_address():
    r = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "agent", "serve", "--listen", "0.0.0.0:0",
                        "--key-file", "/nonexistent"], capture_output=True, timeout=30, cwd=ROOT)
    assert r.returncode == 2 and b"not a loopback address" in r.stderr
