"""Where in a raw JSON body detection may act, found without re-serializing anything.

``neutral`` is the body with escaped backslashes and escaped quotes blanked to ``\\0\\0`` (same
length), so every ``"`` left in it is a real string delimiter and every ``\\n`` left is a real
escape. On it, cheap literal searches find:
- protected spans that must pass byte-exact: signed ``thinking`` and ``redacted_thinking`` blocks,
  every ``signature`` and ``encrypted_*`` string, base64 ``source`` objects (images; documents too
  when the policy lets them pass);
- base64 sources that are not images (documents, which cannot be inspected);
- strings that need decoding before detection (``\\u``, ``\\/``, ``%XX``).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r'"[^"]*"|[{}\[\]]')
# Block types whose objects pass byte-exact (group 1: ``"type": "thinking"`` ...) and the keys whose
# string values do (``"signature": "``, ``"encrypted_*": "``), in one pass over the body (each was a
# full pass, ~0.35 ms per MB). In valid JSON (the body is validated first) and in ``neutral`` (every
# ``"`` a delimiter) a match of one alternative cannot overlap a match of the other, so one scan
# finds exactly what two separate scans found.
_PROTECTING = re.compile(r'"(?:type"\s*:\s*"(thinking|redacted_thinking|base64)"'
                         r'|(?:signature|encrypted_[^"]*)"\s*:\s*")')
_MEDIA_TYPE = re.compile(r'"media_type"\s*:\s*"([^"]*)"')
_ESCAPED_BACKSLASH = re.compile(r"\\\\")
# Escaped backslashes, and the escapes that make a string special (\uXXXX, \/), in one pass over
# the raw body: read left to right, a backslash the pass stops at always starts an escape (it takes
# \\ whole), so it sees the escapes a JSON parser sees, as the neutral text would show them.
_ESCAPES = re.compile(r"\\[\\u/]")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")      # ... or %XX need decoding before detection


def scan_text(text: str) -> str:
    """The text detection runs on: escaped backslashes blanked, so ``\\\\"`` never escapes a quote.

    An escaped backslash before ``n r t b f`` is an escape pasted as text (``\\\\n`` in JSON for a
    ``\\n`` inside the message, as in pasted JSON): it becomes NUL and one backslash, so detectors see
    ``\\n`` and treat it as a separator, as they do in plain text (``i-0abc…\\ni-0def…``: both IDs).
    """
    # re finds a two-byte literal faster than str does (1 MB: 0.5 ms, str.replace 1.3 ms), and
    # sub() hands back the text itself when there is nothing to replace.
    return _ESCAPED_BACKSLASH.sub(_blank, text)


def _blank(m: re.Match) -> str:
    nxt = m.string[m.end():m.end() + 1]
    return "\x00\\" if nxt and nxt in "nrtbf" else "\x00\x00"


def neutralize(scan: str) -> str:
    """``scan_text`` with escaped quotes blanked too: every ``"`` left is a string delimiter."""
    return scan.replace('\\"', "\x00\x00")


@dataclass
class Layout:
    """Where detection may act in one body. Protected spans are a set: ``protect`` adds a span
    (a whole block, a value inside it, both), ``is_protected`` asks whether a span lies inside
    their union. Spans nest (a signed thinking block holds its own ``signature`` value), so
    the answer must not depend on which of them starts later, i.e. on the key order of the block:
    they are merged into disjoint, sorted intervals once, before the first question."""
    scan: str
    neutral: str
    documents: list[tuple[int, int, str]] = field(default_factory=list)   # (start, end, media type)
    special: list[tuple[int, int]] = field(default_factory=list)          # string contents to decode
    _spans: list[tuple[int, int]] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)
    _ends: list[int] = field(default_factory=list)
    _merged: bool = True

    def protect(self, start: int, end: int) -> None:
        self._spans.append((start, end))
        self._merged = False

    def _merge(self) -> None:
        starts: list[int] = []
        ends: list[int] = []
        for start, end in sorted(self._spans):
            if ends and start <= ends[-1]:
                if end > ends[-1]:
                    ends[-1] = end
            else:
                starts.append(start)
                ends.append(end)
        self._starts, self._ends, self._merged = starts, ends, True

    @property
    def protected_starts(self) -> list[int]:
        if not self._merged:
            self._merge()
        return self._starts

    @property
    def protected_ends(self) -> list[int]:
        if not self._merged:
            self._merge()
        return self._ends

    def is_protected(self, start: int, end: int) -> bool:
        if not self._merged:
            self._merge()
        i = bisect.bisect_right(self._starts, start) - 1
        return i >= 0 and self._ends[i] >= end


def _enclosing_object(neutral: str, pos: int, reverse: str) -> tuple[int, int] | None:
    """Span of the innermost object around ``pos`` (``pos`` outside any string)."""
    n = len(neutral)
    depth = 0
    start = None
    for t in _TOKEN.finditer(reverse, n - pos):
        c = t.group()
        if c in "}]":
            depth += 1
        elif c in "{[":
            if depth == 0:
                start = n - t.end()
                break
            depth -= 1
    if start is None or neutral[start] != "{":
        return None
    return _object_from(neutral, start)


def _object_opened_before(neutral: str, pos: int) -> tuple[int, int] | None:
    """The object whose first key starts at ``pos`` (only whitespace between ``{`` and the key)."""
    k = pos - 1
    while k >= 0 and neutral[k] in " \t\r\n":
        k -= 1
    if k < 0 or neutral[k] != "{":
        return None
    return _object_from(neutral, k)


