"""Planted AWS identifiers for integration tests, and a check that none reached the upstream.

The leak check looks at the raw bytes and at every JSON-decoded string (so an identifier the gateway
forwarded as ``\\u0069-...`` or ``%3A``-encoded still counts as a leak).
"""

from __future__ import annotations

import json
import urllib.parse

ACCOUNT = "123456789012"
INSTANCE = "i-0a1b2c3d4e5f60718"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/deploy-role"
PRIVATE_IP = "10.20.30.40"
SUBNET = "subnet-0123abcd"

ORIGINALS = [ACCOUNT, INSTANCE, ACCESS_KEY, PRIVATE_IP, SUBNET]

# A test-only kind that no built-in pack knows: a pack reload is what makes the gateway mask it.
TICKET = "TKT-482913"
TICKET_PACK = """\
pack: tickets
kinds:
  ticket-id: {format: charclass, keep_prefix: 4}
detectors:
  - id: ticket
    kind: ticket-id
    description: test-only ticket numbers
    regex: '{L}(?P<value>TKT-[0-9]{6}){R}'
    anchors: ['TKT-']
    examples:
      match: ['TKT-123456']
      no_match: ['TKT-12']
"""

PROMPT = (f"Why can't {INSTANCE} in {SUBNET} ({PRIVATE_IP}) assume {ROLE_ARN}?\n"
          f"CLI used key {ACCESS_KEY} for account {ACCOUNT}.")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def leaks(body: bytes, originals: list[str] = ORIGINALS) -> list[str]:
    """Which originals appear in ``body`` in any encoding we can think of (empty list = clean)."""
    views = [body.decode("utf-8", "replace")]
    try:
        views += _strings(json.loads(body))
    except ValueError:
        pass
    views += [urllib.parse.unquote(v) for v in views]
    return [o for o in originals if any(o in v for v in views)]
