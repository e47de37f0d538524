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
from collections.abc import Callable
from operator import itemgetter
from typing import NamedTuple

from agent.engine.detectors import Detector
from agent.engine.memo import Memo
from agent.engine.prefilter import find_literals, make_prefilter
from agent.engine.presentation import blank_ansi, blank_gutters, has_ansi, strip_ansi
from agent.engine.splitters import NAME_MAX, SAFE, SPLITTERS, Part, name_shaped

_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_-]")
_WORD_CHAR = re.compile(r"[A-Za-z0-9_]")
_ESCAPE_BEFORE = re.compile(r"[\\\x00][nrtbf]")   # \n, and \\n (JSON in JSON) blanked to NUL NUL n
MAX_PROPAGATED = 200
_SHORT_WINDOW = 24   # up to this many start positions, anchored match() attempts beat one search()


def iter_matches(det: Detector, text: str, anchor_hits: list[tuple[int, int]] | None = None):
    """All matches of ``det.regex`` in ``text``, searched only around anchor hits when it has anchors.

    ``anchor_hits`` (sorted spans) come from the prefilter; without them the anchors are run here.
    With ``window: 0`` a match starts exactly where an anchor hit starts, so one ``match`` there
    decides. Otherwise the regex is searched from ``window`` characters before the hit (or from the
    start of the run of ``window_chars`` that ends at the hit, when the detector declares them).
    An iterable of matches: a list from the loops over hits (no generator between them and ``_hits``).
    """
    if not det.anchors:
        return det.regex.finditer(text)
    if anchor_hits is None:
        anchor_hits = sorted(m.span() for a in det.anchors for m in a.finditer(text))
    if det.window == 0:
        return _matches_at_hits(det, text, anchor_hits)
    if det.window_exact:
        return _exact_matches(det, text, anchor_hits)
    return _window_matches(det, text, anchor_hits)


def _window_matches(det: Detector, text: str, anchor_hits: list[tuple[int, int]]) -> list[re.Match]:
    """``iter_matches`` for a window before each hit (see there)."""
    match = det.regex.match
    out: list[re.Match] = []
    append = out.append
    covered = -1
    n = len(text)
    window, after = det.window, det.after
    back = _run_start_matcher(det) if det.window_back is not None else None
    seen: set[tuple[int, int]] = set()
    for a_start, a_end in anchor_hits:
        if a_start < covered:
            continue  # inside a match already found
        if back is None:
            pos = a_start - window if a_start > window else 0
        else:
            pos = _run_start(text, a_start, window, back)
        if a_start - pos <= _SHORT_WINDOW:
            while pos <= a_start:  # a few anchored attempts beat a search that may run on to ``hi``
                m = match(text, pos)
                if m is None:
                    pos += 1
                    continue
                if m.span() not in seen:
                    seen.add(m.span())
                    if m.end() > covered:
                        covered = m.end()
                    append(m)
                pos = m.end() if m.end() > pos else pos + 1
            continue
        hi = min(n, a_end + after)
        while pos <= a_start:
            m = _search(det, text, pos, hi)
            if m is None:
                break
            if m.end() >= hi and hi < n:
                m = match(text, m.start()) or m  # do not let the window cut it short
            if m.span() not in seen:
                seen.add(m.span())
                covered = max(covered, m.end())
                append(m)
            pos = m.end() if m.end() > m.start() else m.start() + 1
    return out


def _run_start(text: str, a_start: int, window: int, back) -> int:
    """Where the run of ``window_chars`` that ends at ``a_start`` starts, at most ``window`` back.
    ``back`` is ``_run_start_matcher(det)``: it matches through the window up to its last character
    outside the run (none: the run fills the window), with no slice made (the reversed slice it
    replaces cost 25 % more a hit)."""
    return back(text, a_start - window if a_start > window else 0, a_start).end()


_RUN_START: dict[str, Callable] = {}


def _run_start_matcher(det: Detector) -> Callable:
    """``match`` of ``(?s:.*[^window_chars])?`` for ``_run_start`` (one per class, kept)."""
    chars = det.window_back.pattern[:-1]       # window_back is "[...]*"
    found = _RUN_START.get(chars)
    if found is None:
        negated = "[" + chars[2:] if chars.startswith("[^") else "[^" + chars[1:]
        found = _RUN_START[chars] = re.compile(f"(?s:.*{negated})?").match
    return found


