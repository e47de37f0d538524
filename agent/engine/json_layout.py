"""Where in a raw JSON body detection may act, found without re-serializing anything.

``neutral`` is the body with escaped backslashes and escaped quotes blanked to ``\\0\\0`` (same
length), so every ``"`` left in it is a real string delimiter and every ``\\n`` left is a real
escape. On it, cheap literal searches find:
- protected spans that must pass byte-exact, decided by the Messages API structure (one walk, only
  when a literal says there may be any): signed ``thinking`` and ``redacted_thinking`` blocks, the
  ``signature`` and ``encrypted_*`` fields of the block types that define them, base64 ``source``
  objects of blocks (images; documents too when the policy lets them pass). Never from a key name
  alone: user data (``tool_use.input``, tool schemas, JSON inside a string) is masked like text;
- base64 sources that are not images (documents, which cannot be inspected);
- strings that need decoding before detection (``\\u``, ``\\/``, ``%XX``).
"""

from __future__ import annotations

import bisect
import json
import re
import threading
from dataclasses import dataclass, field

from agent.engine.memo import Memo

# Tokens of the structure walk: a key (group 1) with its value when that is a string (group 2), a
# string, or a bracket. Scalars need no token: the next key or bracket ends them. In ``neutral``
# every ``"`` is a delimiter.
_TOKEN = re.compile(r'"([^"]*)"[ \t\r\n]*:[ \t\r\n]*("[^"]*")?|"[^"]*"|[{}\[\]]')
# Cheap prefilter: without one of these literals nothing can be protected, and the walk is skipped.
_PROTECTING = re.compile(r'"(?:type"\s*:\s*"(?:thinking|redacted_thinking|base64)"'
                         r'|(?:signature|encrypted_[^"]*)"\s*:\s*")')
_ESCAPED_BACKSLASH = re.compile(r"\\\\")
# Escaped backslashes, and the escapes that make a string special (\uXXXX, \/), in one pass over
# the raw body: read left to right, a backslash the pass stops at always starts an escape (it takes
# \\ whole), so it sees the escapes a JSON parser sees, as the neutral text would show them.
_ESCAPES = re.compile(r"\\[\\u/]")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")      # ... or %XX need decoding before detection
# ... and so do strings holding a JSON document (a tool result of JSON): its own escapes arrive
# escaped (``\\n``, ``\\\"``, ``\\uXXXX``), which ``scan`` reads as NUL backslash n, NUL NUL backslash
# quote, NUL NUL u: labels behind such quotes, lines and non-ASCII letters are seen only decoded.
_NESTED_ESCAPE = re.compile(r'\x00(?:\\[nrtbf"]|\x00(?:\\"|u[0-9a-fA-F]{4}))')


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
    return _blank_pair(m.string, m.end())


def _blank_pair(text: str, end: int) -> str:
    """What the escaped backslash ending at ``end`` becomes: NUL and a backslash before an escape
    letter (``scan_text``), else two NULs."""
    nxt = text[end:end + 1]
    return "\x00\\" if nxt and nxt in "nrtbf" else "\x00\x00"


def _blanked_at(text: str, doubles: list[int]) -> str:
    """``scan_text(text)``, given where its escaped backslashes start (``_escapes_and_marks`` found
    them): the regex pass stops at every backslash of the body (``\\n``, ``\\"``, ``\\u``: the bench's
    100 KB body, resent, ~4 % of masking), this only copies the text between them."""
    out: list[str] = []
    pos = 0
    for p in doubles:
        out.append(text[pos:p])
        out.append(_blank_pair(text, p + 2))
        pos = p + 2
    out.append(text[pos:])
    return "".join(out)


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
    pieces: list[Piece] | None = None                                     # see ``pieces``
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


def analyse(text: str) -> Layout:
    """Find protected spans, documents and strings to decode in a valid JSON text."""
    if _LAYOUT_DB is not None:
        special, doubles, marks, percents = _escapes_and_marks(text)
        scan = _blanked_at(text, doubles) if doubles else text
    else:
        special, backslashes = _escapes(text)
        scan = scan_text(text) if backslashes else text    # nothing to blank: skip that pass
    neutral = neutralize(scan)
    lay = Layout(scan, neutral)
    if _LAYOUT_DB is None:
        marks = [m.start() for m in _PROTECTING.finditer(neutral)]
        percents = [m.start() for m in _PERCENT.finditer(neutral)] if "%" in neutral else []
    lay.pieces = pieces(neutral)
    if marks:
        spans, lay.documents = (_protected_nodes(neutral, marks) if lay.pieces is None
                                else _protected_in_pieces(neutral, marks, lay.pieces))
        for start, end in spans:
            lay.protect(start, end)
    lay.special = _special_strings(scan, neutral, special + percents)
    return lay


