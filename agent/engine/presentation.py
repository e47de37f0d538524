"""What terminals and coding agents wrap around the text they show, blanked before detection.

Claude Code's Read tool prefixes every line of a file with its number, right-aligned in six columns,
and an arrow (``     5→  s3_bucket acme-logs``); terminal output keeps its ANSI colour codes
(``\\x1b[36mi-0abc…\\x1b[0m``). Both are presentation, not content: a detector anchored at a line's
start, or needing a non-word character before an identifier, would not see what the file or the
command printed. They become spaces, one for one, so positions do not move and every span still
indexes the text as it arrived; only what detectors read changes, never what is forwarded.

A colour code can also stand inside an identifier's context (``arn:aws:iam::\x1b[33m<account>\x1b[0m:role/x``,
jq's ``"OwnerId"\x1b[0m:\x1b[0;32m"<account>"``), where a blank breaks the ARN or the key. ``strip_ansi``
gives a second view with the sequences removed and the way back: the finder runs on it too and keeps
only parts that lie between two sequences (contiguous in the text as it arrived), so a pseudonym still
replaces just the identifier and never a colour code.
"""

from __future__ import annotations

import re

_ARROW = "\u2192"
_SPACES = " " * 7
# The six-column gutter after each kind of line start: a newline, a newline escaped in JSON, a JSON
# string's opening quote, the text's start. Each pattern opens with a literal and is replaced by a
# constant, so ``re`` searches and substitutes in C (a 560 KB tool result of 10,000 lines: ~3 ms; one
# pattern with lookbehinds or a group reference in the replacement: 10-30 ms).
_GUTTERS = ((re.compile("\n[ 0-9]{6}\u2192"), "\n" + _SPACES),
            (re.compile(r"\\n[ 0-9]{6}" + "\u2192"), "\\\\n" + _SPACES),
            (re.compile('"[ 0-9]{6}\u2192'), '"' + _SPACES),
            (re.compile("^[ 0-9]{6}\u2192"), _SPACES))
# ANSI control sequences (CSI: colours, bold, erase line): ESC [ parameters, a final letter.
_CSI = re.compile(r"\x1b\[[0-9;?]{0,32}[A-Za-z]")


def strip_ansi(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` (gutters already blanked) without its ANSI sequences, and the way back: ``starts[i]`` is
    where the i-th run of kept text starts in the stripped text, ``shifts[i]`` how far it moved left."""
    pieces: list[str] = []
    starts: list[int] = [0]
    shifts: list[int] = [0]
    pos = removed = 0
    for m in _CSI.finditer(text):
        pieces.append(text[pos:m.start()])
        removed += m.end() - m.start()
        pos = m.end()
        starts.append(pos - removed)
        shifts.append(removed)
    pieces.append(text[pos:])
    return "".join(pieces), starts, shifts


def blank_gutters(text: str) -> str:
    """``text`` with Read-tool line gutters made spaces, position for position."""
    if _has_gutter(text):
        for pattern, replacement in _GUTTERS:
            text = pattern.sub(replacement, text)
    return text


_GUTTER_AT = re.compile("[ 0-9]{6}\u2192").match


def _has_gutter(text: str) -> bool:
    """Whether an arrow in ``text`` ends a gutter's six columns. Prose and diagrams have arrows too (a
    system prompt's), and each of the four passes reads the whole text (the bench's 100 KB body, resent:
    ~3 % of masking); an arrow is found by ``find`` and its columns checked where it stands."""
    i = text.find(_ARROW, 6)
    while i >= 0:
        if _GUTTER_AT(text, i - 6):
            return True
        i = text.find(_ARROW, i + 1)
    return False


def has_ansi(text: str) -> bool:
    """Whether ``text`` holds an ANSI control sequence (then ``strip_ansi`` gives a second view)."""
    return "\x1b" in text and _CSI.search(text) is not None


def _spaces(m: re.Match) -> str:
    return " " * (m.end() - m.start())


def blank_ansi(text: str) -> str:
    """``text`` with ANSI sequences made spaces, position for position."""
    return _CSI.sub(_spaces, text) if "\x1b" in text else text


def blank_presentation(text: str) -> str:
    """``text`` with Read-tool line gutters and ANSI sequences made spaces, position for position."""
    return blank_ansi(blank_gutters(text))