def _search(det: Detector, text: str, pos: int, hi: int) -> re.Match | None:
    """``det.regex.search(text, pos, hi)``. A regex that opens with lookbehinds and then a literal
    (``s3-path-style``: ``(?<!...)s3...``) is tried only where that literal stands: ``re`` cannot
    skip ahead past a lookbehind, and tried every position of a ~300-character window."""
    prefix = det.literal_prefix
    if not prefix:
        return det.regex.search(text, pos, hi)
    match = det.regex.match
    p = text.find(prefix, pos, hi)
    while p >= 0:
        m = match(text, p, hi)
        if m is not None:
            return m
        p = text.find(prefix, p + 1, hi)
    return None


def _matches_at_hits(det: Detector, text: str, anchor_hits: list[tuple[int, int]]) -> list[re.Match]:
    """``iter_matches`` for ``window: 0``: one ``match`` where each hit starts, unless inside a match
    already found. A list, not a generator: an inventory has thousands of such hits (EC2 IDs)."""
    match = det.regex.match
    out: list[re.Match] = []
    covered = -1
    for a_start, _ in anchor_hits:
        if a_start >= covered:
            m = match(text, a_start)
            if m is None and a_start and text[a_start - 1] in "\\\x00" and text[a_start] in "nrtbf":
                # An anchor hit reports its leftmost start, which can be an escape's letter: in
                # ``\nacl-...`` (a newline, then acl-...) or ``\ri-...`` it is where ``nacl-`` or
                # ``ri-`` would begin. The identifier starts after the letter.
                m = match(text, a_start + 1)
            if m is not None:
                covered = m.end()
                out.append(m)
    return out


def _exact_matches(det: Detector, text: str, anchor_hits: list[tuple[int, int]]) -> list[re.Match]:
    """``iter_matches`` for ``window_exact`` detectors: one ``match`` where the run of
    ``window_chars`` that ends at the hit starts. A label-anchored detector gets a hit on every
    JSON key that ends like a label (a dense inventory: ~9,000 per MB), so this loop is kept tight:
    no generator, and a hit whose run starts where the previous one's did is decided already."""
    match, back, window = det.regex.match, _run_start_matcher(det), det.window
    out: list[re.Match] = []
    covered = last = -1
    # Run starts never decrease with the hits (a later hit's run reaches at most as far back), so
    # a start equal to the last one is the only repeat, and every match found has its own span.
    for a_start, _ in anchor_hits:
        if a_start < covered:
            continue  # inside a match already found
        start = back(text, a_start - window if a_start > window else 0, a_start).end()  # _run_start
        if start and text[start - 1] == "\\" and text[start] in "nrt":
            start += 1  # the run starts with the letter of a JSON escape (\nDB_NAME=x): after it
        if start == last:
            continue
        last = start
        m = match(text, start)
        if m is not None:
            end = m.end()
            if end > covered:
                covered = end
            out.append(m)
    return out


def _matches(det: Detector, text: str, anchor_hits):
    """``iter_matches``, as a list straight from the tight loops where there is one."""
    if det.anchors and anchor_hits is not None:
        if det.window == 0:
            return _matches_at_hits(det, text, anchor_hits)
        if det.window_exact:
            return _exact_matches(det, text, anchor_hits)
    return iter_matches(det, text, anchor_hits)


def _hits(det: Detector, text: str, anchor_hits) -> list[tuple]:
    split = SPLITTERS[det.split]
    params, kind, priority, propagate = det.params, det.kind, det.priority, det.propagate
    out = []
    append = out.append
    if det.split == "whole":  # the common case, inlined: one safe span
        safe = SAFE.fullmatch
        for m in _matches(det, text, anchor_hits):
            start, end = m.span("value")
            if safe(text, start, end):
                append((start, end, priority, ((start, end, kind),), propagate))
        return out
    if det.split in PART_HITS:  # a table or URL: each cell competes on its own, not the whole span
        for m in _matches(det, text, anchor_hits):
            for part in split(text, m, params, kind):
                append((part[0], part[1], priority, (part,), propagate))
        return out
    items = params.get("form") == "cli"
    for m in _matches(det, text, anchor_hits):
        parts = split(text, m, params, kind)
        if parts:
            start, end = m.span("value")
            if items and len(parts) > 1:
                groups = _by_item(text, start, end, parts)
                if groups is not None:
                    # a plural flag's items (--log-group-names /aws/lambda/a /ecs/b): each competes on its
                    # own, so an item another detector owns (a log group path) hides none of the others
                    for item_start, item_end, group in groups:
                        append((item_start, item_end, priority, group, propagate))
                    continue
            append((start, end, priority, parts, propagate))
    return out


