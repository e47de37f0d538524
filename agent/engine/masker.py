"""The masking engine behind ``agent.engine.results``: body in, masked body and restore map out.

``Masker.load`` reads the secret key, the detector packs and the masking config once; after that a
``Masker`` is immutable apart from caches and is shared by all requests. ``mask_body`` decides from
the content type how to read the body (JSON, NDJSON, text) or refuses it (415 for what cannot be
inspected, 400 for what is not what it claims to be), finds identifiers, assigns pseudonyms for the
whole request at once and splices them into the raw text in a single pass.

JSON object keys are scanned like values: the AWS CLI's own keys (``InstanceId``) never look like
identifiers, but a map keyed by instance ID has identifiers as keys, and those are masked.
"""

from __future__ import annotations

import bisect
import json
import os
import re
from collections import Counter
from itertools import accumulate
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from agent.engine import json_layout
from agent.engine.assignment import Assignment
from agent.engine.detect_helper import DetectHelper
from agent.engine.detectors import PackSet, load_packs
from agent.engine.finder import Finder, Intervals, Seeded
from agent.engine.gc_pause import cycle_gc_paused
from agent.engine.memo import Memo
from agent.engine.policy_values import kept_by_pattern, kept_values
from agent.engine.prefilter import find_literals
from agent.engine.pseudonyms import Generator, load_key
from agent.engine.results import MaskRefused, MaskResult
from agent.engine.settings import MaskConfig, load_config
from agent.engine.splitters import nothing_secret
from agent.engine.views import PERCENT, View, json_string_view, nested_json_view, percent_view, plain_view

try:  # optional accelerator for JSON validation (see _parses)
    import simdjson
except ImportError:  # pragma: no cover - depends on the environment
    simdjson = None

Found = tuple[int, int, str, str]    # raw start, raw end, kind, original (decoded)
# A special string (start, end, start of its key) -> its readings: each view, and the spans its matches took there
Readings = dict[tuple[int, int, int], list[tuple[View, Intervals]]]


class Unflagged(NamedTuple):
    """The special strings that the one decoded pass found nothing in: ``owners`` (start, end, start
    of their key) of all strings in that pass, where each one's decoded piece starts in ``joined``,
    and which were ``flagged`` (those are read in their exact views instead). ``known_clean``: the
    strings not in that pass because an earlier request's pass found nothing of their own in them
    (decoded only if a value found elsewhere must be looked for in them)."""

    owners: list[tuple[int, int, int]]
    starts: list[int]
    joined: str
    flagged: set[int]
    known_clean: list[tuple[int, int, int]] = []

_JSON_TYPES = ("application/json", "application/x-ndjson", "application/jsonl", "application/x-jsonlines")
_FORM = "application/x-www-form-urlencoded"
UNLABELLED_ACCOUNT_DETECTOR = "account-unlabelled"   # runs only with unlabelled_accounts: mask
_INNER_ESCAPE = re.compile(r'\\(?:[nrtbf"/\\]|u[0-9a-fA-F]{4})')   # JSON text inside a decoded string
_KEY_BEFORE = re.compile(r'"[A-Za-z0-9_.-]{1,64}"[ \t\r\n]*:[ \t\r\n]*"\Z')
# Between decoded strings checked in one pass: NULs end every token for every boundary, and 64 of
# them keep detector windows and lookarounds inside one string (a match that still crossed would
# only send both neighbours to the exact view).
_SEPARATOR = "\n" + "\x00" * 64 + "\n"
CLEAN_STRINGS_MEMO_SIZE = 4096


