"""One detection pass over a text: candidate spans from every detector, overlaps resolved, parts out.

Each detector's ``regex`` is the single definition of what matches. Scanning a long text with
dozens of regexes is only fast when each scan starts with a literal, so a detector may list
``anchors``: cheap literal-led patterns; the full regex is then run only in a small window around
each anchor hit (``window`` characters before, ``after`` characters after). Overlapping candidates
are resolved highest ``priority`` first, then longest, then leftmost; the winners are split into
parts (component-wise for ARNs and hostnames). Finally, identifiers marked ``propagate`` (accounts,
names) are also masked wherever else the same value stands alone in the text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from agent.packs import Detector
from agent.splitters import SPLITTERS, Part, name_shaped

_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_-]")
_ESCAPE_BEFORE = re.compile(r"\\[nrtbf]")


@dataclass(frozen=True)
class Hit:
    start: int          # value span, used for overlap resolution
    end: int
    priority: int
    parts: tuple[Part, ...]
    propagate: bool


def iter_matches(det: Detector, text: str):
    """All matches of ``det.regex`` in ``text``, found through the anchors when it has some."""
    if not det.anchors:
        yield from det.regex.finditer(text)
        return
    n = len(text)
    seen: set[tuple[int, int]] = set()
    for anchor in det.anchors:
        for a in anchor.finditer(text):
            pos = max(0, a.start() - det.window)
            hi = min(n, a.end() + det.after)
            while pos <= a.start():
                m = det.regex.search(text, pos, hi)
                if m is None:
                    break
                if m.end() >= hi and hi < n:
                    m = det.regex.match(text, m.start()) or m  # do not let the window cut it short
                if m.span() not in seen:
                    seen.add(m.span())
                    yield m
                pos = m.end() if m.end() > m.start() else m.start() + 1


def _hits(det: Detector, text: str) -> list[Hit]:
    split = SPLITTERS[det.split]
    out = []
    for m in iter_matches(det, text):
        parts = split(text, m, det.params, det.kind)
        if parts:
            start, end = m.span("value")
            out.append(Hit(start, end, det.priority, tuple(parts), det.propagate))
    return out


class _Intervals:
    """Non-overlapping accepted intervals, sorted, with an overlap test."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.starts, start)
        if i and self.ends[i - 1] > start:
            return True
        return i < len(self.starts) and self.starts[i] < end

    def add(self, start: int, end: int) -> None:
        i = bisect.bisect_right(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)


def _bounded(text: str, start: int, end: int) -> bool:
    if start and _TOKEN_CHAR.match(text, start - 1) and not _ESCAPE_BEFORE.match(text, max(0, start - 2)):
        return False
    return not (end < len(text) and _TOKEN_CHAR.match(text, end))


class Finder:
    """Runs a fixed list of detectors; stateless and safe to share between requests."""

    def __init__(self, detectors: list[Detector]):
        self.detectors = detectors

    def find(self, text: str) -> list[Part]:
        """Parts to pseudonymize, sorted by position and non-overlapping."""
        hits: list[Hit] = []
        for det in self.detectors:
            hits.extend(_hits(det, text))
        hits.sort(key=lambda h: (-h.priority, -(h.end - h.start), h.start))
        taken = _Intervals()
        parts: list[Part] = []
        propagate: dict[str, str] = {}
        for hit in hits:
            if taken.overlaps(hit.start, hit.end):
                continue
            taken.add(hit.start, hit.end)
            parts.extend(hit.parts)
            if hit.propagate:
                for s, e, kind in hit.parts:
                    propagate.setdefault(text[s:e], kind)
        parts.extend(self._propagate(text, propagate, taken))
        parts.sort()
        return parts

    @staticmethod
    def _propagate(text: str, values: dict[str, str], taken: _Intervals) -> list[Part]:
        """Other stand-alone occurrences of values already identified (a bare account ID)."""
        out: list[Part] = []
        for value, kind in values.items():
            if len(value) < 6 or (kind == "name" and not name_shaped(value)):
                continue
            pos = text.find(value)
            while pos >= 0:
                end = pos + len(value)
                if _bounded(text, pos, end) and not taken.overlaps(pos, end):
                    taken.add(pos, end)
                    out.append((pos, end, kind))
                pos = text.find(value, end)
        return out