_ITEM = re.compile(r"[^ \t]+")


def _by_item(text: str, start: int, end: int, parts) -> list[tuple] | None:
    """A CLI flag's value split into its blank-separated items, each with its parts; None when it is
    one item, or when a part reaches over a blank (one value, as a quoted phrase is)."""
    parts = sorted(parts)
    groups = []
    i = 0
    for t in _ITEM.finditer(text, start, end):
        group = []
        while i < len(parts) and parts[i][1] <= t.end():
            if parts[i][0] < t.start():
                return None
            group.append(parts[i])
            i += 1
        if group:
            groups.append((t.start(), t.end(), tuple(group)))
    return groups if len(groups) > 1 and i == len(parts) else None


# Splitters whose match is a region (a table, a URL, a list, a JSON list's items) holding identifiers among other text:
# their parts are the hits, so a region never hides another detector's finding inside it.
PART_HITS = frozenset({"table_columns", "console_url", "service_names", "cli_table", "label_list",
                       "label_rows", "item_names", "cli_query_columns", "list_item_names",
                       "domain_labels", "yaml_block_items", "space_columns", "email_domains",
                       "codeowners_emails", "rclone_buckets", "cli_text_record", "cli_text_top_row",
                       "label_items", "account_list"})


def _resolve(hits: list[tuple]) -> list[tuple]:
    """Non-overlapping winners: within each group of overlapping hits, highest priority first, then
    longest, then leftmost (hits that overlap nothing, the usual case, win without a contest).
    A hit is ``(start, end, priority, parts, propagate)``; winners come back sorted by start."""
    hits.sort(key=_START)
    winners: list[tuple] = []
    group: list[tuple] = []
    group_end = -1
    for hit in hits:
        if hit[0] >= group_end:
            if len(group) == 1:
                winners.append(group[0])
            elif group:
                winners.extend(_contest(group))
            group = [hit]
            group_end = hit[1]
        else:
            group.append(hit)
            if hit[1] > group_end:
                group_end = hit[1]
    if len(group) == 1:
        winners.append(group[0])
    elif group:
        winners.extend(_contest(group))
    return winners


_START = itemgetter(0)   # a hit's start, as a sort key (C, not a Python call per hit)


def _contest(group: list[tuple]) -> list[tuple]:
    group.sort(key=lambda h: (-h[2], h[0] - h[1], h[0]))
    taken = Intervals()
    out = []
    for hit in group:
        if not taken.overlaps(hit[0], hit[1]):
            taken.add(hit[0], hit[1])
            out.append(hit)
    out.sort(key=_START)
    return out


class Intervals:
    """Non-overlapping accepted intervals, sorted, with an overlap test."""

    def __init__(self, starts: list[int] | None = None, ends: list[int] | None = None) -> None:
        self.starts: list[int] = starts if starts is not None else []
        self.ends: list[int] = ends if ends is not None else []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.starts, start)
        if i and self.ends[i - 1] > start:
            return True
        return i < len(self.starts) and self.starts[i] < end

    def add(self, start: int, end: int) -> None:
        i = bisect.bisect_right(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)


def _bounded_left(text: str, start: int, token=_TOKEN_CHAR) -> bool:
    return not (start and token.match(text, start - 1) and not _ESCAPE_BEFORE.match(text, max(0, start - 2)))


def _bounded(text: str, start: int, end: int, token=_TOKEN_CHAR) -> bool:
    return _bounded_left(text, start, token) and not (end < len(text) and token.match(text, end))


class Seeded(NamedTuple):
    """What ``Finder.find_seeded`` gives for a text: its parts; the values they propagate (value ->
    kind); and the spans taken (each winner whole, and each propagated part), where a value from
    another text must not propagate (inside an ARN, only its masked components change)."""

    parts: list[Part]
    seeds: dict[str, str]
    taken: Intervals


