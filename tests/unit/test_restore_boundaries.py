"""One table of restore boundary cases, run through both restorers: agent/engine/restore.py (``python -m agent
restore``, the engine tests) and haproxy/restore.lua (the gateway, via lupa). The two must agree on
every case, so what the CLI shows is what the gateway does.

The rule (documented at the top of both files): word bytes [A-Za-z0-9_] block; joiners - . : / + =
block only when the pseudonym contains that joiner and a word byte follows it (a digit for '.');
\\n \\t \\uXXXX %XX $25XX before a pseudonym are separators; ``_<p>_`` and (EC2-style IDs) ``web-<p>``
restore, as the masker reads them; so does an EC2-style ID pseudonym before any byte
that is no hex digit (``sg-<p>_ingress``), and any pseudonym after an ANSI control sequence.
"""

from __future__ import annotations

from pathlib import Path

import lupa.lua53 as lupa
import pytest

from agent.engine.restore import restore_text
from agent.engine.restore_map import encode

LUA_DIR = Path(__file__).resolve().parents[2] / "haproxy"

# pseudonym -> original, one per shape the engine produces
MAP = {
    "i-0a1b2c3d4e5f60718": "i-0123456789abcdef0",
    "sg-1a2b3c4d": "sg-9f8e7d6c",
    "483920175634": "123456789012",
    "AKIAQWERTYUIOPASDFGH": "AKIAIOSFODNN7EXAMPLE",
    "qZbmsYVuoGFNJ/L8NEFOH/cQySgjDZFYBNQMFLFZ": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "/bcdEFGhijKLMnopQRStuv+wxyZ0123456789abc": "+AbcdEFGhijKLMnopQRStuv/wxyZ012345678ab",
    "10.41.7.23": "10.0.1.5",
    "10.41.7.2": "10.0.0.9",
    "fd12:3456:789a::1c": "fd00:1:2::5",
    "qx-zrtvbw-lkmsp": "my-company-logs",
    "qx.zrtvbw.lkm": "my.company.bkt",
    "ip-10-41-7-23": "ip-10-0-1-5",
    "Z1QWERTYUI2OPAS": "Z08750523VFZNP7",
    "xqzpmvbwrtk-7f3a": "orders-prod-7f3a",
}

INST, SG, ACCT, AK = "i-0a1b2c3d4e5f60718", "sg-1a2b3c4d", "483920175634", "AKIAQWERTYUIOPASDFGH"
SK, SK_ODD, IP, IP6 = ("qZbmsYVuoGFNJ/L8NEFOH/cQySgjDZFYBNQMFLFZ", "/bcdEFGhijKLMnopQRStuv+wxyZ0123456789abc",
                       "10.41.7.23", "fd12:3456:789a::1c")
B, DB, LBL, NAME = "qx-zrtvbw-lkmsp", "qx.zrtvbw.lkm", "ip-10-41-7-23", "xqzpmvbwrtk-7f3a"


def _r(text: str) -> str:
    for p, o in sorted(MAP.items(), key=lambda kv: -len(kv[0])):
        text = text.replace("\x01" + p + "\x02", o)
    return text