class Masker:
    def __init__(self, key: bytes, packs: PackSet, config: MaskConfig | None = None):
        self.config = config or MaskConfig()
        self.kinds = packs.kinds
        off = set(self.config.disable_detectors)
        if self.config.unlabelled_accounts == "keep":
            off.add(UNLABELLED_ACCOUNT_DETECTOR)   # the policy switch (README "Policies")
        detectors = [d for d in packs.detectors if d.kind not in self.config.disable_kinds and d.id not in off]
        self.finder = Finder(detectors)
        # Exact values kept (allow plus the policies' lists), and whether a pattern policy is on.
        self._keep = self.config.allow | kept_values(self.config)
        self._by_pattern = "keep" in (self.config.documentation_examples, self.config.documentation_ranges)
        self._digit_kinds = frozenset(k for k, spec in self.kinds.items() if spec.format == "digits")
        self._name_kinds = frozenset(k for k, spec in self.kinds.items() if spec.format == "name")
        self._gen = Generator(key)
        self._helper: DetectHelper | None = None
        # Special strings in which the one decoded pass found nothing (``_strings_to_view``); keyed
        # like the finder's pieces, holding no text.
        self._clean_strings: Memo[bool] = Memo(CLEAN_STRINGS_MEMO_SIZE)

    def start_detect_helper(self, **options) -> DetectHelper:
        """Run detection for large JSON bodies in a helper process (``agent/engine/detect_helper.py``),
        in parallel with validation and layout here. Only the SPOP server does; ``close()`` stops it."""
        if self._helper is None:
            self._helper = DetectHelper(self.finder.detectors, **options)
        return self._helper

    def close(self) -> None:
        if self._helper is not None:
            self._helper.close()
            self._helper = None

    @classmethod
    def load(cls, key_file: str | Path, packs_dir: str | Path | None = None, *,
             config_file: str | Path | None = None) -> Masker:
        """Key file, shipped packs plus ``packs_dir``, config from ``config_file`` or ``packs_dir``."""
        if config_file is None:
            config_file = os.environ.get("GATEWAY_MASK_CONFIG") or (
                Path(packs_dir) / "config.yaml" if packs_dir is not None else None)
        return cls(load_key(key_file), load_packs(packs_dir), load_config(config_file))

    # --- public API -------------------------------------------------------------------------------
    def mask_body(self, body: bytes, content_type: str | None, parallel: bool = False) -> MaskResult:
        """``parallel``: the caller has nothing else to do, so a large JSON body may use the helper."""
        with cycle_gc_paused():
            return self._mask_body(body, content_type, parallel)

    def _mask_body(self, body: bytes, content_type: str | None, parallel: bool) -> MaskResult:
        if not body:
            return MaskResult(body=body, restore_map={}, counts={})
        media, charset = _parse_content_type(content_type)
        if charset not in ("", "utf-8", "utf8", "us-ascii", "ascii"):
            raise MaskRefused(415, "invalid_request_error",
                              f"request body charset {charset!r} is not supported by the masking gateway; "
                              "send UTF-8", "charset")
        helper_body = body if parallel else None
        if media in _JSON_TYPES or media.endswith("+json"):
            text = _decode(body, "JSON")
            json_lines = not (media == "application/json" or media.endswith("+json"))
            return self._result(body, text, *self._json_found(text, json_lines, helper_body, body))
        if media == "" and _is_json(body):
            text = _decode(body, "JSON")
            return self._result(body, text, *self._json_found(text, False, helper_body, body))
        if media.startswith("text/") or media == _FORM or media == "":
            text = _decode(body, "text")
            return self._result(body, text, self._text_found(text), "agent")
        raise MaskRefused(415, "invalid_request_error",
                          f"content type {media!r} cannot be inspected for AWS identifiers, so the gateway "
                          "does not forward it; send application/json or text", "content_type")

    def scan(self, text: str, as_json: bool) -> list[Found]:
        """What would be masked, with positions in ``text`` (for ``python -m agent scan``)."""
        with cycle_gc_paused():
            found = self._json_found(text, json_lines=False)[0] if as_json else self._text_found(text)
            return self._allowed(found)

    # --- finding ----------------------------------------------------------------------------------
    def _view_found(self, view: View) -> tuple[list[Found], Seeded]:
        """What the finder finds in ``view``, at raw positions, and its whole answer (view positions)."""
        seeded = self.finder.find_seeded(_blank_backslashes(view.text))
        out = []
        for start, end, kind in seeded.parts:
            rs, re_ = view.raw_span(start, end)
            out.append((rs, re_, kind, view.text[start:end]))
        return out, seeded

    def _strings_to_view(self, text: str, lay: json_layout.Layout) -> tuple[list[tuple[int, int, int]], Unflagged]:
        """The special strings (with ``\\uXXXX``, ``\\/``, ``%XX``, JSON inside) that can hold anything to mask, as
        (start, end, start of their key), each to be decoded into an exact position-mapped view.

        Building such a view decodes escape by escape in Python; Claude Code's prompts are full of
        ``\\u2014`` and the views cost more than all detection (100 KB: ~1 ms). The C decoder gives the
        same text (an escaped backslash becomes the same NUL separator the view uses), so the strings
        are decoded that way and checked in one detection pass, separated so that no detector's window
        or lookaround reaches from one into the next. This only filters: a string with a finding, or
        crossed by one, gets the exact view; so does any string with ``%XX`` or an escape ``json``
        refuses (one pass per string cost ~0.02 ms each, 0.4 ms for Claude Code's 20).

        Also returns the strings left unflagged, with their decoded pieces, joined: a value found
        elsewhere in the request may still stand in one of them (``_propagated_in_special``).
        """
        need: list[tuple[int, int, int]] = []
        pieces: list[str] = []
        owners: list[tuple[int, int, int]] = []
        keys: list[tuple[int, int] | None] = []       # clean-string memo keys
        known_clean: list[tuple[int, int, int]] = []
        # More strings than the memo holds would only churn it (100,000 of them: +18 %).
        remember = len(lay.special) <= CLEAN_STRINGS_MEMO_SIZE
        for s, e in lay.special:
            if lay.is_protected(s - 1, e + 1):
                continue
            # With its own key ("SecretAccessKey": "..\/.."), so key-anchored detectors see the key.
            key = _KEY_BEFORE.search(lay.neutral, max(0, s - 80), s)
            k = key.start() if key is not None else s
            # Short ones too: when every string is known clean, the decoded pass is not made at all.
            memo_key = None
            if remember:
                memo_key, clean = self._clean_strings.get((text[k:e + 1],))
                if clean:
                    known_clean.append((s, e, k))
                    continue
            piece = _decoded_piece(text, s, e, k)
            if piece is None:
                need.append((s, e, k))
                continue
            pieces.append(piece)
            owners.append((s, e, k))
            keys.append(memo_key)
        if pieces:
            starts, joined = _joined(pieces)
            # each string a piece the finder may remember (a system prompt full of \u2014 comes every turn)
            spans = [(s, s + len(p)) for s, p in zip(starts, pieces, strict=True) if len(p) >= json_layout.PIECE_MIN]
            flagged: set[int] = set()
            for start, end, _ in self.finder.find(joined, spans):
                i = bisect.bisect_right(starts, start) - 1
                flagged.add(i)
                while i + 1 < len(starts) and starts[i + 1] < end:     # it crosses into the next piece
                    i += 1
                    flagged.add(i)
            need.extend(owners[i] for i in flagged)
            # Nothing found in a string at all means nothing of its own: its text alone decides that
            # (the separators keep other strings out), so the next request that sends it (every turn
            # resends the system prompt and tools) skips decoding and reading it here.
            for i, memo_key in enumerate(keys):
                if memo_key is not None and i not in flagged:
                    self._clean_strings.put(memo_key, True)
            unflagged = Unflagged(owners, starts, joined, flagged, known_clean)
        else:
            unflagged = Unflagged([], [], "", set(), known_clean)
        need.sort()
        return need, unflagged

    def _text_found(self, text: str) -> list[Found]:
        if PERCENT.search(text):
            return self._view_found(percent_view(plain_view(text)))[0]
        return [(s, e, k, text[s:e]) for s, e, k in self.finder.find(_blank_backslashes(text))]

    def _json_found(self, text: str, json_lines: bool, helper_body: bytes | None = None,
                    raw: bytes | None = None) -> tuple[list[Found], str]:
        """Findings, and where detection ran: "agent", "helper" or "agent_after_helper_failure".
        ``raw``: the body ``text`` was decoded from (validated as it is, not encoded again)."""
        helper = self._helper
        job = helper.submit(helper_body) if helper is not None and helper_body is not None else None
        _validate_json(text, json_lines, raw)
        lay = json_layout.analyse(text)
        self._apply_document_policy(lay)
        # needs no parts: done while the helper finishes
        found, special_seeds, views, unflagged = self._special_found(text, lay)
        answer = helper.collect(job) if job is not None else None   # a job implies a helper
        detected_by = "helper" if answer is not None else "agent" if job is None else "agent_after_helper_failure"
        if answer is None:
            answer = self.finder.find_seeded(lay.scan, json_layout.big_pieces(lay.pieces))
        parts, seeds, taken = answer
        found.extend(plain := self._plain_found(text, lay, parts))
        # A value the strings with escapes name is masked in the plain ones too, and the other way
        # round: the same request as ``json.dumps`` writes it by default (every non-ASCII character a
        # ``\uXXXX``) and as UTF-8 masks the same values. Only what the plain strings mask seeds the
        # others (the pass over the body also reads the special strings raw, escapes and all).
        news = {v: k for v, k in special_seeds.items() if v not in seeds}
        if news:
            found.extend(self._plain_found(text, lay, self.finder.propagated(lay.scan, news, taken)))
        masked = {f[3] for f in plain}
        seeds = {v: k for v, k in seeds.items() if v in masked}
        for v, k in special_seeds.items():
            seeds.setdefault(v, k)
        if seeds and lay.special:
            found.extend(self._propagated_in_special(text, seeds, views, unflagged, found))
        found.sort()
        return found, detected_by

    def _plain_found(self, text: str, lay: json_layout.Layout, parts: list) -> list[Found]:
        """The ``parts`` (sorted) that stand in plain strings and are not protected, as findings."""
        found: list[Found] = []
        special = set(lay.special)
        loc = json_layout.StringLocator(lay.neutral)
        append = found.append
        protected = lay.is_protected if lay.protected_starts else None
        digits = self._digit_kinds
        scan = lay.scan
        span: tuple[int, int] | None = None
        skip = False       # the current string is decoded and scanned on its own (special)
        for start, end, kind in parts:
            if protected is not None and protected(start, end):
                continue
            if span is None or start >= span[1]:  # parts come sorted: one lookup per string
                span = loc.string_at(start)
                if span is None:
                    if kind in digits and text[start:end].isdigit():
                        append((start, end, kind, text[start:end]))
                    continue
                skip = span in special
            if skip or end > span[1]:
                continue
            if scan[start - 1] == "\\":
                # The part would start on the letter of an escape (``\nacme-logs``: a detector that
                # took the backslash for an optional one before a quote). In ``scan`` every backslash
                # left starts an escape: the part starts after it, or, if nothing is left, is none.
                start += 1
                if start >= end:
                    continue
            append((start, end, kind, text[start:end]))
        return found

    def _special_found(self, text: str,
                       lay: json_layout.Layout) -> tuple[list[Found], dict[str, str], Readings, Unflagged]:
        """Findings in the special strings, each decoded into its exact view (with its key); the values
        they propagate; each viewed string's readings (view, spans its matches took), for propagation
        into it; and the strings the one decoded pass left unflagged (``_strings_to_view``).

        A string holding JSON is read twice: decoded once, where an escaped backslash is a separator
        that may be a path's (``C:\\\\nat-0abc..``, the NAT gateway ID), and decoded again, where the
        JSON inside shows its labels, lines, quotes and ``\\u`` letters (``\\\\n`` a line break, so
        ``at-0abc..``). What the second reading finds wins where the two overlap."""
        found: list[Found] = []
        seeds: dict[str, str] = {}
        views: Readings = {}
        need, unflagged = self._strings_to_view(text, lay)
        for s, e, k in need:
            readings = views[(s, e, k)] = []
            once: list[Found] = []
            for view in _readings(text, s, e, k):
                own, seeded = self._view_found(view)
                readings.append((view, seeded.taken))
                for value, kind in seeded.seeds.items():
                    seeds.setdefault(value, kind)
                # Only parts inside the value are taken from the view of key and value together.
                own = sorted(f for f in own if f[0] >= s and f[1] <= e)
                if once:
                    # The second reading wins over the first wherever one of its matches stands, whole:
                    # ``\\nclustercfg.<name>.<id>.euw1.cache.amazonaws.com`` read once is a host whose
                    # first label (AWS's word after the ``n`` of a line break) would be a name.
                    taken = seeded.taken
                    spans = [view.raw_span(a, b) for a, b in zip(taken.starts, taken.ends, strict=True)]
                    once = _without_overlaps(once, spans)
                once = once + own
            found.extend(once)
        return found, seeds, views, unflagged

    def _propagated_in_special(self, text: str, seeds: dict[str, str], views: Readings, unflagged: Unflagged,
                               found: list[Found]) -> list[Found]:
        """Stand-alone occurrences of ``seeds`` (every value that propagates, from every string) in the
        special strings: in each one read in its exact view, and in each unflagged one whose decoded
        piece holds one of them (one literal pass over all those pieces)."""
        literals = self.finder.propagating(seeds)
        if not literals:
            return []
        todo = dict(views)
        groups = [unflagged]
        # Known-clean strings are decoded now, as the one pass decoded them the first time: those that
        # may hold one of the values (escapes that decode to ASCII could spell one; others cannot).
        owners = _may_hold(text, unflagged.known_clean, literals)
        if owners:
            groups.append(Unflagged(owners, *_joined([_decoded_piece(text, *o) for o in owners]), set()))
        for group in groups:
            if not group.joined:
                continue
            starts, owners = group.starts, group.owners
            for start, _ in find_literals(group.joined, literals):
                i = bisect.bisect_right(starts, start) - 1
                if i not in group.flagged and owners[i] not in todo:
                    s, e, k = owners[i]
                    todo[owners[i]] = [(view, self.finder.find_seeded(_blank_backslashes(view.text)).taken)
                                       for view in _readings(text, s, e, k)]
        out: list[Found] = []
        spans = sorted((f[0], f[1]) for f in found)
        firsts = [a for a, _ in spans]
        for (s, e, _), readings in sorted(todo.items()):
            inside = spans[bisect.bisect_left(firsts, s):bisect.bisect_right(firsts, e)]
            done = Intervals([a for a, _ in inside], [b for _, b in inside])   # raw spans masked here
            for view, taken in readings:
                for ps, pe, kind in self.finder.propagated(_blank_backslashes(view.text), seeds, taken):
                    rs, re_ = view.raw_span(ps, pe)
                    if s <= rs and re_ <= e and not done.overlaps(rs, re_):
                        done.add(rs, re_)
                        out.append((rs, re_, kind, view.text[ps:pe]))
        return out

    def _apply_document_policy(self, lay: json_layout.Layout) -> None:
        for start, end, media_type in lay.documents:
            if self.config.documents == "pass":
                lay.protect(start, end)
                continue
            raise MaskRefused(
                415, "invalid_request_error",
                f"this request carries a base64 document attachment ({media_type or 'unknown type'}) "
                "that the "
                "masking gateway cannot inspect for AWS identifiers, so it was not forwarded. Send the text "
                "instead, or set 'documents: pass' in the masking config (GATEWAY_DOCUMENTS=pass) to forward "
                "documents unmasked.", "document")

    def _allowed(self, found: list[Found]) -> list[Found]:
        """Without what the config keeps (allow, the policies' values and patterns), and without names
        that hold nothing to hide (a region, an AZ, separators: ``splitters.nothing_secret``), whichever
        detector or splitter found them."""
        keep, disabled, names = self._keep, self.config.disable_kinds, self._name_kinds
        if self._by_pattern:
            kinds, config = self.kinds, self.config
            found = [f for f in found if not kept_by_pattern(f[3], kinds[f[2]].format, config)]
        # each distinct name asked once (an inventory repeats its names: 2,640 found, 269 distinct)
        hollow = {v for v in {f[3] for f in found if f[2] in names} if nothing_secret(v)}
        if not keep and not disabled and not hollow:
            return found
        return [f for f in found if f[3] not in keep and f[2] not in disabled
                and not (f[2] in names and f[3] in hollow)
                and not ("/" in f[3] and f[3].partition("/")[0] in keep)]    # 10.1.2.0/24, 10.1.2.0 allowed

    # --- pseudonyms and splice --------------------------------------------------------------------
    def _result(self, raw: bytes, text: str, found: list[Found], detected_by: str) -> MaskResult:
        """The masked body; ``raw`` (the UTF-8 ``text`` was decoded from) as it came when nothing is
        masked (most requests: no encode of the whole text). Splicing ``raw`` itself cost more than
        splicing the text and encoding it: +8 % on the dense body resent (10,780 byte offsets), +2 %
        on a UTF-8 100 KB body (finding its non-ASCII runs)."""
        found = self._allowed(found)
        if not found:
            return MaskResult(body=raw, restore_map={}, counts={}, detected_by=detected_by)
        assignment = Assignment(self._gen, self.kinds, {(kind, orig) for _, _, kind, orig in found})
        lookup = assignment.lookup
        out: list[str] = []
        append = out.append
        pos = 0
        for start, end, kind, original in found:
            append(text[pos:start])
            append(lookup[(kind, original)])
            pos = end
        append(text[pos:])
        counts = Counter(map(itemgetter(2), found))
        return MaskResult(body="".join(out).encode("utf-8"), restore_map=assignment.restore_map,
                          counts=dict(counts), detected_by=detected_by)