class Finder:
    """Runs a fixed list of detectors; safe to share between requests (its memo holds no original)."""

    def __init__(self, detectors: list[Detector], prefilter: str = "auto"):
        self.detectors = detectors
        self.prefilter = make_prefilter(detectors, prefilter)
        self._anchorless = [i for i, d in enumerate(detectors) if not d.anchors]
        # AWS's enum values (lower-cased; the packs' shared keep_values set): a CamelCase one found
        # inside an ARN (Lightsail's ExportSnapshotRecord) is AWS's word, not a name to propagate.
        self._enum_values: frozenset[str] = next(
            (v for d in detectors for v in (d.params.get("keep_values"),) if isinstance(v, frozenset)), frozenset())
        self._pieces: Memo[tuple] = Memo(PIECES_MEMO_SIZE, PIECES_MEMO_WINNERS)

    def find(self, text: str, pieces: list[tuple[int, int]] = ()) -> list[Part]:
        """Parts to pseudonymize, sorted by position and non-overlapping.

        ``pieces``: disjoint spans of ``text`` that other requests may have held unchanged (a
        conversation's earlier turns, its system prompt and tools: ``json_layout.pieces``). What was
        found inside one is remembered, with where the piece then started, under a private key of
        its text (``memo.py``), and the next time it is only blanked out of the pass: every turn
        resends the conversation so far, and all of it but the newest turns has been read before.
        The memo holds spans, kinds and priorities, never an original. A piece is cut where one
        JSON value ends and the next begins, so no identifier spans two; what is found in a piece
        the first time is what the whole pass found inside it, so a remembered piece reads as it
        read then. Propagation (a value found anywhere is masked everywhere) always runs on the
        whole text. A text with ANSI colour codes is also read without them (``_with_stripped``)."""
        return self.find_seeded(text, pieces)[0]

    def find_seeded(self, text: str, pieces: list[tuple[int, int]] = ()) -> Seeded:
        """``find``, with the values its winners propagate and the spans it took. A request is read
        as several texts (a JSON body's plain strings, and each string with escapes decoded on its
        own): what one of them names is masked in the others too (``propagated``)."""
        gutters = blank_gutters(text)      # line gutters, ANSI colours: spaces, 1:1 (presentation.py)
        shown = blank_ansi(gutters)
        found = self._remembering(shown, pieces) if pieces else self._find(shown)
        if shown is not gutters and has_ansi(gutters):
            found = found._replace(parts=_with_stripped(found.parts, lambda t: self._find(t).parts, gutters))
        return found

    def propagated(self, text: str, seeds: dict[str, str], taken: Intervals) -> list[Part]:
        """Stand-alone occurrences in ``text`` of ``seeds`` (what ``find_seeded`` gave for another
        text of the request) outside ``taken`` (what it gave for this one; extended here), as
        ``find`` propagates its own."""
        if not seeds:
            return []
        return _propagate(blank_ansi(blank_gutters(text)), seeds, taken, set(), self._enum_values)

    def propagating(self, seeds: dict[str, str]) -> list[str]:
        """Those of ``seeds`` that propagate (all accounts, name-shaped names): what to look for."""
        return _propagating(seeds, self._enum_values)

    def _find(self, text: str) -> Seeded:
        return self._parts(text, self._winners(text))

    def _remembering(self, text: str, pieces: list[tuple[int, int]]) -> Seeded:
        """``_find``, with what was found in each piece remembered, and pieces seen before blanked."""
        remembered: list[tuple[int, tuple]] = []
        new: list[tuple[int, int, tuple[int, int]]] = []
        for start, end in pieces:
            key, found = self._pieces.get((text[start:end],))
            if found is None:
                new.append((start, end, key))
            else:
                remembered.append((start, found))
        winners = self._winners(_blanked(text, remembered) if remembered else text)
        if new:
            starts = [w[0] for w in winners]
            for start, end, key in new:
                # kept where they stand, with the piece's start then: no work per winner now, and none
                # later where the piece has not moved (a conversation's earlier turns stay in place)
                inside = winners[bisect.bisect_left(starts, start):bisect.bisect_left(starts, end)]
                if inside and inside[-1][1] > end:
                    inside = [w for w in inside if w[1] <= end]
                self._pieces.put(key, (end - start, start, tuple(inside)), len(inside) + 1)
        if remembered:
            for start, (_, then, found) in remembered:
                by = start - then
                winners.extend(found if by == 0 else (_shifted(w, by) for w in found))
            winners.sort(key=_START)
        return self._parts(text, winners)

    def _winners(self, text: str) -> list[tuple]:
        """Every detector's hits in ``text``, overlaps resolved (``_resolve``)."""
        anchor_hits = self.prefilter.scan(text)
        hits: list[tuple] = []
        detectors = self.detectors
        # Only the detectors whose anchors hit (most texts hit a handful of the ~260) and those
        # without anchors (a regex led by a literal may have none), in detector order.
        run = sorted({*anchor_hits, *self._anchorless}) if self._anchorless else sorted(anchor_hits)
        for i in run:
            hits.extend(_hits(detectors[i], text, anchor_hits.get(i)))
        return _resolve(hits)

    def _parts(self, text: str, winners: list[tuple]) -> Seeded:
        """The winners' parts, and the other stand-alone occurrences of values they propagate."""
        parts: list[Part] = []
        propagate: dict[str, str] = {}
        spans: set[tuple[int, int]] = set()    # where those values were found, inside a winner
        outside: list[tuple[int, int]] = []    # parts a splitter put beyond their match ("<name> cert")
        for hit in winners:
            parts.extend(hit[3])
            for s, e, kind in hit[3]:
                inside = hit[0] <= s and e <= hit[1]
                if not inside:
                    outside.append((s, e))
                if hit[4]:
                    propagate.setdefault(text[s:e], kind)
                    if inside:
                        spans.add((s, e))
        taken = Intervals([h[0] for h in winners], [h[1] for h in winners])
        for s, e in outside:
            if not taken.overlaps(s, e):
                taken.add(s, e)
        if propagate:
            parts.extend(_propagate(text, propagate, taken, spans, self._enum_values))
        parts.sort()
        return Seeded(parts, propagate, taken)


