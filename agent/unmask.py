"""Put originals back into text with a restore map (``python -m agent restore``, tests).

The gateway restores in Lua (``haproxy/restore.lua``); this is the same rule in Python: replace a
pseudonym only where it stands as a whole token (never inside a longer token), longest first, one
pass, so a restored original is never restored again.
"""

from __future__ import annotations

import re

_LEFT = r"(?:(?<![A-Za-z0-9_\\-])|(?<=\\[nrtbf]))"
_RIGHT = r"(?![A-Za-z0-9_]|\.[0-9])"


def compile_map(restore_map: dict[str, str]) -> re.Pattern | None:
    if not restore_map:
        return None
    alternatives = "|".join(re.escape(p) for p in sorted(restore_map, key=lambda p: (-len(p), p)))
    return re.compile(f"{_LEFT}(?:{alternatives}){_RIGHT}")


def restore_text(text: str, restore_map: dict[str, str]) -> str:
    pattern = compile_map(restore_map)
    if pattern is None:
        return text
    return pattern.sub(lambda m: restore_map[m.group()], text)