# (text, expected): "\x01p\x02" marks a pseudonym that must restore; anything else stays.
RESTORES = [
    "\x01" + INST + "\x02", "id \x01" + INST + "\x02.", "(\x01" + INST + "\x02)", '"\x01' + INST + '\x02"',
    "\\n\x01" + INST + "\x02", "\\t\x01" + ACCT + "\x02", "\\r\x01" + SG + "\x02", "\\u00e9\x01" + INST + "\x02",
    "\\u003d\x01" + AK + "\x02", "%3A\x01" + INST + "\x02", "%2F\x01" + ACCT + "\x02",
    "%3A\x01" + INST + "\x02 end", "x=%2F\x01" + ACCT + "\x02&y", "arn%3Aaws%3A%3A\x01" + ACCT
    + "\x02%3Arole", "\n\x01" + INST + "\x02\n", "\t\x01" + IP + "\x02\t",
    "arn:aws:iam::\x01" + ACCT + "\x02:role/x", "\x01" + ACCT + "\x02.dkr.ecr.us-east-1.amazonaws.com/app",
    "cdk-hnb659fds-assets-\x01" + ACCT + "\x02-us-east-1", "ec2-user@\x01" + IP + "\x02:22",
    "\x01" + IP + "\x02/32", "\x01" + IP + "\x02.", "\x0110.41.7.2\x02 vs \x01" + IP + "\x02", "\x01" + IP6 + "\x02",
    "[\x01" + IP6 + "\x02]:443", "s3://\x01" + B + "\x02/logs/", "https://\x01" + DB + "\x02.s3.amazonaws.com/k",
    "\x01" + LBL + "\x02.ec2.internal", "--ids \x01" + INST + "\x02,\x01" + INST + "\x02", "key=\x01" + AK + "\x02",
    "aws_secret_access_key = \x01" + SK + "\x02", " \x01" + SK_ODD + "\x02", "\x01" + NAME + "\x02:",
    "/hostedzone/\x01Z1QWERTYUI2OPAS\x02", "\x01" + B + "\x02-", "\x01" + INST + "\x02-", "=\x01" + SK + "\x02",
    # Glue the masker reads through (core.yaml ec2-resource-id, the fuzz lane's pack examples):
    "_\x01" + INST + "\x02_", "is _\x01" + ACCT + "\x02_.", "(_\x01" + B + "\x02_)", "web-\x01" + INST + "\x02 is",
    "x-\x01" + INST + "\x02", "web-\x01" + INST + "\x02.", "log-group/$252Faws$252F\x01" + NAME + "\x02",
    "$252F\x01" + ACCT + "\x02", "log-group/%252Faws%252F\x01" + NAME + "\x02", "%252F\x01" + INST + "\x02",
    "__\x01" + INST + "\x02__", "was __\x01" + B + "\x02__.", "(__\x01" + ACCT + "\x02__)",
    # After an ANSI control sequence (coloured terminal output; presentation.py reads through it), ESC raw
    # or JSON-escaped, any parameters, and before the next one:
    "\x1b[32m\x01" + INST + "\x02\x1b[0m", "id \x1b[1;31m\x01" + B + "\x02\x1b[m.", "\x1b[m\x01" + IP + "\x02",
    "\\u001b[0;32m\x01" + NAME + "\x02\\u001b[0m", "\\u001B[38;5;208m\x01" + ACCT + "\x02",
    "\x1b[?25h\x01" + SG + "\x02", "\\n\\u001b[33m\x01" + LBL + "\x02", "\x1b[1m\x1b[36m\x01" + INST + "\x02",
    "\\\\u001b[32m\x01" + INST + "\x02",     # two levels deep: JSON text in a JSON string (tool arguments)
    # An EC2-style ID ends where the masker ends it (core.yaml ec2-resource-id): at any byte that is no
    # hex digit (Terraform's sg-..._ingress_tcp_443 import IDs, i-...-old), after an opening _ or __ too:
    "\x01" + INST + "\x02x", "\x01" + INST + "\x02_", "\x01" + INST + "\x02-x", "_\x01" + INST + "\x02",
    "_\x01" + INST + "\x02_x", "_\x01" + INST + "\x02__", "__\x01" + INST + "\x02_", "__\x01" + INST + "\x02__x",
    "__\x01" + INST + "\x02", "web-\x01" + INST + "\x02-x", "\x01" + INST + "\x02_ingress_tcp_443_443_10.0.0.0/8",
    "\x01" + SG + "\x02-1", "\x01" + SG + "\x02-old", "_\x01" + SG + "\x02_",   # 8 to 16 hex: at any non-word byte
]
STAYS = [
    "x" + INST, INST + "0", INST + "a", INST + "F", "9" + ACCT, ACCT + "7", "a" + AK, IP + ".9", "1." + IP,
    B + "-old", "x_" + INST + "_", "x__" + INST + "__", "___" + INST + "___",
    "web-" + INST + "x", "web-" + INST + "_", "web-" + SG, "web-" + B, "x$252F" + NAME + "z",
    "$2F" + NAME, "$25" + ACCT + "0", "%252F" + INST + "0", "a_" + ACCT + "_",
    IP6 + ":5", SK + "/x", SG + "x", SG + "_", "x/" + SK_ODD, "x" + LBL, NAME + "x",
    "v" + IP, "ip-10-41-7-2", "\\" + "\\" + "x" + INST,
    # No control sequence: no ESC before the bracket, too many parameters, a word byte after its letter:
    "[32m" + INST, "x[1m" + B, "\x1b[" + "1;" * 17 + "1m" + INST,
    "\x1b[32mx" + INST, "\x1b32m" + INST, "\\u001x[32m" + INST,
]
CASES = [(t, _r(t)) for t in RESTORES] + [(t, t) for t in STAYS]

@pytest.fixture(scope="module")
def lua_restore():
    rt = lupa.LuaRuntime(encoding=None)
    rt.execute(f"package.path = '{LUA_DIR}/?.lua;' .. package.path".encode())
    mod = rt.require(b"restore")
    mapping = encode(MAP)

    def run(text: str, cut: int | None = None) -> str:
        r = mod.new(mapping, b"text/plain")
        data = text.encode()
        pieces = [data] if cut is None else [data[:cut], data[cut:]]
        out = b"".join(r.feed(r, piece) for piece in pieces) + r.finish(r)
        return out.decode()
    return run


@pytest.mark.parametrize("text,expected", CASES, ids=[repr(t)[:40] for t, _ in CASES])
def test_python_restore(text, expected):
    assert restore_text(text.replace("\x01", "").replace("\x02", ""), MAP) == expected


@pytest.mark.parametrize("text,expected", CASES, ids=[repr(t)[:40] for t, _ in CASES])
def test_lua_restore(lua_restore, text, expected):
    assert lua_restore(text.replace("\x01", "").replace("\x02", "")) == expected


@pytest.mark.parametrize("text", ["a i-0a1b2c3d4e5f60718 b 10.41.7.23.4 c\\n483920175634%2Fqx-zrtvbw-lkmsp-x",
                                  "qx.zrtvbw.lkm.s3 1.10.41.7.23 sg-1a2b3c4d sg-1a2b3c4d1",
                                  "_i-0a1b2c3d4e5f60718_ web-i-0a1b2c3d4e5f60718 $252Fxqzpmvbwrtk-7f3a x_483920175634_"
                                  " _i-0a1b2c3d4e5f60718__ ab-i-0a1b2c3d4e5f60718-c $25483920175634 __483920175634_"
                                  " __sg-1a2b3c4d__ ___i-0a1b2c3d4e5f60718__"])
def test_both_agree_on_mixed_text(lua_restore, text):
    assert restore_text(text, MAP) == lua_restore(text)


@pytest.mark.parametrize("text,expected", CASES, ids=[repr(t)[:40] for t, _ in CASES])
def test_lua_restore_split_anywhere(lua_restore, text, expected):
    """The same cases arriving in two chunks, cut at every byte: the stream gives the same result."""
    plain = text.replace("\x01", "").replace("\x02", "")
    for cut in range(len(plain.encode()) + 1):
        assert lua_restore(plain, cut) == expected, cut