# Remembered pieces: entries, and winners in all (a dense inventory of 1 MB has ~9,000; ~300 bytes each).
PIECES_MEMO_SIZE = 4096
PIECES_MEMO_WINNERS = 50_000


def _shifted(hit: tuple, by: int) -> tuple:
    start, end, priority, parts, propagate = hit
    return (start + by, end + by, priority, tuple((s + by, e + by, k) for s, e, k in parts), propagate)


def _blanked(text: str, remembered: list[tuple[int, tuple]]) -> str:
    """``text`` with the remembered pieces made NULs, which end every token and every window."""
    out: list[str] = []
    pos = 0
    for start, (length, _, _) in remembered:
        out.append(text[pos:start])
        out.append("\x00" * length)
        pos = start + length
    out.append(text[pos:])
    return "".join(out)


def _with_stripped(parts: list[Part], find: Callable[[str], list[Part]], text: str) -> list[Part]:
    """``parts`` and what ``find`` sees in ``text`` with its ANSI sequences removed (a colour code inside
    an ARN or between a key and its value), mapped back: only parts with no sequence inside, where
    ``parts`` has nothing, so a pseudonym never swallows a colour code."""
    stripped, starts, shifts = strip_ansi(text)
    # Where a removed sequence stood between two letters or digits, it separated two words
    # (``batch-orders27\x1b[32mlogs:and``): a part read in a token so joined is no part of the text.
    joins = [p for p in starts[1:] if 0 < p < len(stripped) and stripped[p - 1].isalnum() and stripped[p].isalnum()]
    taken = Intervals([p[0] for p in parts], [p[1] for p in parts])
    extra: list[Part] = []
    for start, end, kind in find(stripped):
        i = bisect.bisect_right(starts, start) - 1
        if i + 1 < len(starts) and starts[i + 1] < end:
            continue   # a sequence inside the part
        if joins and _in_joined_token(stripped, start, end, joins):
            continue
        s, e = start + shifts[i], end + shifts[i]
        if not taken.overlaps(s, e):
            taken.add(s, e)
            extra.append((s, e, kind))
    if not extra:
        return parts
    return sorted(parts + extra)


_TOKEN_REACH = 300


def _in_joined_token(text: str, start: int, end: int, joins: list[int]) -> bool:
    """Whether a join (``_with_stripped``) falls inside the run of non-blank characters around
    ``text[start:end]`` (looked for at most ``_TOKEN_REACH`` characters either side)."""
    lo = start
    while lo > 0 and start - lo < _TOKEN_REACH and not text[lo - 1].isspace():
        lo -= 1
    hi = end
    while hi < len(text) and hi - end < _TOKEN_REACH and not text[hi].isspace():
        hi += 1
    i = bisect.bisect_right(joins, lo)
    return i < len(joins) and joins[i] < hi