def _escapes(text: str) -> tuple[list[int], bool]:
    """``_ESCAPES`` read left to right with the regex: (starts of the ``\\u`` and ``\\/`` escapes,
    whether an escaped backslash occurs). Without Hyperscan only: ``_escapes_and_marks`` answers the
    same from its pass."""
    special: list[int] = []
    backslashes = False
    for m in _ESCAPES.finditer(text):
        if text[m.start() + 1] == "\\":
            backslashes = True
        else:
            special.append(m.start())
    return special, backslashes


def _escapes_and_marks(text: str) -> tuple[list[int], list[int], list[int], list[int]]:
    """``_escapes`` (with where each escaped backslash starts, not only whether one occurs), and the
    marks and ``%XX`` starts (each sorted), in one Hyperscan pass over the raw body.

    Escapes: Hyperscan reports every two-character match, overlapping ones too (``\\\\u``:
    ``\\\\`` at 0 and ``\\u`` at 1); taking them greedily from the left, each one only at or after
    the end of the last taken, is what the regex's scan does. Backslashes are common in JSON (``\\n``,
    ``\\"``): the regex stops at each (dense 1 MB body: 1.8 ms, Hyperscan 0.2).

    Marks: ``neutral`` is the raw body with backslashes and escaped quotes blanked, so every mark
    in ``neutral`` stands in the raw body too, at the same place; one more here (an escaped
    ``\\"encrypted_`` inside a string) only makes the walk read an object it could have stepped
    over. ``%XX`` holds neither, so those are the same. One pass instead of a second one over
    ``neutral`` (Claude Code body: ~3 % of masking)."""
    special: list[int] = []
    doubles: list[int] = []
    ends: list[int] = []      # end * 2 + (1 for an escaped backslash), in the order found
    append = ends.append
    marks: list[int] = []
    percents: list[int] = []
    widths, percent_id = _MARK_WIDTHS, _PERCENT_ID

    def on_match(pid, start, end, flags, context):
        if pid < _MARKS_FROM:
            append(end * 2 + (pid == 0))
        elif pid == percent_id:
            percents.append(end - 3)
        else:
            marks.append(end - widths[pid - _MARKS_FROM])

    # One byte per character: anything non-ASCII becomes "?", in no pattern.
    _LAYOUT_DB.scan(text.encode("ascii", "replace"), match_event_handler=on_match,
                    scratch=_scratch("layout", _LAYOUT_DB))
    taken = -1
    for code in ends:
        end = code >> 1
        if end - 2 < taken:
            continue          # its backslash is the second character of the last escape taken
        taken = end
        if code & 1:
            doubles.append(end - 2)
        else:
            special.append(end - 2)
    marks.sort()
    return special, doubles, marks, percents


def _hyperscan_db(expressions: list[bytes]):
    """A Hyperscan database of ``expressions`` (ids in order), or None: without Hyperscan, or if one
    does not compile, the regex passes give the same results."""
    try:
        import hyperscan
        db = hyperscan.Database()
        db.compile(expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions))
        return db
    except Exception:  # noqa: BLE001 - not installed or not compiling: the regex path
        return None


_SCRATCH = threading.local()


def _scratch(name: str, db):
    """This thread's scratch space for ``db`` (Hyperscan needs one per thread scanning)."""
    scratch = getattr(_SCRATCH, name, None)
    if scratch is None:
        import hyperscan
        scratch = hyperscan.Scratch(db)
        setattr(_SCRATCH, name, scratch)
    return scratch


