"""Logs: one structured line per request from HAProxy (and one JSON line per masked body from the
agent), and no original identifier in any log line, ever: identifiers are planted in bodies, paths,
query strings and headers of every kind of request (masked, refused, malformed), then every line of
the run is searched (raw, JSON-decoded and percent-decoded).
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import urllib.parse

from agent.service.handlers import LOG_ROUTES, safe_path
from tests.support.harness import CERTS, ROOT, wait_until
from tests.support.planted import ACCESS_KEY, ACCOUNT, INSTANCE, ORIGINALS, PRIVATE_IP, PROMPT, ROLE_ARN, leaks
from tests.support.runsh import http, messages_body

GATEWAY_FIELDS = ["method", "path", "status", "bytes_in", "bytes_out", "masked", "kinds", "mask_us",
                  "spoe_err", "cause", "time_ms"]
TEMPLATES = {template for _, template in LOG_ROUTES} | {"other"}

JSON = {"content-type": "application/json"}
SECRET_HEADERS = {"x-aws-account": ACCOUNT, "user-agent": f"cli/{INSTANCE}", "x-api-key": ACCESS_KEY,
                  "x-forwarded-for": PRIVATE_IP, "referer": f"https://console/{ROLE_ARN}"}
QUOTED_ARN = urllib.parse.quote(ROLE_ARN, safe="")


def raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def gateway_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("gateway ")]


def test_no_identifier_in_any_log_line(make_gateway, upstream):
    gw = make_gateway(env={"GATEWAY_MAX_BODY": "65536"})
    url = gw.http_url
    sent = 0

    def send(path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
             method: str | None = None, secret: bool = True) -> int:
        nonlocal sent
        sent += 1
        return http(url + path, body, {**JSON, **(SECRET_HEADERS if secret else {}), **(headers or {})}, method)[0]

    # Statuses vary (identifiers in a URL or a header are refused by the agent); what matters here
    # is the log.
    assert send("/v1/messages", messages_body(), secret=False) == 200
    assert send("/v1/messages", messages_body()) == 400
    send(f"/v1/messages?account={ACCOUNT}&key={ACCESS_KEY}", messages_body())
    send(f"/v1/files/{INSTANCE}", messages_body())
    send(f"/v1/files/{INSTANCE}/content?ip={PRIVATE_IP}", method="GET")
    send(f"/v1/messages/batches/{QUOTED_ARN}/results", messages_body())
    send(f"/{ACCOUNT}/{INSTANCE}/{ACCESS_KEY}", messages_body())
    send(f"/api/{ACCESS_KEY.lower()}", messages_body())
    assert send("/v1/messages", f'{{"broken": "{ACCOUNT} {INSTANCE}'.encode()) == 400
    assert send(f"/v1/messages/{INSTANCE}", messages_body(), {"content-encoding": "gzip"}) == 415
    assert send(f"/v1/messages?{ACCOUNT}", messages_body("x" * 70000 + PROMPT)) == 413
    sigv4 = f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20250101/us-east-1/bedrock/aws4_request"
    assert send(f"/model/{INSTANCE}/invoke", messages_body(), {"authorization": sigv4}) == 400
    # Over TLS (HTTP/1.1 here; HTTP/2 shares the frontend and its log-format).
    ctx = ssl.create_default_context(cafile=str(CERTS / "ca.pem"))
    with socket.create_connection(("127.0.0.1", gw.https_port), timeout=10) as s, \
            ctx.wrap_socket(s, server_hostname="localhost") as tls:
        body = messages_body()
        tls.sendall(f"POST /v1/files/{INSTANCE}?k={ACCESS_KEY} HTTP/1.1\r\nHost: localhost\r\n"
                    f"Content-Type: application/json\r\nX-Account: {ACCOUNT}\r\nConnection: close\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 ")
    sent += 1
    # Malformed requests HAProxy rejects itself, with identifiers in the request line and headers.
    assert raw(gw.http_port, f"POST /v1/{INSTANCE} HTTP/1.1\r\nHost: x\r\nBad Header {ACCOUNT}\r\n\r\n"
               .encode()).startswith(b"HTTP/1.1 400")
    assert raw(gw.http_port, f"GET /{ACCESS_KEY}\x01 HTTP/1.1\r\nHost: x\r\n\r\n".encode()).startswith(b"HTTP/1.1 400")
    sent += 2

    wait_until(lambda: len(gateway_lines(gw.logs())) >= sent, what="one log line per request")
    logs = gw.logs()
    assert leaks(logs.encode()) == [], [line for line in logs.splitlines() if leaks(line.encode())]
    assert [o for o in ORIGINALS if o.lower() in logs.lower()] == []
    # The upstream saw masked bodies only (the log check above is not vacuous: these were masked).
    assert upstream.received and all(leaks(r.body) == [] for r in upstream.received if r.body)

    lines = gateway_lines(logs)
    # (plus the harness's port probes, which HAProxy logs as empty <BADREQ> connections)
    assert len([line for line in lines if "<BADREQ>" not in line]) == sent - 2, "\n".join(lines)
    for line in lines:                       # structured: the same key=value fields on every line
        keys = [part.split("=", 1)[0] for part in line.split(" ")[1:]]
        assert keys == GATEWAY_FIELDS, line
        path = re.search(r" path=(\S*)", line).group(1)
        assert path in TEMPLATES | {"-", ""}, line
    paths = [re.search(r" path=(\S*)", line).group(1) for line in lines]
    assert {"/v1/files/{id}", "/v1/files/{id}/content", "/v1/messages/batches/{id}/results", "other"} <= set(paths)
    assert any("cause=sigv4_signed" in line for line in lines)
    assert any("cause=too_large" in line for line in lines)
    masked = [line for line in lines if line.startswith("gateway method=POST path=/v1/messages status=200")]
    assert masked and all(re.search(r" masked=[1-9]\d* kinds=\S*account=", line) for line in masked)

    agent_lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    requests = [line for line in agent_lines if line.get("event") == "request"]
    assert requests and all(r["path"] in TEMPLATES for r in requests)
    assert {"method", "status", "bytes_in", "bytes_out", "count", "kinds", "mask_us", "cause"} <= set(requests[0])


def test_haproxy_and_agent_log_the_same_route_table():
    """haproxy/log-paths.map and agent/service/handlers.py LOG_ROUTES are one table written twice."""
    rows = []
    for line in (ROOT / "haproxy" / "log-paths.map").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            regex, template = line.split()
            rows.append((regex, template))
    assert rows == list(LOG_ROUTES)
    for _, template in LOG_ROUTES:           # a template has no client-chosen text
        assert re.fullmatch(r"(/([a-z0-9_]+|\{id\}))+", template)


def test_safe_path_never_returns_client_text():
    for path in [f"/v1/files/{INSTANCE}", f"/{ACCOUNT}", f"/v1/messages/{ROLE_ARN}", "/v1/messages/",
                 f"/api/oauth/{ACCESS_KEY}", f"/v1/models/{INSTANCE}?x={ACCOUNT}", "/my-prod-bucket"]:
        assert safe_path(path) in TEMPLATES
        assert not leaks(safe_path(path).encode())
