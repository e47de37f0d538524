"""Request headers, inspected (never masked): HAProxy sends them all in the ``mask`` message as
``req.hdrs_bin`` (docs/CONTRACT.md), and a request is refused (400) when a header

- carries an AWS credential: an IAM access key id (``AKIA``/``ASIA``) or an Amazon Bedrock API key
  (``ABSK...``, ``bedrock-api-key-...``), in ANY header, ``x-api-key`` and ``authorization``
  included: they must never leave, and the Anthropic API has no use for them;
- carries an AWS identifier the detection engine finds (any header but the credentials the API
  needs, ``x-api-key`` and ``authorization``, and the ones haproxy.cfg replaces or removes before
  anything leaves). Header values are not masked: a pseudonym there could not be restored into
  anything, and most headers are read by the API itself.

``content_codings`` gives every Content-Encoding token, over all Content-Encoding headers: a body
is inspectable only when each one is ``identity``.

Nothing here returns or logs a header value: callers get kinds and counts only.
"""

from __future__ import annotations

import re
import urllib.parse

from agent import spop

# The credentials the Anthropic API itself reads: checked for AWS credentials only.
CREDENTIAL_HEADERS = frozenset({b"x-api-key", b"authorization"})
# What haproxy.cfg replaces or removes before the request leaves (Host is set at hop 2 to the
# upstream's name; Content-Length to the masked body's; the rest are deleted): never inspected for
# identifiers (a gateway reached at a private IP would otherwise refuse every request for its Host).
NOT_FORWARDED = frozenset({b"host", b"content-length", b"transfer-encoding", b"accept-encoding", b"upgrade",
                           b"x-gateway-body-sha256"})

# AWS credentials, wherever they appear (name or value). Access key ids as the engine's
# iam-access-key-id detector bounds them; Bedrock API keys by their documented prefixes, at the start
# of a token so that a random run inside another key (an Anthropic key is base64url) never matches.
_CREDENTIALS = (
    ("access-key", re.compile(rb"(?<![A-Za-z0-9_\-])A[KS]IA[A-Z0-9]{12,28}(?![A-Za-z0-9_])")),
    ("bedrock-api-key", re.compile(rb"(?<![A-Za-z0-9+/_\-])ABSK[A-Za-z0-9+/]{16,}")),
    ("bedrock-api-key", re.compile(rb"(?i)(?<![A-Za-z0-9+/_\-])bedrock-api-key-[A-Za-z0-9+/_\-]{16,}")),
)


# Every credential pattern above contains one of these (lowercased): a cheap test first.
_CREDENTIAL_MARKERS = (b"akia", b"asia", b"absk", b"bedrock-api-key-")


class BadHeaders(ValueError):
    """``req.hdrs_bin`` did not parse (HAProxy always sends it well-formed)."""


def parse_hdrs_bin(raw: bytes) -> list[tuple[bytes, bytes]]:
    """``*(<str:name><str:value>)<empty><empty>`` with SPOE varint lengths -> [(lowercase name, value)]."""
    out: list[tuple[bytes, bytes]] = []
    pos, end = 0, len(raw)
    try:
        while True:
            n_len, pos = spop.decode_varint(raw, pos, end)
            name, pos = raw[pos:pos + n_len], pos + n_len
            v_len, pos = spop.decode_varint(raw, pos, end)
            value, pos = raw[pos:pos + v_len], pos + v_len
            if pos > end:
                raise BadHeaders("a header runs past the end")
            if not name and not value:
                break
            out.append((name.lower(), value))
    except spop.SpopError as exc:
        raise BadHeaders("bad length") from exc
    if pos != end:
        raise BadHeaders("bytes after the end marker")
    return out


def encode_hdrs_bin(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The inverse of ``parse_hdrs_bin`` (for tests and tools)."""
    out = b""
    for name, value in [*headers, (b"", b"")]:
        out += spop.encode_varint(len(name)) + name + spop.encode_varint(len(value)) + value
    return out


def _views(text: bytes) -> list[bytes]:
    """The text as sent and percent-decoded (once and twice), like the URL check."""
    if b"%" not in text:
        return [text]
    once = urllib.parse.unquote_to_bytes(text)
    return list(dict.fromkeys([text, once, urllib.parse.unquote_to_bytes(once)]))


def aws_credentials(headers: list[tuple[bytes, bytes]]) -> dict[str, int]:
    """Kinds and counts of AWS credentials in any header (name or value, as sent or %-decoded)."""
    text = b"\n".join(name + b": " + value for name, value in headers)
    counts: dict[str, int] = {}
    for view in _views(text):
        low = view.lower()
        if not any(marker in low for marker in _CREDENTIAL_MARKERS):     # the usual case, in C
            continue
        for kind, rx in _CREDENTIALS:
            n = len(rx.findall(view))
            if n:
                counts[kind] = counts.get(kind, 0) + n
    return counts


def forwarded_text(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The headers that leave, as one text for the engine to search (names and values; a name also
    without its ``x-`` prefix, which would otherwise hide an identifier right after it), as sent and
    percent-decoded; empty when none leaves."""
    lines = [line for name, value in headers if name not in CREDENTIAL_HEADERS and name not in NOT_FORWARDED
             for line in (name + b": " + value, *((name[2:],) if name.startswith(b"x-") else ()))]
    if not lines:
        return b""
    return b"\n".join(_views(b"\n".join(lines)))


def content_codings(headers: list[tuple[bytes, bytes]]) -> list[str]:
    """Every token of every Content-Encoding header, lowercased (empty tokens left out)."""
    return [token.strip().lower() for name, value in headers if name == b"content-encoding"
            for token in value.decode("latin-1").split(",") if token.strip()]
