"""Wire format of the restore map the agent hands to HAProxy's Lua response filter.

The map travels in one SPOE variable (``txn.mask.map``, binary) and is parsed in Lua on every
response, so the format is the cheapest one Lua 5.3 can split without a JSON library:
one entry per line, ``<pseudonym> TAB <original> LF``.

Both sides of an entry are restricted to printable ASCII without space, ``"`` and ``\\``. AWS
identifiers never contain those, and the restriction is what lets the Lua side put an original back
into any JSON string (and into ``partial_json``, JSON text inside a JSON string) without escaping.
An entry that breaks the rule is a bug in a detector, so encoding refuses it loudly.
"""

from __future__ import annotations

import re

_SAFE = re.compile(r'[\x21-\x7e]+')
_FORBIDDEN = frozenset('"\\')


class RestoreMapError(ValueError):
    """An entry cannot be carried safely to the Lua restore filter."""


def _check(token: str, side: str) -> None:
    # Never put the token itself in the message: it may be an original identifier.
    if not _SAFE.fullmatch(token) or _FORBIDDEN.intersection(token):
        raise RestoreMapError(f"restore map {side} of length {len(token)} has a character outside the safe set")


# Every line of an encoded map at once: both sides printable ASCII without space, '"' and '\\'.
_LINES = re.compile(r'(?:[!#-\[\]-~]+\t[!#-\[\]-~]+\n)*')


def encode(restore_map: dict[str, str]) -> bytes:
    """Serialize ``{pseudonym: original}``; entries are sorted so equal maps give equal bytes."""
    text = "".join(f"{pseudonym}\t{original}\n" for pseudonym, original in sorted(restore_map.items()))
    if not _LINES.fullmatch(text):      # one C pass for the whole map; the entry at fault is named below
        for pseudonym, original in sorted(restore_map.items()):
            _check(pseudonym, "pseudonym")
            _check(original, "original")
    return text.encode("ascii")


def decode(data: bytes) -> dict[str, str]:
    """Inverse of :func:`encode` (used by tests and ``python -m agent restore``)."""
    out: dict[str, str] = {}
    for n, line in enumerate(data.decode("ascii").split("\n")[:-1], 1):
        pseudonym, sep, original = line.partition("\t")
        if not sep or not pseudonym or not original or "\t" in original:
            raise RestoreMapError(f"restore map line {n} is not '<pseudonym> TAB <original>'")
        out[pseudonym] = original
    if data and not data.endswith(b"\n"):
        raise RestoreMapError("restore map does not end with a newline")
    return out
