"""The AWS CLI's own examples as ``--output text`` and ``--output table`` print them, labelled from
botocore's models, and the masker measured on them.

Many users set ``output = text`` or ``table`` in ``~/.aws/config``, so what they paste is tab-separated
rows led by an upper-case tag (``INSTANCES``, ``TAGS``) or boxed tables, not the JSON of the examples.
Nobody here writes these: each ``Output::`` JSON block of ``awscli/examples`` (see ``awscli_corpus``)
is parsed and printed by the CLI's own formatters (``awscli.text.format_text``, ``TableFormatter``),
and every printed field keeps the label ``awscli_corpus`` gave the JSON value it came from (identifier,
non-identifier, unclassified, with the labeller's corrections). The measure is
``awscli_corpus.measure``'s: the share of identifier fields masked and of non-identifier fields changed.

    .venv/bin/python -m tests.support.cli_text_corpus [--output text|table] [--sample N] [--json] [--misses K]

The output holds no command line: only the tags or headers and the fields say what they are. In a
table a value is found again by printing the block a second time with each value replaced by a marker
of its own length (the columns come out as wide); values shorter than a marker are not counted.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from tests.support.awscli_corpus import (
    _CMD,
    _OUTPUT,
    _TOKEN,
    Example,
    Score,
    Value,
    _block_end,
    example_arguments,
    load_examples,
    measure,
    print_misses,
    report_masker,
)

try:
    from awscli.formatter import TableFormatter
    from awscli.text import format_text
except ImportError:  # pragma: no cover - dev dependencies (pyproject's test extra)
    format_text = TableFormatter = None


@dataclass
class _Leaf:
    """A scalar of a JSON block: where its value stands in the example, and how the CLI prints it."""
    start: int
    end: int
    printed: str


class _Malformed(Exception):
    """A block the examples cut short or wrote loosely ("...", a lost comma): not measured."""


def _parse(text: str, start: int, end: int) -> tuple[object, list[_Leaf]]:
    """The JSON value at ``text[start:end]``, its scalars replaced by markers ``\\x01<n>\\x02``
    (the formatter prints them in place), and the scalars in marker order."""
    tokens = iter(_TOKEN.finditer(text, start, end))
    leaves: list[_Leaf] = []

    def value(m: re.Match | None):
        if m is None:
            raise _Malformed
        tok = m.group()
        if tok == "{":
            out: dict = {}
            m = next(tokens, None)
            while m is not None and m.group() != "}":
                if not m.group().startswith('"'):
                    raise _Malformed
                key = json.loads(m.group())
                colon = next(tokens, None)
                if colon is None or colon.group() != ":":
                    raise _Malformed
                out[key] = value(next(tokens, None))
                m = next(tokens, None)
                if m is not None and m.group() == ",":
                    m = next(tokens, None)
            if m is None:
                raise _Malformed
            return out
        if tok == "[":
            items: list = []
            m = next(tokens, None)
            while m is not None and m.group() != "]":
                items.append(value(m))
                m = next(tokens, None)
                if m is not None and m.group() == ",":
                    m = next(tokens, None)
            if m is None:
                raise _Malformed
            return items
        if tok in "}]:,":
            raise _Malformed
        parsed = json.loads(tok)
        if isinstance(parsed, str):
            s, e = m.start() + 1, m.end() - 1
        else:
            s, e = m.span()
        leaves.append(_Leaf(s, e, str(parsed)))
        return f"\x01{len(leaves) - 1}\x02"

    try:
        root = value(next(tokens, None))
    except (ValueError, RecursionError):
        raise _Malformed from None
    return root, leaves


_MARKER = re.compile(r"\x01([0-9]+)\x02")


def _printed(root: object, leaves: list[_Leaf]) -> tuple[str, list[tuple[int, int, _Leaf]]]:
    """What ``aws ... --output text`` prints for ``root``, and where each scalar's field stands."""
    buf = io.StringIO()
    format_text(root, buf)
    marked = buf.getvalue()
    out: list[str] = []
    fields: list[tuple[int, int, _Leaf]] = []
    pos = length = 0
    for m in _MARKER.finditer(marked):
        out.append(marked[pos:m.start()])
        length += m.start() - pos
        leaf = leaves[int(m.group(1))]
        fields.append((length, length + len(leaf.printed), leaf))
        out.append(leaf.printed)
        length += len(leaf.printed)
        pos = m.end()
    out.append(marked[pos:])
    return "".join(out), fields


_DIGITS36 = string.digits + string.ascii_lowercase


def _marker(n: int, width: int, opening: str, padding: str) -> str | None:
    """``opening``, ``n`` in base 36, ``padding`` up to ``width`` characters; None if it does not fit."""
    digits = ""
    while True:
        n, d = divmod(n, 36)
        digits = _DIGITS36[d] + digits
        if not n:
            break
    mark = opening + digits
    return mark + padding * (width - len(mark)) if len(mark) <= width else None


