"""One pass over the text that finds every detector's anchor hits at once.

Scanning dozens of literal-led anchors one by one costs a full pass each; Hyperscan (PyPI
``hyperscan``) matches them all in one pass at GB/s. It is only a finder: each hit just says where
the detector's own ``re`` regex must look, so ``re`` stays the single definition of what matches.
Without Hyperscan (not installed, or a pattern it cannot compile) ``ReAnchors`` does the same
with one ``re`` pass per anchor: identical results, slower.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import defaultdict

from agent.engine.detectors import Detector

try:  # optional accelerator
    import hyperscan
except ImportError:  # pragma: no cover - depends on the environment
    hyperscan = None

Hits = dict[int, list[tuple[int, int]]]    # detector index -> sorted (start, end) anchor hits


class ReAnchors:
    """Anchor hits with stdlib ``re``: one pass per anchor."""

    name = "re"

    def __init__(self, detectors: list[Detector]):
        self._anchors = [(i, a) for i, d in enumerate(detectors) for a in d.anchors]

    def scan(self, text: str) -> Hits:
        hits: Hits = {}
        for i, anchor in self._anchors:
            found = [m.span() for m in anchor.finditer(text)]
            if found:
                hits.setdefault(i, []).extend(found)
        for spans in hits.values():
            spans.sort()
        return hits


class HyperscanAnchors:
    """Anchor hits from one Hyperscan pass (text mapped to one byte per character first)."""

    name = "hyperscan"

    def __init__(self, detectors: list[Detector]):
        patterns, ids = [], []
        # Patterns that stand for an anchor with non-ASCII in a class (``[?฀-๿]``): Hyperscan sees every
        # non-ASCII character as "?", so each of their hits is checked with the anchor itself, on the
        # text, which is what ``ReAnchors`` finds. Unchecked, an arrow or a dash before a word hit a Thai,
        # Hebrew, Greek or Arabic noun's anchor (``prose-noun-name-nonlatin``: 97 hits, 5.8 ms of the
        # bench's 100 KB Claude Code body, for no match).
        checked: dict[int, re.Pattern] = {}
        for i, d in enumerate(detectors):
            for a in d.anchors:
                for expression in hyperscan_patterns(a.pattern):
                    if not a.pattern.isascii():
                        checked[len(patterns)] = a
                    patterns.append(expression)
                    ids.append(i)
        # Where ``scan`` puts each pattern's hits: under its detector's index, or, for a checked pattern,
        # under a key of its own (negative: after the scan its hits are checked, then added to its
        # detector's). A tuple built once: building a per-scan table of bound appends cost ~30 us of
        # the ~45 us every scan paid before reading a byte (a header, a URL, a short string).
        own = {pid: -1 - k for k, pid in enumerate(checked)}   # in pattern order
        self._slot = tuple(own.get(pid, i) for pid, i in enumerate(ids))
        self._checks = [(key, ids[pid], checked[pid].search) for pid, key in own.items()]
        self._db = _compiled(tuple(patterns))
        self._local = threading.local()

    def _scratch(self):
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        return scratch

    def scan(self, text: str) -> Hits:
        # One byte per character, so byte offsets are character offsets; anything non-ASCII becomes
        # "?", which no anchor contains (identifiers are ASCII).
        data = text.encode("ascii", "replace")
        # A list per detector (and per checked pattern) with hits, made at its first hit and appended
        # to straight from the callback: a hit costs one Python call (a dense 1 MB inventory has
        # ~18,000), and a scan makes no list for the ~300 detectors without hits (one per detector,
        # made up front, cost a 1 KB request ~10 % of its masking).
        hits: Hits = defaultdict(list)
        slot = self._slot

        def on_match(pid, start, end, flags, context):
            hits[slot[pid]].append((start, end))

        self._db.scan(data, match_event_handler=on_match, scratch=self._scratch())
        for own, target, search in self._checks:
            found = hits.pop(own, None)
            if found:
                _add_checked(hits[target], found, search, text)
                if not hits[target]:
                    del hits[target]
        for spans in hits.values():
            spans.sort()
        return dict(hits)


def _add_checked(spans: list[tuple[int, int]], hits: list[tuple[int, int]], search, text: str) -> None:
    """Adds to ``spans`` each of ``hits`` in which ``search`` (the anchor's own regex) finds a match on
    ``text``, with that match's span, as ``ReAnchors`` gives it. Not only at the hit's start: a non-ASCII
    character there may have stood for a "?" the anchor takes further on (``[?\u3000-\uffef]{2}[:?]?``
    reports ``存储桶 l`` from its first character, where the anchor itself matches from the second)."""
    for start, end in hits:
        m = search(text, start, end)
        if m is not None:
            spans.append(m.span())


@functools.lru_cache(maxsize=4)
def _compiled(patterns: tuple[bytes, ...]):
    """The Hyperscan database of these anchors. Compiling takes ~0.45 s; a process that builds
    several Maskers from the same packs (a config reload, the CLI's tools, the tests) compiles once.
    Scanning only reads the database; each HyperscanAnchors keeps its own scratch per thread."""
    db = hyperscan.Database()
    db.compile(expressions=list(patterns), ids=list(range(len(patterns))), elements=len(patterns),
               flags=[hyperscan.HS_FLAG_SOM_LEFTMOST] * len(patterns))
    return db


_NON_ASCII = re.compile(r"[^\x00-\x7f]-[^\x00-\x7f]|[^\x00-\x7f]")


# A literal prefix, then a group of plain words: '"(?:virtualNode|destinationCommit|...)'.
_WORD_SET = re.compile(r"((?:[^\\()\[\]|?*+{}.^$]|\\.)*)\(\?:(\w+(?:\|\w+)+)\)")


def hyperscan_patterns(pattern: str) -> list[bytes]:
    """An anchor as Hyperscan patterns: a literal prefix before a group of plain words becomes one
    literal per word. Hyperscan compiles 483 such literals in 0.01 s, but their alternation with
    start-of-match tracking in 0.4 s, at every agent start; every word still reports its own hit."""
    words = _WORD_SET.fullmatch(pattern)
    if words is None:
        return [hyperscan_pattern(pattern)]
    prefix = words.group(1)
    return [hyperscan_pattern(prefix + word) for word in words.group(2).split("|")]


def hyperscan_pattern(pattern: str) -> bytes:
    """An anchor as Hyperscan scans it. The scanned bytes hold no non-ASCII (every such character is
    mapped to "?"), so non-ASCII characters and ranges, allowed only inside a class that also holds
    "?" (detectors.py checks), are dropped: the class matches the same, and a class of high bytes
    would slow the whole scan down (measured: +18 % on the Claude Code body for one anchor)."""
    return _NON_ASCII.sub("", pattern).encode()


def make_prefilter(detectors: list[Detector], prefer: str = "auto"):
    """Hyperscan when available (``prefer`` "auto" or "hyperscan"), else stdlib ``re``."""
    if prefer != "re" and hyperscan is not None:
        try:
            return HyperscanAnchors(detectors)
        except Exception:  # noqa: BLE001 - any compile problem: the re path is always correct
            if prefer == "hyperscan":
                raise
    return ReAnchors(detectors)


def find_literals(text: str, values: list[str]) -> list[tuple[int, int]]:
    """Spans of every occurrence of any of ``values`` (sorted; overlapping ones included).

    The values are this request's originals, so nothing built from them outlives the call: no
    compiled database is kept, and no ``re`` pattern is made (``re`` caches what it compiles).
    A Hyperscan literal database has to be compiled first and then scans all values at once;
    ``str.find`` needs nothing compiled but scans once per value. The cheaper one is used (the
    measured costs are below).
    """
    n = len(values)
    if hyperscan is not None and n * len(text) * _FIND_NS_PER_CHAR > _HS_COMPILE_NS + n * _HS_PER_VALUE_NS:
        db = hyperscan.Database()
        db.compile(expressions=[v.encode() for v in values], ids=list(range(len(values))),
                   elements=len(values), flags=0, literal=True)
        found: list[tuple[int, int]] = []

        def on_match(pid, start, end, flags, context):
            found.append((end - len(values[pid]), end))

        db.scan(text.encode("ascii", "replace"), match_event_handler=on_match)
        return sorted(found)
    spans = []
    for value in values:
        i = text.find(value)
        while i >= 0:
            spans.append((i, i + len(value)))
            i = text.find(value, i + 1)
    return sorted(spans)


# Measured on 1 KB - 1 MB bodies: str.find scans ~0.3 ns per character per value; a Hyperscan
# literal database compiles in ~45 us plus ~14 us per value alone, but ~150 us inside a masking
# run (its allocations), and then scans for almost nothing.
_FIND_NS_PER_CHAR = 0.3
_HS_COMPILE_NS = 150_000
_HS_PER_VALUE_NS = 14_000