# Marks tell the walk that an object may hold something protected, so any superset of
# ``_PROTECTING``'s matches, inside the same objects, gives the same spans
# (tests/unit/test_structure_property.py): the quoted key or type value itself, wherever
# ``_PROTECTING`` would match a ``"type"`` key before it. A regex pass that starts on ``"`` (common in
# JSON and code) cost ~7 % of masking the bench's Claude Code body. Every pattern of the Hyperscan
# pass has a fixed width, so no start-of-match tracking is needed.
_MARK_LITERALS = ('"signature"', '"encrypted_', '"thinking"', '"redacted_thinking"', '"base64"')
_ESCAPE_PATTERNS = [rb"\\\\", rb"\\u", rb"\\/"]     # id 0: an escaped backslash
_MARKS_FROM = len(_ESCAPE_PATTERNS)
_MARK_WIDTHS = tuple(len(lit) for lit in _MARK_LITERALS)
_PERCENT_ID = _MARKS_FROM + len(_MARK_LITERALS)
_LAYOUT_DB = _hyperscan_db(_ESCAPE_PATTERNS + [re.escape(lit).encode() for lit in _MARK_LITERALS]
                           + [_PERCENT.pattern.encode()])


# --- what is protected: decided by the Messages API structure --------------------------------------
# Only objects the API defines as blocks get protection, and only from their own ``type``: a block
# sits in a request's ``messages[].content`` or ``system``, or below another block's ``content``
# (tool_result, search results, server tool results), ``source`` (image/document) or ``citations``.
# Every other key leads into data the user or client controls (``tool_use.input``, ``tools`` and their
# ``input_schema``, ``metadata`` ...): a ``signature`` or a ``{"type": "thinking"}`` there is user data
# and is masked like any text. Keys and types are compared as written; an escaped spelling
# (``"typ\u0065"``) gets no protection, so it is masked, never leaked.
_ROOT, _MESSAGE, _BLOCK, _BATCH = range(4)
_CHILD_ROLE = {
    _ROOT: {"messages": _MESSAGE, "system": _BLOCK, "requests": _BATCH},
    _MESSAGE: {"content": _BLOCK},
    _BLOCK: {"content": _BLOCK, "source": _BLOCK, "citations": _BLOCK},
    _BATCH: {"params": _ROOT},           # message batches: {"requests": [{"params": {...}}]}
}
# Arrays pass their role to their elements; a batch's array holds request objects.
_WHOLE_BLOCK = frozenset(("thinking", "redacted_thinking"))      # signed: every byte as it came
# The fields the SDK's param types declare as opaque, per block type (``anthropic/types/*_param.py``,
# beta included; tests/unit/test_structure_property.py checks this table against the installed SDK).
OPAQUE_FIELDS = {
    "thinking": ("signature",),
    "compaction": ("signature", "encrypted_content"),
    "web_search_result": ("encrypted_content",),
    "advisor_redacted_result": ("encrypted_content",),
    "encrypted_code_execution_result": ("encrypted_stdout",),
    "web_search_result_location": ("encrypted_index",),
}
# ``neutral`` is JSON still: blanked escapes are NULs, which strict=False takes inside strings.
_STEP_OVER = json.JSONDecoder(strict=False)


def _container(depth: int) -> re.Pattern:
    """A JSON array or object nested at most ``depth`` deep, in ``neutral`` (every ``"`` a delimiter,
    the text valid JSON, so a closing bracket needs no check against its opener). Possessive
    throughout: one forward pass, no backtracking; deeper nesting does not match at all."""
    inner = r'(?:"[^"]*+"|[^"{}\[\]]++)*+'
    for _ in range(depth):
        inner = r'(?:"[^"]*+"|[^"{}\[\]]++|[\[{]' + inner + r'[\]}])*+'
    return re.compile(r"[\[{]" + inner + r"[\]}]")


# Stepping over a container: this regex builds no objects, where raw_decode builds the whole value
# (the bench's Claude Code body: its 186 messages 1.0 -> 0.66 ms); raw_decode for deeper ones.
_CONTAINER_MATCH = _container(24).match
_NEAR = 256       # characters from a message's or block's brace to a mark taken to be inside it
_KEPT_KEYS = frozenset(("type", "media_type", *(k for keys in OPAQUE_FIELDS.values() for k in keys)))


