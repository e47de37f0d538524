"""End to end through real HAProxy, the real agent and a recording mock upstream.

Every assertion about masking is made on what the upstream received.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import time

import anthropic
import pytest

from tests.support.harness import CERTS
from tests.support.planted import ACCESS_KEY, INSTANCE, ORIGINALS, PROMPT, leaks


def _client(base_url: str, **kw) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key="sk-ant-dummy", max_retries=0, **kw)


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--max-time", "30", *args], capture_output=True, timeout=60)


def test_sdk_request_is_masked_and_answer_restored(gateway, upstream):
    msg = _client(gateway.http_url).messages.create(
        model="claude-mock-1", max_tokens=64, system=f"Account context: {INSTANCE}",
        messages=[{"role": "user", "content": PROMPT}])
    assert len(upstream.received) == 1
    got = upstream.received[0]
    assert leaks(got.body) == []
    sent = json.loads(got.body)                 # still valid JSON
    assert sent["model"] == "claude-mock-1"
    assert int(got.header("content-length")) == len(got.body)
    # The mock echoes the masked prompt; the client must see the real identifiers again.
    assert msg.content[0].text == PROMPT


def test_streaming_sdk_restores_across_deltas(gateway, upstream):
    upstream.delta_size = 3                     # pseudonyms split across many SSE events
    with _client(gateway.http_url).messages.stream(
            model="claude-mock-1", max_tokens=64,
            messages=[{"role": "user", "content": PROMPT}]) as stream:
        text = "".join(stream.text_stream)
    assert leaks(upstream.received[0].body) == []
    assert text == PROMPT


# What a terminal set to ``output = text`` / ``table`` shows (printed by awscli's own formatters), and
# networks with their prefix lengths: read by the CLI readers and kept networks, through HAProxy.
CLI_PASTE = """$ aws ec2 describe-subnets --filters Name=vpc-id,Values=vpc-0a9b8c7d6e5f40312 --output text
SUBNETS\tus-east-1a\tuse1-az4\t4091\t10.42.16.0/20\tFalse\tFalse\t470182935561\tavailable\t\
arn:aws:ec2:us-east-1:470182935561:subnet/subnet-0f3e1c2d4b5a69788\tsubnet-0f3e1c2d4b5a69788\tvpc-0a9b8c7d6e5f40312
TAGS\tName\torders-private-a
$ aws ec2 describe-vpcs --output table
------------------------------------------
|              DescribeVpcs              |
+----------------------------------------+
||                 Vpcs                 ||
|+------------+-------------------------+|
||  CidrBlock |  10.42.0.0/16           ||
||  OwnerId   |  470182935561           ||
||  State     |  available              ||
||  VpcId     |  vpc-0a9b8c7d6e5f40312  ||
|+------------+-------------------------+|
The first subnet is 10.42.0.0/24 and holds 10.42.0.17; 10.42.16.9 is in orders-private-a."""
CLI_ORIGINALS = ["470182935561", "subnet-0f3e1c2d4b5a69788", "vpc-0a9b8c7d6e5f40312", "orders-private-a",
                 "10.42.16.0", "10.42.0.0", "10.42.0.17", "10.42.16.9"]


def test_cli_text_and_table_outputs_and_networks(gateway, upstream):
    upstream.delta_size = 3                     # pseudonym networks split across many SSE events
    with _client(gateway.http_url).messages.stream(
            model="claude-mock-1", max_tokens=64, messages=[{"role": "user", "content": CLI_PASTE}]) as stream:
        text = "".join(stream.text_stream)
    got = upstream.received[0]
    assert leaks(got.body, CLI_ORIGINALS) == []
    sent = json.loads(got.body)["messages"][0]["content"]
    networks = [ipaddress.ip_network(n) for n in re.findall(r"\b\d+\.\d+\.\d+\.\d+/\d+", sent)]  # strict
    vpc, subnet_20, subnet_24 = sorted(networks, key=lambda n: n.prefixlen)
    assert subnet_20.subnet_of(vpc) and subnet_24.subnet_of(vpc)
    hosts = [ipaddress.ip_address(h) for h in re.findall(r"\b\d+\.\d+\.\d+\.\d+\b(?!/)", sent)]
    assert hosts[0] in subnet_24 and hosts[1] in subnet_20
    assert text == CLI_PASTE                    # the mock echoes: the client sees its own paste again


def test_credentials_pass_through_untouched(gateway, upstream):
    r = curl(gateway.http_url + "/v1/messages", "-H", "x-api-key: sk-ant-api03-secret",
             "-H", "authorization: Bearer tok-123", "-H", "content-type: application/json",
             "--data-binary", json.dumps({"model": "m", "max_tokens": 1,
                                          "messages": [{"role": "user", "content": PROMPT}]}))
    assert r.returncode == 0, r.stderr
    got = upstream.received[0]
    assert got.header("x-api-key") == "sk-ant-api03-secret"
    assert got.header("authorization") == "Bearer tok-123"
    assert got.header("accept-encoding") is None
    assert got.header("x-gateway-body-sha256") is None
    assert leaks(got.body) == []


@pytest.mark.parametrize("path", ["/v1/messages/count_tokens", "/v1/messages/batches",
                                  "/api/claude_code/metrics", "/api/event_logging/batch",
                                  "/anything/else?beta=true"])
def test_every_path_with_a_body_is_masked(gateway, upstream, path):
    body = json.dumps({"messages": [{"role": "user", "content": PROMPT}], "note": f"id {INSTANCE}"})
    r = curl(gateway.http_url + path, "-H", "content-type: application/json", "--data-binary", body)
    assert r.returncode == 0, r.stderr
    assert len(upstream.received) == 1
    assert upstream.received[0].target == path
    assert leaks(upstream.received[0].body) == []
    json.loads(upstream.received[0].body)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_methods_with_a_body_are_masked(gateway, upstream, method):
    r = curl("-X", method, gateway.http_url + "/v1/files/x", "-H", "content-type: text/plain",
             "--data-binary", PROMPT)
    assert r.returncode == 0, r.stderr
    assert leaks(upstream.received[0].body) == []


def test_request_without_body_passes(gateway, upstream):
    r = curl(gateway.http_url + "/v1/models")
    assert r.returncode == 0 and json.loads(r.stdout)["ok"] is True
    assert upstream.received[0].method == "GET" and upstream.received[0].body == b""


def test_chunked_request_leaves_with_content_length_and_is_masked(gateway, upstream):
    # Chunked requests leave with a Content-Length: chunked trailers are never masked, and a
    # Content-Length message cannot carry them (tests/integration/test_security.py sends trailers).
    body = json.dumps({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": PROMPT}]})
    r = curl(gateway.http_url + "/v1/messages", "-H", "content-type: application/json",
             "-H", "transfer-encoding: chunked", "--data-binary", body)
    assert r.returncode == 0, r.stderr
    got = upstream.received[0]
    assert got.header("transfer-encoding") is None
    assert int(got.header("content-length")) == len(got.body)
    assert leaks(got.body) == []
    assert json.loads(r.stdout)["content"][0]["text"] == PROMPT


def test_tls_and_http2_frontend(gateway, upstream):
    body = json.dumps({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": PROMPT}]})
    r = curl("--http2", "--cacert", str(CERTS / "ca.pem"), "-w", "\\n%{http_version}",
             gateway.https_url + "/v1/messages", "-H", "content-type: application/json",
             "--data-binary", body)
    assert r.returncode == 0, r.stderr
    out, version = r.stdout.rsplit(b"\n", 1)
    assert version == b"2"
    assert json.loads(out)["content"][0]["text"] == PROMPT
    assert leaks(upstream.received[0].body) == []


def test_json_escapes_are_seen(gateway, upstream):
    # \u0069 is "i", \/ is "/": the raw bytes contain no identifier, the JSON meaning does.
    escaped = INSTANCE.replace("i-", "\\u0069-")
    raw = ('{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x\\n' + escaped +
           ' and arn:aws:iam::123456789012:role\\/r key\\"' + ACCESS_KEY + '\\""}]}')
    r = curl(gateway.http_url + "/v1/messages", "-H", "content-type: application/json", "--data-binary", raw)
    assert r.returncode == 0, r.stderr
    assert leaks(upstream.received[0].body, ORIGINALS) == []
    json.loads(upstream.received[0].body)


def test_logs_hold_no_original(gateway, upstream):
    _client(gateway.http_url).messages.create(model="m", max_tokens=8,
                                              messages=[{"role": "user", "content": PROMPT}])
    deadline = time.monotonic() + 10    # HAProxy logs once the transaction is closed
    while "gateway method=POST" not in gateway.logs():
        assert time.monotonic() < deadline, "no request log line"
        time.sleep(0.05)
    gateway.stop()
    logs = gateway.logs()
    assert [o for o in ORIGINALS if o in logs] == []


def test_multi_megabyte_history_within_default_limit(make_gateway, upstream):
    """Long Claude Code sessions reach several MB: the default limit (8 MiB) must carry them."""
    gw = make_gateway(env={"GATEWAY_MASK_TIMEOUT": "20s"})
    line = "build log: step ok, nothing to see here, 42 files compiled. " * 30 + "\n" + PROMPT + "\n"
    content = line * (7 * 1024 * 1024 // len(line))
    body = json.dumps({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": content}]})
    r = subprocess.run(["curl", "-sS", "--max-time", "60", gw.http_url + "/v1/messages",
                        "-H", "content-type: application/json", "--data-binary", "@-"],
                       input=body.encode(), capture_output=True, timeout=90)
    assert r.returncode == 0, r.stderr
    got = upstream.received[0].body
    assert len(got) > 7_000_000
    assert leaks(got) == []
    answer = json.loads(r.stdout)
    assert "content" in answer, r.stdout[:2000]
    assert answer["content"][0]["text"] == content      # restored, all of it
