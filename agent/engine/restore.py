"""Put originals back into text with a restore map (``python -m agent restore``, tests).

The gateway restores in Lua (``haproxy/restore.lua``); this is the same rule in Python, candidate by
candidate, so both sides restore exactly the same tokens (tests/unit/test_restore_boundaries.py runs one
table of cases through both):

- Word characters are ``[A-Za-z0-9_]``: a pseudonym never restores next to one (``x<p>``, ``<p>0``).
- Joiners are ``- . : / + =``: a joiner next to a pseudonym blocks it only when the pseudonym itself
  contains that joiner and a word character follows it (a digit, for ``.``), i.e. the neighbour
  continues a token of the same shape (``10.0.1.5.7``, ``i-0ab..-x``); ``arn:...:<account>:role``,
  ``<account>.dkr.ecr...`` and ``<bucket>.s3.amazonaws.com`` restore.
- Escapes are separators: right after ``\\n \\t \\r \\b \\f``, ``\\uXXXX``, ``%XX``, ``%25XX`` and ``$25XX`` (the
  CloudWatch console's spelling of ``%2F``) a pseudonym restores; so it does after an ANSI control
  sequence (``ESC [`` parameters, a final letter; ESC raw or as ``\\u001b``, one or two levels deep),
  which the masker reads through (presentation.py): ``\\x1b[32m<p>`` from coloured terminal output.
- Glue the masker also reads through (core.yaml's ``ec2-resource-id``): a pseudonym wrapped in single
  or double underscores (``_<p>_``, ``__<p>__``: markdown emphasis and strong emphasis, the same number
  on both sides, each run with a non-word byte outside), and an
  EC2-style ID pseudonym (``i-`` + 17 hex: 68 random bits, never a look-alike by chance) after a host
  label (``web-<p>``); and any EC2-style ID pseudonym after an opening ``_`` / ``__`` and before anything
  the masker ends such an ID at: 17 hex digits at any byte that is no hex digit (``sg-<p>_ingress``,
  ``i-<p>-old``; upper case: no letter or digit), 8 to 16 at any non-word byte (``sg-<p>-old``).
- Candidates are scanned left to right, the longest pseudonym at a position wins, and a restored
  original is never looked at again.
"""

from __future__ import annotations

import re

_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_DIGIT = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_JOINERS = frozenset("-.:/+=")
_ESC = frozenset("bfnrt")
_CSI_PARAM = frozenset("0123456789;?")
_LETTER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_CSI_MAX = 32          # parameter bytes, as presentation._CSI reads them
_RUN_START = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z0-9_]")
# An EC2-style ID: its tail says where the masker ends it (``_ec2_end_ok``); 17 hex digits (68 random
# bits, never a look-alike by chance) also restore after a host label (``web-<p>``).
_EC2_ID = re.compile(r"[a-z]+(?:-[a-z]+)*-(?:(?P<l17>[0-9a-f]{17})|(?P<u17>[0-9A-F]{17})|(?P<short>[0-9a-f]{8,16}))")
# after_escape values: the candidate follows the opening ``_`` of ``_<p>_`` / ``__`` of ``__<p>__``
_UNDERSCORE, _UNDERSCORE2 = -1, -2
_KEYLEN = 8


class _Map:
    def __init__(self, restore_map: dict[str, str]):
        self.full = restore_map
        self.k = max(1, min(_KEYLEN, min(len(p) for p in restore_map)))
        lens: dict[str, set[int]] = {}
        odd = set()
        for p in restore_map:
            lens.setdefault(p[:self.k], set()).add(len(p))
            if p[0] not in _WORD:
                odd.add(p[0])
        self.lens = {key: sorted(v, reverse=True) for key, v in lens.items()}
        self.odd = re.compile("[" + "".join(re.escape(c) for c in sorted(odd)) + "]") if odd else None
        self._joiners: dict[str, frozenset[str]] = {}
        ids = ((p, _EC2_ID.fullmatch(p)) for p in restore_map)
        self.ec2 = {p: e.lastgroup for p, e in ids if e is not None}     # pseudonym -> "l17", "u17", "short"
        self.label_glue = frozenset(p for p, tail in self.ec2.items() if tail != "short")

    def joiners(self, p: str) -> frozenset[str]:
        j = self._joiners.get(p)
        if j is None:
            j = self._joiners[p] = frozenset(c for c in p if c in _JOINERS)
        return j


def _start_ok(text: str, s: int, j: frozenset[str], after_escape: bool, label_glue: bool = False) -> bool:
    if after_escape or s == 0:
        return True
    b = text[s - 1]
    if b in _WORD:
        return False
    if b in j and s > 1 and not (label_glue and b == "-"):
        b2 = text[s - 2]
        if (b == "." and b2 in _DIGIT) or (b != "." and b2 in _WORD):
            return False
    return True


def _end_ok(text: str, e: int, j: frozenset[str]) -> bool:
    n = len(text)
    if e >= n:
        return True
    b1 = text[e]
    if b1 in _WORD:
        return False
    if b1 in j and e + 1 < n:
        b2 = text[e + 1]
        if (b1 == "." and b2 in _DIGIT) or (b1 != "." and b2 in _WORD):
            return False
    return True


def _ec2_end_ok(text: str, s: int, e: int, tail: str) -> bool:
    """The masker's right boundary of an EC2-style ID (core.yaml ``ec2-resource-id``): 17 lower-case
    hex digits end at any byte that is no hex digit (``sg-…_ingress``, ``i-…-old``), 17 upper-case
    ones at any byte that is no letter or digit, 8 to 16 at any non-word byte (``sg-1a2b3c4d-old``);
    after a host label (``web-<p>``) at no word byte. ``tail``: the pseudonym's ``_EC2_ID`` group."""
    if e >= len(text):
        return True
    c = text[e]
    if c in _WORD and s > 1 and text[s - 1] == "-" and text[s - 2] in _WORD:
        return False
    if tail == "short":
        return c not in _WORD
    if tail == "u17":
        return not (c.isascii() and c.isalnum())
    return c not in _HEX