def _protected_nodes(neutral: str, marks: list[int], start: int = 0, until: int | None = None, root: int = _ROOT,
                     root_via: str = "") -> tuple[list[tuple[int, int]], list[tuple[int, int, str]]]:
    """(protected spans, base64 sources that are not images) of every document in ``neutral``, or
    of the value at ``neutral[start:until]`` reached in the role ``root`` via the key ``root_via``.

    One forward pass over strings and brackets, linear in the body. A block's ``type`` may come
    after its other keys (the Python SDK writes ``signature`` first), so an object is judged when it
    closes, with everything it holds read. Outside the structure the walk only counts brackets.
    ``marks``: where ``_PROTECTING`` matched; a message or block holding none is stepped over whole
    by the C parser (most blocks of a long conversation are text, tool calls and tool results)."""
    spans: list[tuple[int, int]] = []
    documents: list[tuple[int, int, str]] = []
    # Open containers on the structure path: [role, is object, start, key via which it was reached,
    # pending key, {kept key: [value spans]}].
    stack: list[list] = []
    skip = 0                       # depth inside a container outside the structure (the slow way)
    pos: int | None = start
    stop = len(neutral) if until is None else until
    while pos is not None:
        tokens, pos = _TOKEN.finditer(neutral, pos, stop), None
        for t in tokens:
            c = t.group()
            if skip:
                if c in "{[":
                    skip += 1
                elif c in "}]":
                    skip -= 1
                continue
            if c in "{[":
                if not stack:
                    role, via = root, root_via
                else:
                    top = stack[-1]
                    if top[1]:
                        via = top[4]
                        role = _CHILD_ROLE[top[0]].get(via) if via is not None else None
                        top[4] = None
                    elif c == "[":
                        role = None                   # an array in an array is no API shape
                    else:
                        role, via = top[0], top[3]
                    if role is None or (c == "[" and role == _ROOT):
                        # User data (tools, tool input, metadata ...): nothing in it is protected, so
                        # the C parser steps over it (Claude Code's tool schemas are most of the
                        # tokens of its bodies); past its recursion limit, brackets are counted.
                        pos = _end_of(neutral, t.start())
                        if pos is None:
                            skip = 1
                            continue
                        break
                if c == "{" and role in (_MESSAGE, _BLOCK):
                    # A mark right after the brace is almost surely inside: walk without asking the
                    # parser where the object ends (walking an object without marks is only slower).
                    nxt = bisect.bisect_left(marks, t.start())
                    if nxt == len(marks) or marks[nxt] - t.start() > _NEAR:
                        end = _end_of(neutral, t.start())
                        if end is not None and (nxt == len(marks) or marks[nxt] >= end):
                            pos = end
                            break
                stack.append([role, c == "{", t.start(), via, None, {}])
            elif c in "}]":
                frame = stack.pop()
                if c == "}" and frame[0] == _BLOCK:
                    _judge(neutral, frame, t.end(), spans, documents)
            else:
                key = t.group(1)
                if key is None or not stack:
                    continue                          # a string in an array
                frame = stack[-1]
                if t.group(2) is None:                # a key whose value is a container or a scalar
                    frame[4] = key
                elif key in _KEPT_KEYS or key.startswith("encrypted_"):
                    frame[5].setdefault(key, []).append(t.span(2))
    return spans, documents


def _end_of(neutral: str, start: int) -> int | None:
    """Where the JSON value at ``start`` ends (None past the C parser's recursion limit)."""
    m = _CONTAINER_MATCH(neutral, start)
    if m is not None:
        return m.end()
    try:
        return _STEP_OVER.raw_decode(neutral, start)[1]
    except (ValueError, RecursionError):
        return None


# --- pieces: what a conversation resends unchanged --------------------------------------------------
# Smaller values are read with the rest of the body: a memo look-up costs more than reading them.
PIECE_MIN = 512
# More values than this (a long session has hundreds of messages) is no conversation but an array of
# data: each costs a few Python steps here, so past it the body is read whole, without pieces.
MAX_PIECES = 4096
Piece = tuple[int, int, str]      # start, end, the root key the value stands under
_WS = re.compile(r"[ \t\r\n]*")
_ROOT_KEY = re.compile(r'[ \t\r\n]*,?[ \t\r\n]*"([^"]*)"[ \t\r\n]*:[ \t\r\n]*')
_SCALAR = re.compile(r'[^,\]}\s]+')


