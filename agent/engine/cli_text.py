"""The AWS CLI's own outputs besides JSON: ``--output text`` rows, read by the columns botocore's models
give them, and ``--output table`` sections, read by their header keys or, printed vertically, by each
``| Key | value |`` row. A field under a key that names an identifier is cut as the vocabulary's labels
cut a value (``vocab.value_parts``).

The AWS CLI prints every structure of a response as one row: the name of the member that holds it in
upper case (``INSTANCES``), a tab, then the structure's scalar members in sorted order of their names,
tab-separated (``awscli/text.py``: over a list's items the union of their members, an absent one
printed empty; a lone structure only the members it has). A row's fields are therefore, in order, a
subsequence of the columns its tag can have, which ``tools/gen_text_records.py`` writes from the
models (vocabulary ``aws-text-records``: per tag, each layout as one letter a column).

What pins a field to its column is what it looks like: ``True``/``False`` only in a boolean column, a
number in a number or timestamp one, a date in a timestamp one, an AWS enum value where the model has
an enum. Many services share a tag (``ITEMS``, ``INSTANCES``), and plain string columns take anything,
so a row fits many placements: each costs (``_COST``: a column left empty, a number or an enum value
in a plain string column), and the cheapest over all the tag's layouts decide. A field is masked when
they put it in an identifier column (``a`` account, ``m`` e-mail, ``d`` ID, ``N`` name) and nowhere
typed; where some put it in a plain string column instead, only when it reads as a name someone
chose (a digit, a capital inside, three parts) and is no number, UUID or IP address. A row that fits
no layout masks nothing.

The placements depend only on the tag and the fields' shapes, so they are remembered by those (a
response of a thousand instances has a handful of shapes), never by values. Working them out is a
table of fields by columns per layout; a text gets ``WORK_PER_TEXT`` cells of such tables, so no input
makes it cost more than that (rows beyond it, with shapes not seen before, are left to the other
detectors).
"""

from __future__ import annotations

import re

from agent.engine import splitters, vocab
from agent.engine.context_splitters import (
    CATALOGUE_ID,
    CLI_TAB,
    NAME_HEADERS,
    ORG_ACCOUNT_HEADERS,
    PLACEHOLDERS,
    bar_cells,
    column_kind,
    email_parts,
    header_key,
    line_spans,
    owned_label,
    spans_between,
)
from agent.engine.labels import words
from agent.engine.splitters import Part

_INT = re.compile(r"-?[0-9]{1,5}")
_DIGITS = re.compile(r"[0-9]{6,19}")
_FLOAT = re.compile(r"-?[0-9]{1,19}\.[0-9]{1,19}(?:[eE][-+]?[0-9]{1,3})?")
# An instance class or node type of a managed service (db.t3.micro, cache.r6g.large, dax.r4.large),
# as the models write it: a plain string, not an enum.
_INSTANCE_CLASS = re.compile(r"[a-z]{2,6}\.[a-z][a-z0-9-]{1,10}\.[0-9]{0,2}x?"
                             r"(?:nano|micro|small|medium|large|xlarge|metal)")
# A constant as AWS spells the ones its models leave plain strings (WRITER, ENI_SG_RULES_MISMATCH)
_CONSTANT = re.compile(r"[A-Z]{3,}(?:_[A-Z0-9]+)*")
_NOT_A_NAME = re.compile(r"\s*(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|"
                         r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]+)\s*")