def _match_at(m: _Map, text: str, s: int, after_escape: bool) -> tuple[int, str] | None:
    lens = m.lens.get(text[s:s + m.k])
    if not lens:
        return None
    for n in lens:
        p = text[s:s + n]
        original = m.full.get(p)
        if original is not None and len(p) == n:
            j = m.joiners(p)
            ec2 = m.ec2.get(p)
            if after_escape in (_UNDERSCORE, _UNDERSCORE2):  # the same closing run, then no word byte
                e, k = s + n, -after_escape
                if text[e:e + k] == "_" * k and (e + k >= len(text) or text[e + k] not in _WORD):
                    return e, original
                if ec2 and _ec2_end_ok(text, s, e, ec2):
                    return e, original
                continue
            if _start_ok(text, s, j, after_escape, p in m.label_glue) and (
                    _ec2_end_ok(text, s, s + n, ec2) if ec2 else _end_ok(text, s + n, j)):
                return s + n, original
    return None


def _escaped(text: str, i: int) -> bool:
    k = i - 1
    while k >= 0 and text[k] == "\\":
        k -= 1
    return (i - 1 - k) % 2 == 1


def _csi_end(text: str, r: int) -> int | None:
    """Where the ANSI control sequence holding the word run at ``r`` ends (its final letter's next
    position), or None when the run is no sequence's parameters or final letter."""
    k = r
    while k > 0 and text[k - 1] in _CSI_PARAM and r - k < _CSI_MAX:
        k -= 1
    if k < 2 or text[k - 1] != "[":
        return None
    b = k - 1
    # ESC raw, or as a JSON escape one or two levels deep (``\\\\u001b``: JSON text in a JSON string, a
    # tool call's arguments), as the other escapes are read
    if text[b - 1] != "\x1b" and not (b >= 6 and text[b - 6:b] in ("\\u001b", "\\u001B")):
        return None
    f = k
    while f < len(text) and text[f] in _CSI_PARAM and f - k < _CSI_MAX:
        f += 1
    return f + 1 if f < len(text) and text[f] in _LETTER else None


def _next_candidate(m: _Map, text: str, pos: int):
    """(position, after_escape, next search position, alternative position) or None."""
    n = len(text)
    while True:
        r_m = _RUN_START.search(text, pos)
        o_m = m.odd.search(text, pos) if m.odd is not None else None
        r = r_m.start() if r_m else None
        o = o_m.start() if o_m else None
        if o is not None and (r is None or o < r):
            if not _escaped(text, o):
                return o, False, o + 1, None
            pos = o + 1
        elif r is not None:
            prev = text[r - 1] if r else ""
            if prev == "\\":
                c = text[r]
                if c in _ESC:
                    return r + 1, True, r + 2, None
                if c != "u":
                    return r, False, r + 1, None
                h = text[r + 1:r + 5]
                if len(h) == 4 and all(x in _HEX for x in h):
                    return r + 5, True, r + 6, None
                pos = r + 1
            elif prev and prev in "[;?" and (csi := _csi_end(text, r)) is not None:
                return csi, True, csi + 1, None        # after ESC[32m: the run is the sequence's
            elif prev == "$" and text[r:r + 2] == "25" and r + 3 < n and text[r + 2] in _HEX \
                    and text[r + 3] in _HEX:
                return r, False, r + 1, r + 4          # $252F: the console's %2F
            elif prev == "%" and text[r] in _HEX and r + 1 < n and text[r + 1] in _HEX:
                if text[r:r + 2] == "25" and r + 3 < n and text[r + 2] in _HEX and text[r + 3] in _HEX:
                    return r, False, r + 1, r + 4      # %252F: a %2F percent-encoded again
                return r, False, r + 1, r + 2
            elif text[r] == "_" and r + 1 < n and text[r + 1] in _WORD and text[r + 1] != "_":
                return r, False, r + 1, r + 1          # ``_<p>_``: the run itself, then after the ``_``
            elif text[r:r + 2] == "__" and r + 2 < n and text[r + 2] in _WORD and text[r + 2] != "_":
                return r, False, r + 1, r + 2          # ``__<p>__``: the same, after the ``__``
            else:
                return r, False, r + 1, None
        else:
            return None


def _alt_kind(text: str, alt: int) -> int | bool:
    """How the candidate after an escape (True) or an opening underscore run is judged."""
    if text[alt - 1] != "_":
        return True
    return _UNDERSCORE2 if alt >= 2 and text[alt - 2] == "_" else _UNDERSCORE


def restore_text(text: str, restore_map: dict[str, str]) -> str:
    if not restore_map or not text:
        return text
    m = _Map(restore_map)
    n = len(text)
    out: list[str] = []
    emitted = pos = 0
    while True:
        cand = _next_candidate(m, text, pos)
        if cand is None:
            break
        s, after_escape, next_pos, alt = cand
        found = None
        if s >= emitted:
            found = _match_at(m, text, s, after_escape) if s < n else None
            if found is None and alt is not None and alt < n:
                s = alt
                found = _match_at(m, text, alt, _alt_kind(text, alt))
        if found is not None:
            end, original = found
            out.append(text[emitted:s])
            out.append(original)
            emitted = pos = end
        else:
            pos = next_pos
    out.append(text[emitted:])
    return "".join(out)