def pieces(neutral: str) -> list[Piece] | None:
    """Every value of the root object's keys, or each element of those that are arrays
    (``messages``, ``system`` blocks, ``tools``), in order; None when the body is not one JSON
    object (NDJSON, an array), is nested past the parser's limit or holds more than ``MAX_PIECES``.

    Every turn of a conversation resends the turns before it, the system prompt and the tools byte
    for byte, so these are the units worth remembering what was found in: protected spans here
    (``analyse``), identifiers in ``finder.Finder.find``. Each is cut where one JSON value ends and
    the next begins, so no string, and no identifier, spans two."""
    out: list[Piece] = []
    pos = _WS.match(neutral).end()
    if not neutral.startswith("{", pos):
        return None
    pos += 1
    while (key := _ROOT_KEY.match(neutral, pos)) is not None:
        name, pos = key.group(1), key.end()
        if not neutral.startswith("[", pos):
            end = _value_end(neutral, pos)
            if end is None or len(out) == MAX_PIECES:
                return None
            out.append((pos, end, name))
            pos = end
            continue
        pos += 1
        while not neutral.startswith("]", pos := _WS.match(neutral, pos).end()):
            end = _value_end(neutral, pos)
            if end is None or len(out) == MAX_PIECES:
                return None
            out.append((pos, end, name))
            pos = _WS.match(neutral, end).end()
            if neutral.startswith(",", pos):
                pos += 1
        pos += 1
    rest = _WS.match(neutral, pos).end()
    return out if neutral.startswith("}", rest) and _WS.match(neutral, rest + 1).end() == len(neutral) else None


def big_pieces(found: list[Piece] | None) -> list[tuple[int, int]]:
    """The (start, end) of the pieces worth a memo entry."""
    return [(s, e) for s, e, _ in found if e - s >= PIECE_MIN] if found else []


def _value_end(neutral: str, pos: int) -> int | None:
    c = neutral[pos:pos + 1]
    if c == '"':
        return neutral.index('"', pos + 1) + 1
    if c in ("{", "["):
        return _end_of(neutral, pos)
    m = _SCALAR.match(neutral, pos)
    return m.end() if m is not None else None


# Protected spans of message and system pieces seen before, relative to the piece (never documents:
# a body with one is refused or passed, and its media type is the client's text).
_NODES: Memo[tuple[tuple[int, int], ...]] = Memo(4096, 100_000)


def _protected_in_pieces(neutral: str, marks: list[int],
                         found: list[Piece]) -> tuple[list[tuple[int, int]], list[tuple[int, int, str]]]:
    """``_protected_nodes`` piece by piece: the root object is never judged itself, so walking each
    root value in the role its key gives it finds the same spans; a piece with no mark in it holds
    nothing protected, and one read before is looked up."""
    spans: list[tuple[int, int]] = []
    documents: list[tuple[int, int, str]] = []
    for start, end, key in found:
        role = _CHILD_ROLE[_ROOT].get(key)
        i = bisect.bisect_left(marks, start)
        if role is None or i == len(marks) or marks[i] >= end:
            continue
        memo_key = None
        if end - start >= PIECE_MIN:
            memo_key, known = _NODES.get((key, neutral[start:end]))
            if known is not None:
                spans.extend((s + start, e + start) for s, e in known)
                continue
        got, docs = _protected_nodes(neutral, marks, start, end, role, key)
        spans.extend(got)
        documents.extend(docs)
        if memo_key is not None and not docs:
            _NODES.put(memo_key, tuple((s - start, e - start) for s, e in got), len(got) + 1)
    return spans, documents


def _judge(neutral: str, frame: list, end: int, spans: list, documents: list) -> None:
    values = frame[5]
    types = {neutral[s + 1:e - 1] for s, e in values.get("type", ())}
    if len(types) != 1:
        return                    # no type, or duplicate ``type`` keys that disagree: no protection
    (kind,) = types
    start = frame[2]
    if kind in _WHOLE_BLOCK:
        spans.append((start, end))
    elif kind == "base64" and frame[3] == "source":
        media = {neutral[s + 1:e - 1] for s, e in values.get("media_type", ())}
        media_type = media.pop() if len(media) == 1 else ""
        if media_type.startswith("image/"):
            spans.append((start, end))
        else:
            documents.append((start, end, media_type))
    for key in OPAQUE_FIELDS.get(kind, ()):
        spans.extend(values.get(key, ()))


def _special_strings(scan: str, neutral: str, hits: list[int]) -> list[tuple[int, int]]:
    """The strings holding the escapes or ``%XX`` at ``hits``, or escaped escapes."""
    if "\x00" in scan:           # escaped backslashes: maybe escaped escapes (JSON in a string)
        hits.extend(m.start() for m in _NESTED_ESCAPE.finditer(scan))
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