def _decoded_piece(text: str, s: int, e: int, k: int) -> str | None:
    """The special string ``text[s:e]`` decoded, with its key from ``k`` and its closing quote, as the one
    decoded pass reads it (an escaped backslash a NUL); None when it needs its exact view instead."""
    raw = text[s:e]
    try:
        value = None if PERCENT.search(raw) else json.loads('"' + raw + '"')
    except ValueError:
        return None
    # ``%\u0032F`` is "%2F", and ``\\u00e9`` "\u00e9", once decoded: more to decode behind.
    if value is None or "%" in value and PERCENT.search(value) or "\\" in value and _INNER_ESCAPE.search(value):
        return None
    return text[k:s] + value.replace("\\", "\x00") + '"'


# Escapes that decode to a character an identifier may hold: ``\u0000``-``\u007f`` and ``\/``. The
# others give quotes, backslashes, control characters or non-ASCII letters, none of them in any
# original (``restore_map``: printable ASCII only), so a value spelled through none of them stands
# in the raw string as it stands decoded.
_ASCII_ESCAPE = re.compile(r"\\(?:u00[0-7][0-9a-fA-F]|/)")


def _may_hold(text: str, strings: list[tuple[int, int, int]], values: list[str]) -> list[tuple[int, int, int]]:
    """Those special ``strings`` of ``text`` that, decoded, may hold one of ``values`` (ASCII): one
    literal pass over them all (a request may name thousands of accounts: one ``in`` per value and
    string was quadratic, 10,000 accounts and 1 MB of such strings: 3.1 s), and a look for escapes."""
    if not strings:
        return []
    raws = [text[s:e] for s, e, _ in strings]
    starts, joined = _joined(raws)            # no value holds the separator's NULs: none crosses it
    hit = {bisect.bisect_right(starts, start) - 1 for start, _ in find_literals(joined, values)}
    return [o for i, (o, raw) in enumerate(zip(strings, raws, strict=True))
            if i in hit or _ASCII_ESCAPE.search(raw) is not None]