# A name someone chose, not a word of AWS's (aurora-mysql, in-sync): a digit, a capital after a small
# letter (MyFunction), or three parts at least (my-key-pair)
_NAMED = re.compile(r"\s*(?=\S*[0-9]|\S*[a-z][A-Z]|\S*[-_.]\S*[-_.])\S+\s*")
_VERSION = re.compile(r"v?[0-9]{1,4}\.[0-9]{1,4}(?:[._-][0-9A-Za-z_]{1,20}){0,8}")
_HEX_ID = re.compile(r"\s*[a-z][a-z0-9]{0,11}(?:-[a-z]{1,12}){0,2}-(?:[0-9a-f]{8}|[0-9a-f]{17})\s*")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9:.]{2,15}(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?")
# What placing a field of each shape in a column of each letter costs (absent: it cannot stand there).
# Shapes: "-" empty (absent from this item), "B" a boolean, "I" a short integer (a count, a port, an
# index: never an ID), "L" six digits or more (a size, an epoch, an account, an ID), "F" a decimal,
# "T" a date, "V" a version (8.0.mysql_aurora.3.05.2, 3.3.1142.0), "E" an AWS enum value or constant,
# "X" anything else. A typed value in a plain string column can happen, so it costs more than a column
# left empty; an enum value where an identifier stands, too.
_COST = {
    "b": {"-": 0, "B": 0},
    "n": {"-": 0, "I": 0, "L": 0, "F": 0},
    "t": {"-": 0, "T": 0, "I": 0, "L": 0, "F": 0},
    "e": {"-": 0, "E": 0, "V": 1},
    "s": {"-": 0, "X": 0, "V": 0, "E": 1, "B": 3, "I": 3, "L": 3, "F": 3, "T": 3},
    "a": {"-": 0, "L": 0},
    "m": {"-": 0, "X": 0},
    "d": {"-": 0, "X": 0, "L": 0, "E": 3},
    "N": {"-": 0, "X": 0, "L": 1, "E": 3},
}
_SKIP = 2   # a column the row leaves out (the member absent from every item)
_MASKED = frozenset("amdN")
_TYPED = frozenset("bnte")
MAX_FIELDS = 64
PLACEMENTS_MEMO = 4096
WORK_PER_TEXT = 2_000_000   # table cells (~1 s of Python at worst); a real paste needs far fewer


class TextRecords:
    """Tag -> the layouts of its rows (shortest first), and the placements worked out so far (keyed
    by tag and field shapes: AWS's names and letters, no value)."""

    def __init__(self, lines: list[str]) -> None:
        self.layouts: dict[str, tuple[str, ...]] = {}
        for line in lines:
            tag, *layouts = line.split()
            self.layouts[tag] = tuple(sorted(layouts, key=len))
        self._placed: dict[tuple[str, str], tuple[tuple[int, str, bool], ...]] = {}
        self._text_id = 0
        self._work_left = 0

    def masked_fields(self, text: str, tag: str, shapes: str) -> tuple[tuple[int, str, bool], ...]:
        """(field index, what its column holds: ``column_kind``'s words, whether every cheapest
        placement puts it there) of the fields to mask (``_masked_fields``), for a row of ``text``."""
        key = (tag, shapes)
        found = self._placed.get(key)
        if found is not None:
            return found
        if id(text) != self._text_id:
            self._text_id, self._work_left = id(text), WORK_PER_TEXT
        found, work = _masked_fields(self.layouts.get(tag, ()), shapes, self._work_left)
        self._work_left -= work
        if found is None:
            return ()   # out of work for this text: not remembered, the next text works it out
        if len(self._placed) >= PLACEMENTS_MEMO:
            self._placed.clear()
        self._placed[key] = found
        return found


def _masked_fields(layouts: tuple[str, ...], shapes: str, work: int) -> tuple[tuple | None, int]:
    """(The fields to mask, or None when ``work`` table cells did not suffice; the cells used.)
    Layouts come shortest first: every column a row leaves out costs ``_SKIP``, so once that alone
    exceeds the cheapest placement found, no longer layout can match it."""
    best, columns, used = None, [set() for _ in shapes], 0
    n = len(shapes)
    for layout in layouts:
        m = len(layout)
        if m < n:
            continue
        if best is not None and (m - n) * _SKIP > best:
            break
        used += 2 * n * m
        if used > work:
            return None, used
        found = _cheapest_columns(shapes, layout)
        if found is None or (best is not None and found[0] > best):
            continue
        if best is None or found[0] < best:
            best, columns = found[0], [set() for _ in shapes]
        for j, letters in enumerate(found[1]):
            columns[j] |= letters
    out = []
    for j, letters in enumerate(columns):
        if letters & _MASKED and not letters & _TYPED:
            out.append((j, _what(letters & _MASKED), letters <= _MASKED))
    return tuple(out), used


def _what(letters: set[str]) -> str:
    if letters == {"a"}:
        return "account"
    if letters == {"m"}:
        return "email"
    return "id" if letters & {"a", "d"} else "name"


def _cheapest_columns(shapes: str, layout: str) -> tuple[int, list[set[str]]] | None:
    """The least cost of placing the fields in order, one column each (``_COST``; every column
    skipped ``_SKIP``), and for each field the letters of its columns in the placements of that cost;
    None if no placement exists. Two passes of a table of n fields by m columns."""
    n, m = len(shapes), len(layout)
    if n > m:
        return None
    inf = 1 << 30
    cost = [[_COST[layout[i]].get(shapes[j], inf) for i in range(m)] for j in range(n)]
    # head[j][i]: least cost of the first j fields in the first i columns; tail[j][i]: of fields j..
    # in columns i..
    head = [[i * _SKIP for i in range(m + 1)]] + [[inf] * (m + 1) for _ in range(n)]
    for j in range(1, n + 1):
        row, above, c = head[j], head[j - 1], cost[j - 1]
        for i in range(j, m + 1):
            row[i] = min(row[i - 1] + _SKIP, above[i - 1] + c[i - 1])
    total = head[n][m]
    if total >= inf:
        return None
    tail = [[inf] * (m + 1) for _ in range(n)] + [[(m - i) * _SKIP for i in range(m + 1)]]
    for j in range(n - 1, -1, -1):
        row, below, c = tail[j], tail[j + 1], cost[j]
        for i in range(m - 1, -1, -1):
            row[i] = min(row[i + 1] + _SKIP, c[i] + below[i + 1])
    return total, [{layout[i] for i in range(m) if head[j][i] + cost[j][i] + tail[j + 1][i + 1] == total}
                   for j in range(n)]


def _shape(value: str, enums: frozenset[str]) -> str:
    if not value:
        return "-"
    if value in ("True", "False"):
        return "B"
    if _INT.fullmatch(value):
        return "I"
    if _DIGITS.fullmatch(value):
        return "L"
    if _FLOAT.fullmatch(value):
        return "F"
    if _TIME.fullmatch(value):
        return "T"
    if _VERSION.fullmatch(value):
        return "V"
    if value.lower() in enums or _INSTANCE_CLASS.fullmatch(value) or _CONSTANT.fullmatch(value) \
            or splitters.AWS_DEFAULT_NAME.fullmatch(value):
        return "E"
    return "X"


def cli_text_record(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The fields of one ``--output text`` row (groups ``tag`` and ``value``: the fields after the
    tab) that its tag's layouts put in an identifier column (module doc)."""
    tag = m.group("tag")
    if tag not in params["records"].layouts:
        return []
    return _row_parts(text, *m.span("value"), tag, params, kind)


_TAGGED = re.compile(r"[A-Z][A-Z0-9]{2,60}(?:\t|\\t)")


def cli_text_top_row(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The first row after ``aws <service> <operation> ... --output text`` (group ``value``) when it
    carries no tag: the response's own scalar members, by the operation's layout."""
    key = f"{m.group('service')}:{m.group('operation')}"
    start, end = m.span("value")
    if key not in params["records"].layouts or _TAGGED.match(text, start):
        return []
    return _row_parts(text, start, end, key, params, kind)


def _row_parts(text: str, start: int, end: int, key: str, params: dict, kind: str) -> list[Part]:
    """The fields of the row ``text[start:end]`` that the layouts under ``key`` (a tag, or an
    operation for its untagged row) put in an identifier column."""
    records: TextRecords = params["records"]
    cells = spans_between(CLI_TAB, text, start, end)   # at most the regex's 4000 characters
    if len(cells) > MAX_FIELDS:
        return []
    enums = params["keep_values"]
    shapes = "".join(_shape(text[s:e].strip(), enums) for s, e in cells)
    out: list[Part] = []
    for j, what, certain in records.masked_fields(text, key, shapes):
        s, e = cells[j]
        if shapes[j] == "E":
            continue  # an AWS enum value or default name (a security group named default, rds-ca-rsa2048-g1)
        if not certain and (shapes[j] == "L" or _NOT_A_NAME.fullmatch(text, s, e)
                            or not _NAMED.fullmatch(text, s, e)):
            continue  # where a plain string may stand too: only what reads as a name someone chose
        if what == "id" and shapes[j] == "L" and e - s == 12:
            what = "account"   # 12 digits where an account or an ID may stand
        # an ID of EC2's shape under any prefix (mi-, sir-): its pseudonym keeps the prefix
        out.extend(_field_parts(text, s, e, what, "ec2-id" if _HEX_ID.fullmatch(text, s, e) else kind, key))
    return out


# --- --output table, key / value rows ---------------------------------------------------------------
# A table wider than the terminal is printed vertically (awscli/table.py, convert_to_vertical_table):
# each section a title line, then one "| Key | value |" row per member. So is any two-cell row.
_SEPARATOR_LINE = re.compile(r"[ \t]*[|+]*\+-")
_MARKDOWN_RULE = re.compile(r"[ \t]*\|[ \t:]*-{3}")
# a title line: one cell (the line may open a JSON string: "||  Buckets  ||\n...)
_TITLE_LINE = re.compile(r"(?:^|\")[ \t]*\|+[ \t]+([A-Za-z][A-Za-z0-9]{1,80})[ \t]+\|+[ \t]*\Z")
_HEADER_WORD = re.compile(r"[A-Z][A-Za-z]{1,80}")
TITLE_LOOKBACK = 40   # lines: a section's members sit under its title


def cli_table_pair(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The value of a ``| Key | value |`` row whose key names an identifier (``column_kind`` over
    ``params["labels"]``; a generic ``Name`` or ``Id`` by the section title above: ``DBInstances``).
    The header row of a two-column table (``_is_header_row``) whose value is a word like a key is no
    pair."""
    w = words(m.group("key"))
    if w in (("name",), ("id",)):
        title = _section_title(text, m.start())
        if title is None:
            return []
        w = owned_label(w, title)   # DBInstances: a DB instance's name
    what = column_kind(w, params["labels"])
    if what is None:
        return []
    start, end = m.span("value")
    value = text[start:end].strip()
    if value.lower() in params["keep_values"]:
        return []
    if _HEADER_WORD.fullmatch(value) and _is_header_row(text, m.start(), m.end()):
        return []
    return _field_parts(text, start, end, what, kind, m.group("key"))


def _line_start(text: str, pos: int) -> int:
    """Where the line holding ``pos`` starts: after a line break, real or a JSON ``\\n`` escape (a
    table pasted into a JSON string)."""
    esc = text.rfind("\\n", 0, pos)
    return max(text.rfind("\n", 0, pos) + 1, esc + 2 if esc >= 0 else 0)


def _line_end(text: str, pos: int) -> int:
    ends = [i for i in (text.find("\n", pos), text.find("\\n", pos)) if i >= 0]
    return min(ends) if ends else len(text)


def _previous_line(text: str, line_start: int) -> int | None:
    """Where the line before the one starting at ``line_start`` starts (None: the first line)."""
    if line_start == 0:
        return None
    return _line_start(text, line_start - (1 if text[line_start - 1] == "\n" else 2))


def _is_header_row(text: str, start: int, end: int) -> bool:
    """The CLI's header row has a separator line above and below (so has a one-row vertical section,
    whose value then reads as a key: a loss taken); markdown's has its rule below."""
    above = _previous_line(text, _line_start(text, start))
    line_end = _line_end(text, end)
    below = line_end + (1 if text.startswith("\n", line_end) else 2)
    if _MARKDOWN_RULE.match(text, below):
        return True
    return above is not None and bool(_SEPARATOR_LINE.match(text, above)) and bool(_SEPARATOR_LINE.match(text, below))


def _section_title(text: str, pos: int) -> str | None:
    """The title of the table section ``pos`` stands in: the nearest line above of one cell."""
    line = _line_start(text, pos)
    for _ in range(TITLE_LOOKBACK):
        line = _previous_line(text, line)
        if line is None:
            return None
        title = _TITLE_LINE.search(text[line:_line_end(text, line)])
        if title is not None:
            return title.group(1)
    return None


# --- --output table, sections of rows under a header row -------------------------------------------
def cli_table(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """A list section of AWS CLI ``--output table``: the section title, a header row of keys, rows.
    The columns whose header names an identifier (``_table_header``); a list of plain strings has no
    header row, its title names them (TableNames, SubnetIds)."""
    start, end = m.span("value")
    title = re.match(r"[A-Za-z]+", text[start:end]).group()
    labels = params.get("labels")
    lines = line_spans(text, start, end)
    header: dict[int, tuple[str, str]] | None = None
    width = 0
    out: list[Part] = []
    for s, e in lines[1:]:
        line = text[s:e]
        if "+-" in line or "-+" in line:
            continue
        bars = len(line) - len(line.lstrip(" |"))
        inner_s, inner_e = s + bars, e - (len(line) - len(line.rstrip(" |")))
        if inner_e <= inner_s:
            continue
        cells = bar_cells(text, inner_s, inner_e)
        if header is None and len(cells) == 1:
            # a list of strings (ListTables' TableNames, SubnetIds): no header row, the title names them
            what = column_kind(words(title), labels) if labels is not None else None
            if what is None and header_key(title).removesuffix("s") in NAME_HEADERS:
                what = "name"
            if what is not None:
                header, width = {0: (what, title)}, 1
        if header is None:
            header = _table_header(text, cells, title, labels)
            width = len(cells)
            if not header:
                return []
            continue
        if len(cells) != width:
            break   # a nested section starts
        for i, (what, label) in header.items():
            out.extend(_field_parts(text, *cells[i], what, kind, label))
    return out


def _table_header(text: str, cells: list[tuple[int, int]], title: str, labels) -> dict[int, tuple[str, str]]:
    """Column -> (what it holds: ``column_kind``, its header) for a header row of a section titled ``title``: a
    key the vocabulary ``labels`` names (OwnerId, KeyName; a generic Name or Id by the title:
    Buckets' Name), or a header people write for a resource name (``NAME_HEADERS``)."""
    heads = [text[cs:ce].strip() for cs, ce in cells]
    norms = [header_key(h) for h in heads]
    org = not ORG_ACCOUNT_HEADERS.isdisjoint(norms)   # list-accounts: its Name names the account
    header: dict[int, tuple[str, str]] = {}
    for i, (head, h) in enumerate(zip(heads, norms, strict=True)):
        w = owned_label(words(head), title)
        what = column_kind(w, labels) if labels is not None and w else None
        if what is not None:
            header[i] = (what, head)
        elif h in NAME_HEADERS or (h == "name" and (title == "Buckets" or org)):
            header[i] = ("name", head)
    return header


# --- a field under a column that names an identifier -----------------------------------------------
def _field_parts(text: str, start: int, end: int, what: str, kind: str, label: str) -> list[Part]:
    """The parts of a table cell or row field ``text[start:end]`` (blanks around it allowed) in a
    column holding ``what`` (``column_kind``) under the key ``label``: an account's 12 digits, an
    e-mail's own parts, else what the vocabulary's labels mask of a value (``vocab.value_parts``: not
    an ARN or host another detector owns, not AWS's own names, not a UUID); an ID holds a digit or a
    hyphen and is no catalogue value (``medium_3_0``)."""
    raw = text[start:end]
    value = raw.strip()
    vs = start + len(raw) - len(raw.lstrip())
    if not value or value.lower() in PLACEHOLDERS:
        return []
    if what == "email":
        return email_parts(value, vs, kind)
    if what == "account":
        return [(vs, vs + len(value), "account")] if splitters.ACCOUNT.fullmatch(value) else []
    if what == "id" and (not any(c.isdigit() or c == "-" for c in value) or CATALOGUE_ID.fullmatch(value)):
        return []
    return vocab.value_parts(text, vs, vs + len(value), kind, label)


splitters.SPLITTERS.setdefault("cli_text_record", cli_text_record)
splitters.SPLITTERS.setdefault("cli_text_top_row", cli_text_top_row)
splitters.SPLITTERS.setdefault("cli_table_pair", cli_table_pair)
splitters.SPLITTERS.setdefault("cli_table", cli_table)
vocab.PARAM_TYPES["records"] = TextRecords
