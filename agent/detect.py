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
from agent.prefilter import ACCOUNT_ID, find_literals, make_prefilter
from agent.splitters import SPLITTERS, Part, name_shaped

_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_-]")
_ESCAPE_BEFORE = re.compile(r"\\[nrtbf]")
MAX_PROPAGATED = 200


@dataclass(frozen=True)
class Hit:
    start: int          # value span, used for overlap resolution
    end: int
    priority: int
    parts: tuple[Part, ...]
    propagate: bool


def iter_matches(det: Detector, text: str, anchor_hits: list[tuple[int, int]] | None = None):
    """All matches of ``det.regex`` in ``text``, searched only around anchor hits when it has anchors.

    ``anchor_hits`` (sorted spans) come from the prefilter; without them the anchors are run here.
    """
    if not det.anchors:
        yield from det.regex.finditer(text)
        return
    if anchor_hits is None:
        anchor_hits = sorted(m.span() for a in det.anchors for m in a.finditer(text))
    n = len(text)
    seen: set[tuple[int, int]] = set()
    covered = -1
    for a_start, a_end in anchor_hits:
        if a_start < covered:
            continue  # inside a match already found
        pos = max(0, a_start - det.window)
        hi = min(n, a_end + det.after)
        while pos <= a_start:
            m = det.regex.search(text, pos, hi)
            if m is None:
                break
            if m.end() >= hi and hi < n:
                m = det.regex.match(text, m.start()) or m  # do not let the window cut it short
            if m.span() not in seen:
                seen.add(m.span())
                covered = max(covered, m.end())
                yield m
            pos = m.end() if m.end() > m.start() else m.start() + 1


def _hits(det: Detector, text: str, anchor_hits) -> list[Hit]:
    split = SPLITTERS[det.split]
    out = []
    for m in iter_matches(det, text, anchor_hits):
        parts = split(text, m, det.params, det.kind)
        if parts:
            start, end = m.span("value")
            out.append(Hit(start, end, det.priority, tuple(parts), det.propagate))
    return out


def _resolve(hits: list[Hit]) -> list[Hit]:
    """Non-overlapping winners: within each group of overlapping hits, highest priority first, then
    longest, then leftmost (hits that overlap nothing, the usual case, win without a contest)."""
    hits.sort(key=lambda h: (h.start, -h.end))
    winners: list[Hit] = []
    group: list[Hit] = []
    group_end = -1
    for hit in hits + [Hit(1 << 62, 1 << 62, 0, (), False)]:
        if hit.start >= group_end and group:
            winners.extend(group if len(group) == 1 else _contest(group))
            group = []
        group.append(hit)
        group_end = max(group_end, hit.end) if len(group) > 1 else hit.end
    return winners


def _contest(group: list[Hit]) -> list[Hit]:
    group.sort(key=lambda h: (-h.priority, -(h.end - h.start), h.start))
    taken = _Intervals()
    out = []
    for hit in group:
        if not taken.overlaps(hit.start, hit.end):
            taken.add(hit.start, hit.end)
            out.append(hit)
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

    def __init__(self, detectors: list[Detector], prefilter: str = "auto"):
        self.detectors = detectors
        self.prefilter = make_prefilter(detectors, prefilter)

    def find(self, text: str) -> list[Part]:
        """Parts to pseudonymize, sorted by position and non-overlapping."""
        anchor_hits = self.prefilter.scan(text)
        hits: list[Hit] = []
        for i, det in enumerate(self.detectors):
            if det.anchors and i not in anchor_hits:
                continue
            hits.extend(_hits(det, text, anchor_hits.get(i)))
        taken = _Intervals()
        parts: list[Part] = []
        propagate: dict[str, str] = {}
        for hit in _resolve(hits):
            taken.add(hit.start, hit.end)
            parts.extend(hit.parts)
            if hit.propagate:
                for s, e, kind in hit.parts:
                    propagate.setdefault(text[s:e], kind)
        if propagate:
            parts.extend(_propagate(text, propagate, taken, anchor_hits.get(ACCOUNT_ID, [])))
        parts.sort()
        return parts


def _propagate(text: str, values: dict[str, str], taken: _Intervals,
               digit_runs: list[tuple[int, int]]) -> list[Part]:
    """Other stand-alone occurrences of values already identified (a bare account ID, a bucket name).

    Accounts come from the prefilter's 12-digit runs; names from one alternation of the (at most
    ``MAX_PROPAGATED``) name values found in this text.
    """
    out: list[Part] = []
    accounts = {v for v, k in values.items() if k == "account"}
    for start, end in digit_runs:
        value = text[start:end]
        if value in accounts and _bounded(text, start, end) and not taken.overlaps(start, end):
            taken.add(start, end)
            out.append((start, end, "account"))
    names = sorted((v for v, k in values.items() if k != "account" and len(v) >= 6 and name_shaped(v)),
                   key=lambda v: (-len(v), v))[:MAX_PROPAGATED]
    if names:
        for start, end in find_literals(text, names):
            if _bounded(text, start, end) and not taken.overlaps(start, end):
                taken.add(start, end)
                out.append((start, end, values[text[start:end]]))
    return out