def _joined(pieces: list[str]) -> tuple[list[int], str]:
    """Where each piece starts once they are joined by ``_SEPARATOR``, and the joined text."""
    starts, pos = [], 0
    for piece in pieces:
        starts.append(pos)
        pos += len(piece) + len(_SEPARATOR)
    return starts, _SEPARATOR.join(pieces)


def _readings(text: str, s: int, e: int, k: int) -> list:
    """The views a special string is read in: decoded once with its key (and the closing quote, as
    key detectors want), and, if it holds JSON, decoded again; each percent-decoded if it has ``%XX``."""
    view = json_string_view(text[k:e + 1], k)
    inner = nested_json_view(view)
    readings = [view] if inner is view else [view, inner]
    return [percent_view(v) if PERCENT.search(v.text) else v for v in readings]


def _without_overlaps(found: list[Found], winners: list[Found]) -> list[Found]:
    """``found`` without what overlaps any of ``winners`` (both sorted by start)."""
    winners = sorted(winners)
    starts = [w[0] for w in winners]
    ends = list(accumulate((w[1] for w in winners), max))    # a running max: any overlap to the left
    out = []
    for f in found:
        i = bisect.bisect_left(starts, f[1]) - 1      # the last winner starting before f ends
        if i < 0 or ends[i] <= f[0]:
            out.append(f)
    return out


