"""One pass over the text that finds every detector's anchor hits at once.

Scanning dozens of literal-led anchors one by one costs a full pass each; Hyperscan (PyPI
``hyperscan``) matches them all in one pass at GB/s. It is only a finder: each hit just says where
the detector's own ``re`` regex must look, so ``re`` stays the single definition of what matches.
Without Hyperscan (not installed, or a pattern it cannot compile) ``ReAnchors`` does the same
with one ``re`` pass per anchor: identical results, slower.
"""

from __future__ import annotations

import re
import threading

from agent.packs import Detector

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
        for i, d in enumerate(detectors):
            for a in d.anchors:
                patterns.append(a.pattern.encode())
                ids.append(i)
        self._owner = ids
        self._db = hyperscan.Database()
        self._db.compile(expressions=patterns, ids=list(range(len(patterns))), elements=len(patterns),
                         flags=[hyperscan.HS_FLAG_SOM_LEFTMOST] * len(patterns))
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
        found: list[tuple[int, int, int]] = []
        append = found.append

        def on_match(pid, start, end, flags, context):
            append((pid, start, end))

        self._db.scan(data, match_event_handler=on_match, scratch=self._scratch())
        hits: Hits = {}
        owner = self._owner
        for pid, start, end in found:
            hits.setdefault(owner[pid], []).append((start, end))
        for spans in hits.values():
            spans.sort()
        return hits


def make_prefilter(detectors: list[Detector], prefer: str = "auto"):
    """Hyperscan when available (``prefer`` "auto" or "hyperscan"), else stdlib ``re``."""
    if prefer != "re" and hyperscan is not None:
        try:
            return HyperscanAnchors(detectors)
        except Exception:  # noqa: BLE001 - any compile problem: the re path is always correct
            if prefer == "hyperscan":
                raise
    return ReAnchors(detectors)


_LITERAL_DBS = threading.local()     # per thread (a Database carries its scratch): values -> Database
_LITERAL_DBS_MAX = 32


def _literal_db(values: list[str]):
    """Compiled literal database for ``values``, reused while the same names come back.

    Compiling costs ~0.1 ms, more than scanning a small body; the turns of one conversation carry the
    same names, so a small LRU per thread saves it on most requests.
    """
    cache = getattr(_LITERAL_DBS, "cache", None)
    if cache is None:
        cache = _LITERAL_DBS.cache = {}
    key = tuple(values)
    db = cache.pop(key, None)
    if db is None:
        db = hyperscan.Database()
        db.compile(expressions=[v.encode() for v in values], ids=list(range(len(values))),
                   elements=len(values), flags=0, literal=True)
        if len(cache) >= _LITERAL_DBS_MAX:
            del cache[next(iter(cache))]
    cache[key] = db          # most recently used last
    return db


def find_literals(text: str, values: list[str]) -> list[tuple[int, int]]:
    """Spans of every occurrence of any of ``values`` (one pass; Hyperscan literal mode if present)."""
    if hyperscan is not None:
        try:
            db = _literal_db(values)
            found: list[tuple[int, int]] = []

            def on_match(pid, start, end, flags, context):
                found.append((end - len(values[pid]), end))

            db.scan(text.encode("ascii", "replace"), match_event_handler=on_match)
            return sorted(found)
        except Exception:  # noqa: BLE001 - fall back to re
            pass
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
    return [m.span() for m in pattern.finditer(text)]
