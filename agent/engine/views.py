"""Decoded views of encoded text, with the way back to raw offsets.

Detection must see what a JSON string or a URL means (``\\u0069-...``, ``\\/``, ``%3A``), while the
splice must touch the raw bytes only where an identifier was, so untouched bytes stay identical.
A ``View`` is the decoded text plus a piece table mapping each decoded span back to its raw span.
"""

from __future__ import annotations

import bisect
import re
from itertools import accumulate
from operator import sub

_JSON_ESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))')
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")


class View:
    """``text`` decoded from ``raw[base:]``; ``raw_span`` maps a decoded span to a raw span.

    Each escape decodes to one character; ``escapes`` holds (decoded position, raw start, raw
    length) of each, and everything between escapes maps one to one. Only the escapes are listed:
    a JSON text inside a string has one every few characters, and a piece table of the runs
    between them cost more than detection (a 100 KB body of such tool results: ~25 ms)."""

    def __init__(self, text: str, escapes: tuple[list[int], list[int], list[int]], base: int = 0,
                 outer: View | None = None):
        self.text = text
        self._dec, self._raw, self._lens = escapes
        self._base = base
        self._outer = outer

    def _raw_after(self, i: int, x: int) -> int:
        """Raw offset of decoded ``x``, which lies after escape ``i`` (-1: before any)."""
        if i < 0:
            return x
        return self._raw[i] + self._lens[i] + (x - self._dec[i] - 1)

    def _start(self, x: int) -> int:
        i = bisect.bisect_right(self._dec, x) - 1
        if i >= 0 and self._dec[i] == x:
            return self._raw[i]
        return self._raw_after(i, x)

    def _end(self, x: int) -> int:
        i = bisect.bisect_right(self._dec, x - 1) - 1
        if i >= 0 and self._dec[i] == x - 1:
            return self._raw[i] + self._lens[i]
        return self._raw_after(i, x)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        a, b = self._start(start) + self._base, self._end(end) + self._base
        if self._outer is not None:
            return self._outer.raw_span(a, b)
        return a, b


def _decode(raw: str, pattern: re.Pattern, convert) -> tuple[str, tuple[list[int], list[int], list[int]]]:
    # map() over the matches' C methods: no Python frame per escape for the positions.
    starts = list(map(re.Match.start, pattern.finditer(raw)))
    if not starts:
        return raw, ([], [], [])
    lens = list(map(len, map(re.Match.group, pattern.finditer(raw))))
    shrink = accumulate(map((1).__rsub__, lens), initial=0)     # raw characters lost before each escape
    return pattern.sub(convert, raw), (list(map(sub, starts, shrink)), starts, lens)


def _json_char(m: re.Match) -> str:
    if m.group(1):
        ch = chr(int(m.group(1), 16))
        return "\x00" if ch == "\\" else ch
    if m.group(2) == "\\":
        # An escaped backslash is a literal "\" (a Windows path: C:\\logs\\i-0abc...). Detectors
        # refuse a backslash as a left boundary (it may start an escape), so it is seen as the
        # separator it is, as on the raw path where scan_text blanks "\\\\" the same way.
        return "\x00"
    return _SIMPLE[m.group(2)]


def _percent_char(m: re.Match) -> str:
    code = int(m.group(1), 16)
    return chr(code) if code < 0x80 else "\x00"


def json_string_view(raw: str, base: int) -> View:
    """View of a JSON string's content (between the quotes) that starts at ``base`` in the body."""
    return View(*_decode(raw, _JSON_ESCAPE, _json_char), base=base)


# In a view of a JSON string, the escapes of a JSON text inside it read NUL + letter (its escaped
# backslash became NUL): ``\x00n``, ``\x00"``, ``\x00u00e9``.
_NESTED_ESCAPE = re.compile(r'\x00(?:u([0-9a-fA-F]{4})|(["\x00/bfnrt]))')
_NESTED_LEVELS = 3


def _nested_char(m: re.Match) -> str:
    return "\x00" if m.group(2) == "\x00" else _json_char(m)


def nested_json_view(view: View) -> View:
    """A JSON string's view decoded again, for the JSON text inside it (a tool result of JSON): up to
    three levels deep, each level shorter than the one before."""
    for _ in range(_NESTED_LEVELS):
        if not _NESTED_ESCAPE.search(view.text):
            break
        view = View(*_decode(view.text, _NESTED_ESCAPE, _nested_char), outer=view)
    return view


def percent_view(view: View) -> View:
    """Percent-decode a view's text (URLs, query strings); twice-encoded text is decoded twice."""
    inner = View(*_decode(view.text, PERCENT, _percent_char), outer=view)
    if PERCENT.search(inner.text):
        return View(*_decode(inner.text, PERCENT, _percent_char), outer=inner)
    return inner


def plain_view(text: str, base: int = 0) -> View:
    return View(text, ([], [], []), base=base)