def _tabled(root: object, leaves: list[_Leaf]) -> tuple[str, list[tuple[int, int, _Leaf]]]:
    """What ``aws ... --output table`` prints for ``root``, and where each scalar's cell text stands
    (scalars shorter than their marker are not located)."""
    def render(data: object) -> str:
        buf = io.StringIO()
        TableFormatter(argparse.Namespace(query=None, color="off"))("Output", data, buf)
        return buf.getvalue()

    return _located(root, leaves, render, "\x01", "\x02")


def _located(root: object, leaves: list[_Leaf], render, opening: str,
             padding: str) -> tuple[str, list[tuple[int, int, _Leaf]]]:
    """``render`` of ``root`` with its values, and where each stands: found by rendering it again with
    each value a marker of the value's own width (a value shorter than its marker is not located)."""
    def fill(node: object, marks: bool) -> object:
        if isinstance(node, dict):
            return {k: fill(v, marks) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v, marks) for v in node]
        m = _MARKER.fullmatch(node)
        if m is None:
            return node
        i = int(m.group(1))
        if not marks:
            return leaves[i].printed
        return _marker(i, len(leaves[i].printed), opening, padding) or leaves[i].printed

    printed, marked = render(fill(root, False)), render(fill(root, True))
    if len(printed) != len(marked):
        raise _Malformed   # a marker changed the widths: not measured
    slot = re.compile(re.escape(opening) + "([0-9a-z]+)" + re.escape(padding) + "*")
    fields = [(m.start(), m.end(), leaves[int(m.group(1), 36)]) for m in slot.finditer(marked)]
    return printed, fields


def _yaml(root: object, leaves: list[_Leaf]) -> tuple[str, list[tuple[int, int, _Leaf]]]:
    """What AWS CLI v2's ``--output yaml`` prints for ``root`` (block style, keys in response order),
    and where each scalar stands, located as in ``_tabled``."""
    import yaml

    def render(data: object) -> str:
        return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=10_000, allow_unicode=True)

    return _located(root, leaves, render, "\u00ab", "\u00bb")   # printable: YAML escapes control characters


def text_examples(examples: list[Example], output: str = "text", command: bool = False) -> Iterator[Example]:
    """Each example's JSON output blocks as the CLI prints them with ``--output text`` (or
    ``table``, ``yaml``), one example per block, its fields labelled as the JSON values they print
    (unlabelled values not counted); with ``command``, after the line that ran it
    (``$ aws <service> <operation> --output text``), as a terminal shows it."""
    for ex in examples:
        labels = {(v.start, v.end): v for v in ex.values}
        for n, o in enumerate(_OUTPUT.finditer(ex.text)):
            block_end = _block_end(ex.text, o.end())
            brace = ex.text.find("{", o.end(), block_end)
            if brace < 0:
                continue
            try:
                root, leaves = _parse(ex.text, brace, block_end)
            except _Malformed:
                continue
            if any("\t" in leaf.printed or "\n" in leaf.printed for leaf in leaves):
                continue  # a field the rows could not delimit (a policy document, a description)
            try:
                printed, fields = {"text": _printed, "table": _tabled, "yaml": _yaml}[output](root, leaves)
            except _Malformed:
                continue
            if command:
                ran = [c for c in _CMD.finditer(ex.text, 0, o.start())]
                if not ran:
                    continue
                head = f"$ aws {ran[-1].group(1)} {ran[-1].group(2)} --output {output}\n"
                printed = head + printed
                fields = [(s + len(head), e + len(head), leaf) for s, e, leaf in fields]
            values = []
            for s, e, leaf in fields:
                v = labels.get((leaf.start, leaf.end))
                if v is not None:
                    values.append(Value(s, e, v.identifier, v.where, v.not_a_value, v.doc_constant,
                                        v.service_constant))
            if values:
                yield Example(f"{ex.path}#{n}", ex.service, printed, values)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    example_arguments(p, "block")
    p.add_argument("--output", choices=("text", "table", "yaml"), default="text")
    p.add_argument("--command", action="store_true", help="each block after the command line that printed it")
    args = p.parse_args(argv)
    masker = report_masker()
    examples = list(text_examples(load_examples(args.sample, args.seed, args.service), args.output, args.command))
    misses: dict | None = {} if args.misses else None
    scores = measure(masker, examples, misses, as_json=args.json)
    total = Score()
    for sc in scores.values():
        total.add(sc)
    after = " after their command" if args.command else ""
    print(f"AWS CLI examples printed as --output {args.output}{after}: {len(examples)} blocks, {len(scores)} services, "
          f"{'inside a Messages request' if args.json else 'as plain text'}")
    print(f"OVERALL {total.ids} identifier fields, {100 * total.recall:.2f} % masked; {total.non_ids} "
          f"non-identifier fields, {100 * total.change_rate:.3f} % changed; kept by policy {total.policy}")
    if misses:
        print_misses(misses, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
