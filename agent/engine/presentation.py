"""What terminals and coding agents wrap around the text they show, blanked before detection.

Claude Code's Read tool prefixes every line of a file with its number and an arrow
(``     5→  s3_bucket acme-logs``), and terminal output keeps its ANSI colour codes
(``\\x1b[36mi-0abc…\\x1b[0m``). Both are presentation, not content: a detector anchored at a line's
start, or needing a non-word character before an identifier, would not see what the file or the
command printed. They become spaces, one for one, so positions do not move and every span still
indexes the text as it arrived; only what detectors read changes, never what is forwarded.
"""

from __future__ import annotations

import re

_ARROW = "\u2192"
_ESC = "\x1b"
# A line's start: the text's, a newline, or a newline escaped in JSON (``\n``, ``\\n`` blanked to NUL n).
_GUTTER = re.compile(r"(?:^|(?<=\n)|(?<=\\n)|(?<=\x00n))[ \t]*[0-9]{1,9}\u2192", re.MULTILINE)
# ANSI control sequences (CSI: colours, bold, erase line), ESC [ parameters final-letter.
_CSI = re.compile(r"\x1b\[[0-9;?]{0,32}[A-Za-z]")


def _spaces(m: re.Match) -> str:
    return " " * (m.end() - m.start())


def blank_presentation(text: str) -> str:
    """``text`` with Read-tool line gutters and ANSI sequences made spaces, position for position."""
    if _ARROW in text:
        text = _GUTTER.sub(_spaces, text)
    if _ESC in text:
        text = _CSI.sub(_spaces, text)
    return text