def _object_from(neutral: str, start: int) -> tuple[int, int] | None:
    depth = 0
    for t in _TOKEN.finditer(neutral, start):
        c = t.group()
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return start, t.end()
    return None


def _string_end(neutral: str, open_quote: int) -> int:
    return neutral.index('"', open_quote + 1) + 1


def analyse(text: str) -> Layout:
    """Find protected spans, documents and strings to decode in a valid JSON text."""
    special: list[int] = []    # where \u and \/ escapes start
    backslashes = False
    for m in _ESCAPES.finditer(text):
        if text[m.start() + 1] == "\\":
            backslashes = True
        else:
            special.append(m.start())
    scan = scan_text(text) if backslashes else text    # nothing to blank: skip that pass
    neutral = neutralize(scan)
    lay = Layout(scan, neutral)
    spans: list[tuple[int, int]] = []
    blocks: list[re.Match] = []
    values: list[tuple[int, int]] = []
    for m in _PROTECTING.finditer(neutral):
        if m.group(1) is not None:
            blocks.append(m)
        else:
            values.append((m.end() - 1, _string_end(neutral, m.end() - 1)))
    for kind, obj in _block_objects(neutral, blocks):
        if kind == "base64":
            media = _MEDIA_TYPE.search(neutral, obj[0], obj[1])
            media_type = media.group(1) if media else ""
            if not media_type.startswith("image/"):
                lay.documents.append((obj[0], obj[1], media_type))
                continue
        spans.append(obj)
    spans.extend(values)
    for start, end in spans:
        lay.protect(start, end)
    lay.special = _special_strings(neutral, special)
    return lay


def _block_objects(neutral: str, blocks: list[re.Match]) -> list[tuple[str, tuple[int, int]]]:
    """(block type, object span) of the outermost objects that hold the ``"type": ...`` keys of
    ``blocks``; an object inside another one found is passed over (the outer one covers it).

    Each object is found from its key, walking its own text (``type`` is usually the first key;
    otherwise back to its ``{`` first). Nested blocks whose ``type`` comes last would make each
    walk cross the ones inside it (n bytes, d levels: n * d), so the walks have a budget of twice
    the body; past it, one pass over the whole body matches every bracket instead (linear)."""
    found: list[tuple[str, tuple[int, int]]] = []
    budget = 2 * len(neutral) + 4096
    reverse = None
    covered = -1
    for m in blocks:
        if m.start() < covered:
            continue
        obj = _object_opened_before(neutral, m.start())  # "type" is usually the first key
        if obj is None:
            reverse = reverse if reverse is not None else neutral[::-1]
            obj = _enclosing_object(neutral, m.start(), reverse)
        if obj is None:
            continue
        budget -= obj[1] - obj[0]
        if budget < 0:
            return _block_objects_one_pass(neutral, blocks)
        covered = max(covered, obj[1])
        found.append((m.group(1), obj))
    return _outermost(found)


def _block_objects_one_pass(neutral: str, blocks: list[re.Match]) -> list[tuple[str, tuple[int, int]]]:
    keys = {m.start(): m.group(1) for m in blocks}
    enclosing: dict[int, str] = {}        # position of "{" -> type of a block it holds
    ends: dict[int, int] = {}
    stack: list[int] = []
    for t in _TOKEN.finditer(neutral):
        c = t.group()
        start = t.start()
        if c in "{[":
            stack.append(start)
        elif c in "}]":
            opened = stack.pop()
            if opened in enclosing:
                ends[opened] = t.end()
        elif start in keys and stack and neutral[stack[-1]] == "{":
            enclosing[stack[-1]] = keys[start]
    return _outermost([(kind, (opened, ends[opened])) for opened, kind in sorted(enclosing.items())
                       if opened in ends])


def _outermost(found: list[tuple[str, tuple[int, int]]]) -> list[tuple[str, tuple[int, int]]]:
    found.sort(key=lambda f: (f[1][0], -f[1][1]))
    out: list[tuple[str, tuple[int, int]]] = []
    end = -1
    for kind, obj in found:
        if obj[0] >= end:
            out.append((kind, obj))
            end = obj[1]
    return out


def _special_strings(neutral: str, hits: list[int]) -> list[tuple[int, int]]:
    """The strings holding the escapes at ``hits`` or a ``%XX``."""
    if "%" in neutral:           # a one-character search runs at memchr speed; the regex does not
        hits.extend(m.start() for m in _PERCENT.finditer(neutral))
        hits.sort()
    found: list[tuple[int, int]] = []
    for p in hits:
        if found and found[-1][0] <= p < found[-1][1]:
            continue
        start = neutral.rfind('"', 0, p) + 1
        end = neutral.index('"', p)
        found.append((start, end))
    return found


class StringLocator:
    """Answers "which string holds this position" for positions queried in increasing order."""

    def __init__(self, neutral: str):
        self._s = neutral
        self._pos = 0
        self._count = 0
        self._last: tuple[int, int] | None = None

    def string_at(self, pos: int) -> tuple[int, int] | None:
        last = self._last
        # Many hits in one long string (a pasted log is one JSON string of megabytes): searching its
        # bounds again for each hit made masking quadratic (4 MB: 2.9 s). No quote lies between
        # two positions of the same string, so the parity count stays as it is.
        if last is not None and last[0] <= self._pos <= pos < last[1]:
            self._pos = pos
            return last
        if pos < self._pos:
            self._pos, self._count = 0, 0
        self._count += self._s.count('"', self._pos, pos)
        self._pos = pos
        if self._count % 2 == 0:
            return None
        self._last = (self._s.rfind('"', 0, pos) + 1, self._s.index('"', pos))
        return self._last