_DOTTED = re.compile(r"[a-z][a-z0-9_-]*\.[a-z][a-z0-9_-]{2,}")
_FILE_EXTENSIONS = frozenset("""
    html htm json yaml yml txt csv tsv zip gz tgz bz2 tar py js ts jsx tsx go rs java kt rb php log xml
    png jpg jpeg gif svg pdf md conf cfg ini toml sh bash env lock sql parquet avro orc jar war whl
    com org net io dev aws cloud local internal
""".split())


# A CamelCase name of three humps or more (OrionPaymentsStack, OrdersTableV2): a stack, table or
# function named in an ARN is the same resource where it stands alone (cdk deploy's "✅  X", its
# Outputs "X.ApiEndpoint = ..."). Two humps (MyRole, AppRole) are too often ordinary words in code.
_CAMEL_NAME = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+){2,}")


def _dotted_name(value: str) -> bool:
    """``m.kowalski`` (a user in an ARN) propagates; ``app.gz`` and ``example.com`` do not."""
    return bool(_DOTTED.fullmatch(value)) and value.rsplit(".", 1)[1] not in _FILE_EXTENSIONS


def _propagating(values: dict[str, str], enum_values: frozenset[str]) -> list[str]:
    """The values that propagate: every account, and up to ``MAX_PROPAGATED`` names (longest first)
    of six characters or more shaped like a name (not an AWS enum value)."""
    accounts = [v for v, k in values.items() if k == "account"]
    names = sorted((v for v, k in values.items() if k != "account" and len(v) >= 6
                    and (name_shaped(v) or _dotted_name(v)
                         or (_CAMEL_NAME.fullmatch(v) and v.lower() not in enum_values))),
                   key=lambda v: (-len(v), v))[:MAX_PROPAGATED]
    return accounts + names


def _propagate(text: str, values: dict[str, str], taken: Intervals, found: set[tuple[int, int]],
               enum_values: frozenset[str] = frozenset()) -> list[Part]:
    """Other stand-alone occurrences of values already identified (a bare account ID, a bucket name),
    found in one literal pass over every account and the (at most ``MAX_PROPAGATED``) names.
    An account also counts as stand-alone between hyphens (``logs-123456789012``, a bucket name that
    embeds it): its pseudonym holds no ``-``, so it still restores there. ``found``: spans of parts
    already taken, where the values came from (an inventory's every name: most literal hits)."""
    literals = _propagating(values, enum_values)
    out: list[Part] = []
    if literals:
        for span in find_literals(text, literals):
            if span in found:
                continue
            start, end = span
            kind = values[text[start:end]]
            token = _WORD_CHAR if kind == "account" else _TOKEN_CHAR
            # Neither taken nor inside a longer token, before reading a derived name's tail: each tail is
            # then read once (in "<name>-<name>-..." only the first hit starts a token), so linear work.
            if taken.overlaps(start, end) or not _bounded_left(text, start, token):
                continue
            if kind != "account" and text.startswith("-", end):
                end = _derived_end(text, start, end)
            if not taken.overlaps(start, end) and _bounded(text, start, end, token):
                taken.add(start, end)
                out.append((start, end, kind))
    return out


# Atomic: the words are taken whole or not at all. Backtracking into them could never succeed (a
# shorter tail is followed by "-" and a word character, which the lookahead refuses) and made a long
# hyphenated run quadratic (48,000 characters: 0.9 s). The lookahead reads only the [.-] run ahead:
# a word character after dots and dashes is what continues a token.
_DERIVED_TAIL = re.compile(r"(?>(?:-[A-Za-z0-9]+)+)(?![.-]*[A-Za-z0-9_])")


def _derived_end(text: str, start: int, end: int) -> int:
    """Where a name derived from a masked one ends: the name and hyphen-joined words after it, the
    way tools and people name what belongs to a resource (``<cluster>-cluster``, ``<db>-master``,
    ``<group>-002``, ``<alarm>-cpu-high``). The whole token is masked as one name, so its pseudonym
    restores as one token; a name the masked one only starts (``<name>.region``, ``<name>-x.y``) is left."""
    if "-" not in text[start:end] and "_" not in text[start:end]:
        return end  # a one-word name (CamelCase): its hyphenated extensions are too often prose
    m = _DERIVED_TAIL.match(text, end)
    # No longer than a name can be: a pseudonym's key stream costs time in the original's length per
    # 32 bytes it yields (a 400 KB "name" cost 0.8 s, 800 KB 3.9 s).
    return m.end() if m and m.end() - start <= NAME_MAX else end
