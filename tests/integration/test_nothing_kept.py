"""No original outlives its request in the agent's memory (DESIGN.md invariant 6; DEVELOPERS.md:
"never store an original identifier outside the transaction").

The engine remembers pseudonyms, ARN splits and IP tables across requests (conversations repeat
their identifiers), but under keys that are not the originals (agent/engine/memo.py). Here identifiers no
other test uses are masked in every place a body can hold them (values, object keys, escaped
strings, ARNs, host names, IPs, a detection-helper run), then every object reachable from the
engine, from the agent's modules and from ``re``'s pattern cache is searched for them. (Caches
inside C and Rust libraries are out of reach of this walk: orjson is not used because it documents
one for object keys; Hyperscan databases built from originals are dropped after each call.)
"""

from __future__ import annotations

import gc
import json
import re
import sys
import types

from agent.engine import detect_helper
from agent.engine.masker import Masker
from tests.support.harness import wait_until
from tests.support.masker_support import TEST_KEY, shipped_packs

# Built at run time so that no constant of this module holds them.
_TAIL = "7d1e5"


def _planted() -> dict[str, str]:
    account = "8419" + "27365" + "104"
    return {
        "account": account,
        "instance": "i-0f3c" + "9a1b2" + "d4e6f" + _TAIL[:3],
        "vpc": "vpc-0" + "ab3" + "c4d5e" + "6f7081" + "92",
        "key": "AKIA" + "QX7ZB" + "3NM4Y" + "P2WR" + "T6",
        "ip": "10." + "77.1" + "93.21",
        "bucket": "acme-" + "payroll-" + "exports-" + _TAIL,
        "role": "ops-" + "breakglass-" + _TAIL,
    }


def _bodies(p: dict[str, str]) -> list[bytes]:
    arn = f"arn:aws:iam::{p['account']}:role/{p['role']}"
    text = (f"{p['instance']} in {p['vpc']} at {p['ip']}; key {p['key']}; {arn}; "
            f"s3://{p['bucket']}/x and {p['bucket']}.s3.us-east-1.amazonaws.com, account {p['account']}")
    by_id = {p["instance"]: {"State": "running"}, p["account"]: {"Role": arn}}      # originals as keys
    escaped = json.dumps({"messages": [{"role": "user", "content": text.replace("-", "\u2010") + " \u2014 "
                                        + text.replace("i-", "\\u0069-")}]})
    return [
        json.dumps({"messages": [{"role": "user", "content": text}], "inventory": by_id}).encode(),
        escaped.encode(),
        json.dumps({"messages": [{"role": "user", "content": text + " log\n" * 4000}]}).encode(),
    ]


def _reachable_strings(roots: list[object]) -> list[str | bytes]:
    """Strings and bytes reachable from ``roots``, not crossing into modules outside the agent."""
    foreign = {id(vars(m)) for name, m in list(sys.modules.items())
               if m is not None and not name.startswith("agent") and name != "re"}
    seen: set[int] = set()
    out: list[str | bytes] = []
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or id(obj) in foreign or isinstance(obj, types.ModuleType):
            continue
        seen.add(id(obj))
        if isinstance(obj, (str, bytes, bytearray)):
            out.append(obj)
            continue
        stack.extend(gc.get_referents(obj))
    return out


def test_no_original_is_left_in_the_engine_after_masking(monkeypatch) -> None:
    monkeypatch.setattr(detect_helper, "cpu_to_spare", lambda: True)
    planted = _planted()
    engine = Masker(TEST_KEY, shipped_packs())
    helper = engine.start_detect_helper(min_bytes=1)
    wait_until(helper.available, timeout=20, what="helper start-up", interval=0.02)
    try:
        results = [engine.mask_body(body, "application/json", parallel=True) for body in _bodies(planted)]
        assert {r.detected_by for r in results} == {"helper"}
        masked = b"".join(r.body for r in results)
        for value in planted.values():
            assert value.encode() not in masked, value     # the check below is only meaningful if so
        del results, masked
        gc.collect()
        roots = [engine, re._cache] + [vars(m) for name, m in list(sys.modules.items())
                                       if m is not None and name.startswith("agent")]
        strings = _reachable_strings(roots)
        assert len(strings) > 1000            # the walk reached the engine's tables and packs
        for kind, value in planted.items():
            held = [s[:80] for s in strings if (value in s if isinstance(s, str) else value.encode() in s)]
            assert not held, f"{kind} kept in agent memory: {held[:3]}"
    finally:
        engine.close()