def _parse_content_type(content_type: str | None) -> tuple[str, str]:
    if not content_type:
        return "", ""
    media, _, params = content_type.partition(";")
    charset = ""
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


def _decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise MaskRefused(400, "invalid_request_error",
                          f"request body is not valid UTF-8 {what}; the masking gateway only forwards bodies "
                          "it can read", "invalid_utf8") from None


_LONE_BACKSLASH = re.compile(r"\\(?![nrtbf\"])")


def _blank_backslashes(text: str) -> str:
    """Text with every backslash that does not start an escape (``\\n``, ``\\"`` ...) made a NUL, 1:1.

    Boundaries refuse a backslash on the left (in JSON it may start an escape), which in plain text
    would let ``C:\\logs\\i-0abc...`` through. ``\\n`` ``\\t`` ... stay, so ``{L}`` still sees them
    as separators; positions do not move, so spans index the original text.
    """
    if "\\" not in text:
        return text
    return _LONE_BACKSLASH.sub("\x00", text)


def _parses(text: str, data: bytes | None = None) -> bool:
    """Whether ``text`` is one JSON document (``data``: its UTF-8, when the caller has it already; a
    body with non-ASCII text is held in four bytes per character, and encoding it again cost ~5 % of
    masking a real Claude Code body resent).

    simdjson validates ~5x faster than the stdlib (1 MB: 0.3 ms instead of 1.6) and creates no
    Python object. It is stricter (no NaN, no lone surrogate escapes, no integers beyond 64 bits),
    so what it refuses is asked of ``json``: the same bodies pass as with ``json`` alone. A new
    parser per call: a reused one keeps the last document (originals) in its buffers until the
    next. Not orjson: it keeps object keys for the life of the process (an identifier used as a key
    would outlive its request)."""
    if simdjson is not None:
        try:
            simdjson.Parser().parse(text.encode("utf-8") if data is None else data)
            return True
        except Exception:  # noqa: BLE001 - any refusal (ValueError, RuntimeError ...): ask json
            pass
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _validate_json(text: str, json_lines: bool, raw: bytes | None = None) -> None:
    if json_lines:
        valid = all(_parses(line) for line in text.splitlines() if line.strip())
    else:
        valid = _parses(text, raw)
    if not valid:
        raise MaskRefused(400, "invalid_request_error",
                          "request body is not valid JSON although its content type says JSON; the masking "
                          "gateway only forwards bodies it can parse", "invalid_json")


def _is_json(body: bytes) -> bool:
    if body.lstrip()[:1] not in (b"{", b"["):
        return False
    try:
        return _parses(body.decode("utf-8"), body)
    except UnicodeDecodeError:
        return False
