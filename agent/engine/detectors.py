"""Load and validate detector packs (YAML files in ``agent/engine/packs/`` and an optional user directory).

A pack is data, like a gitleaks rule file: ``kinds`` (how each kind of identifier is pseudonymized)
and ``detectors`` (what to find). Every problem is reported with the file and line it comes from,
so bad configuration fails at start, never at request time. The schema is in ``agent/engine/packs/README.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from re import _parser as sre_parse  # the stdlib parser behind re.compile

import yaml

from agent.engine import cli_text, splitters, vocab  # noqa: F401 - cli_text registers its splitters

SHIPPED_DIR = Path(__file__).with_name("packs")
FORMATS = frozenset({"digits", "hexid", "charclass", "ipv4", "ipv6", "name", "iplabel"})
_DETECTOR_KEYS = frozenset({
    "id", "kind", "description", "regex", "anchors", "window", "after", "priority", "split",
    "params", "examples", "propagate", "window_chars", "window_exact"})
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")

# Regex macros: {L} / {R} are identifier boundaries that treat JSON escapes (\n, \t, \") as
# separators, so the "n" of "\n" is never part of an identifier. An escape one level deeper (JSON in
# a JSON string: \\n) reads NUL NUL n in the scanned text (escaped backslashes are blanked), hence
# [\\\x00] before the letter.
MACROS = {
    "{L}": r"(?:(?<![A-Za-z0-9_\\-])|(?<=[\\\x00][nrtbf]))",
    "{R}": r"(?![A-Za-z0-9_-])",
}


# An anchor whose non-ASCII characters all sit in character classes that also hold "?".
_NON_ASCII_IN_CLASS_WITH_QMARK = re.compile(
    r"(?:[\x00-\x7f]|\[(?=[^\]]*\?)[^\]]*\])*")


class PackError(ValueError):
    """A pack file is invalid; the message names file and line."""


@dataclass(frozen=True)
class Kind:
    name: str
    format: str
    keep_prefix: int = 0
    where: str = ""


@dataclass
class Detector:
    id: str
    kind: str
    regex: re.Pattern
    anchors: list[re.Pattern]
    window: int
    after: int
    priority: int
    split: str
    params: dict
    propagate: bool
    match_examples: list = field(default_factory=list)
    nomatch_examples: list = field(default_factory=list)
    where: str = ""
    window_exact: bool = False             # a match starts only where the ``window_chars`` run starts
    window_back: re.Pattern | None = None  # ``window_chars``* : where the window really starts, the run
                                           # that ends at the hit matched on the reversed window
    literal_prefix: str = ""               # what every match starts with, after zero-width assertions


@dataclass
class PackSet:
    kinds: dict[str, Kind]
    detectors: list[Detector]
    files: list[str]


# libyaml's parser (in PyYAML's wheels) reads the 1 MB generated vocab.yaml in ~0.1 s, the pure-Python
# one in ~1.1 s, and every agent, CLI run and Masker pays it at start.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """SafeLoader that records the line of every mapping, as ``__line__``."""


def _construct_mapping(loader, node, deep=False):
    mapping = _SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _fail(where: str, msg: str) -> PackError:
    return PackError(f"{where}: {msg}")


def expand(regex: str) -> str:
    for macro, text in MACROS.items():
        regex = regex.replace(macro, text)
    return regex


def _compile(where: str, what: str, regex) -> re.Pattern:
    if not isinstance(regex, str) or not regex:
        raise _fail(where, f"{what} must be a non-empty string")
    try:
        return re.compile(expand(regex))
    except re.error as e:
        raise _fail(where, f"{what} does not compile: {e}") from None


def _starts_with_literal(pattern: re.Pattern) -> bool:
    """Starts with a literal, a character class or a group of alternatives that each start with one:
    what stdlib re can scan for quickly (the fallback when Hyperscan is missing)."""
    return _literal_led(sre_parse.parse(pattern.pattern).data)


def _literal_led(data) -> bool:
    if not data:
        return False
    op, av = data[0]
    if op in (sre_parse.LITERAL, sre_parse.IN):
        return True
    if op is sre_parse.SUBPATTERN:
        return _literal_led(av[-1].data)
    if op is sre_parse.BRANCH:
        return all(_literal_led(branch.data) for branch in av[1])
    return False


def literal_prefix(pattern: re.Pattern) -> str:
    """The literal text every match of ``pattern`` starts with, once its leading zero-width
    assertions (``{L}``'s lookbehinds, ``^``) are passed; "" when it does not start with one."""
    parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    if parsed.state.flags & re.IGNORECASE:
        return ""    # its letters match either case: no literal to look for
    data = parsed.data
    i = 0
    while i < len(data) and _zero_width([data[i]]):
        i += 1
    out = []
    while i < len(data) and data[i][0] is sre_parse.LITERAL:
        out.append(chr(data[i][1]))
        i += 1
    return "".join(out)


def _zero_width(items) -> bool:
    for op, av in items:
        if op is sre_parse.BRANCH:
            if not all(_zero_width(branch.data) for branch in av[1]):
                return False
        elif op is sre_parse.SUBPATTERN:
            if not _zero_width(av[-1].data):
                return False
        elif op not in (sre_parse.AT, sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            return False
    return True


def _parse_kinds(path: str, raw) -> dict[str, Kind]:
    out: dict[str, Kind] = {}
    if raw is None:
        return out
    if not isinstance(raw, dict):
        raise _fail(path, "'kinds' must be a mapping")
    for name, spec in raw.items():
        if name == "__line__":
            continue
        line = spec.get("__line__", raw["__line__"]) if isinstance(spec, dict) else raw["__line__"]
        where = f"{path}:{line}"
        if not isinstance(spec, dict) or spec.get("format") not in FORMATS:
            raise _fail(where, f"kind {name!r} needs a format, one of {sorted(FORMATS)}")
        unknown = set(spec) - {"format", "keep_prefix", "__line__"}
        if unknown:
            raise _fail(where, f"kind {name!r} has unknown keys {sorted(unknown)}")
        keep = spec.get("keep_prefix", 0)
        if not isinstance(keep, int) or keep < 0:
            raise _fail(where, f"kind {name!r}: keep_prefix must be a non-negative integer")
        out[name] = Kind(name, spec["format"], keep, where)
    return out


def _parse_examples(where: str, raw) -> tuple[list, list]:
    if not isinstance(raw, dict):
        raise _fail(where, "examples must be a mapping with 'match' and 'no_match' lists")
    match, nomatch = raw.get("match"), raw.get("no_match")
    if not isinstance(match, list) or not match or not isinstance(nomatch, list) or not nomatch:
        raise _fail(where, "examples need at least one 'match' and one 'no_match' entry")
    for ex in match:
        ok = isinstance(ex, str) or (isinstance(ex, dict) and isinstance(ex.get("text"), str)
                                     and isinstance(ex.get("masks"), list))
        if not ok:
            raise _fail(where, "a 'match' example is a string (masked whole) or {text, masks: [...]}")
    if not all(isinstance(ex, str) for ex in nomatch):
        raise _fail(where, "'no_match' examples must be strings")
    return [_strip_line(ex) for ex in match], nomatch


def _strip_line(ex):
    if isinstance(ex, dict):
        return {k: v for k, v in ex.items() if k != "__line__"}
    return ex


def _parse_detector(path: str, raw, kinds: dict[str, Kind]) -> Detector:
    where = f"{path}:{raw.get('__line__', '?')}" if isinstance(raw, dict) else path
    if not isinstance(raw, dict):
        raise _fail(where, "each detector must be a mapping")
    unknown = set(raw) - _DETECTOR_KEYS - {"__line__"}
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)} (allowed: {sorted(_DETECTOR_KEYS)})")
    det_id = raw.get("id")
    if not isinstance(det_id, str) or not _ID.fullmatch(det_id):
        raise _fail(where, "detector needs an 'id' of lowercase letters, digits and '-'")
    where = f"{where} (detector {det_id})"
    kind = raw.get("kind")
    if kind not in kinds:
        raise _fail(where, f"kind {kind!r} is not declared under 'kinds' in any pack")
    regex = _compile(where, "regex", raw.get("regex"))
    if "value" not in regex.groupindex:
        raise _fail(where, "regex needs a named group (?P<value>...) for the identifier")
    anchors = [_compile(where, "anchor", a) for a in raw.get("anchors", [])]
    for a in anchors:
        if not _starts_with_literal(a):
            raise _fail(where, f"anchor {a.pattern!r} must start with a literal or a character class (speed)")
        if not a.pattern.isascii() and not _NON_ASCII_IN_CLASS_WITH_QMARK.fullmatch(a.pattern):
            raise _fail(where, f"anchor {a.pattern!r}: non-ASCII characters only inside a class that also "
                               "holds '?' (the prefilter sees every non-ASCII character as '?')")
    if not anchors and not _starts_with_literal(regex):
        raise _fail(where, "a regex that does not start with a literal needs 'anchors'")
    split = raw.get("split", "whole")
    if split not in splitters.SPLITTERS:
        raise _fail(where, f"split {split!r} unknown, one of {sorted(splitters.SPLITTERS)}")
    params = raw.get("params", {}) or {}
    if not isinstance(params, dict):
        raise _fail(where, "params must be a mapping")
    ints = {k: raw.get(k, d) for k, d in (("window", 0), ("after", 256), ("priority", 50))}
    for k, v in ints.items():
        if not isinstance(v, int) or v < 0:
            raise _fail(where, f"{k} must be a non-negative integer")
    match, nomatch = _parse_examples(where, raw.get("examples"))
    window_back = None
    if "window_chars" in raw:
        chars = raw["window_chars"]
        if not isinstance(chars, str) or not re.fullmatch(r"\[[^\]]+\]", chars):
            raise _fail(where, "window_chars must be one character class such as '[A-Za-z0-9.-]'")
        window_back = _compile(where, "window_chars", chars + "*")
    return Detector(
        id=det_id, kind=kind, regex=regex, anchors=anchors, window=ints["window"],
        after=ints["after"], priority=ints["priority"], split=split,
        params={k: v for k, v in params.items() if k != "__line__"},
        propagate=bool(raw.get("propagate", False)), match_examples=match,
        nomatch_examples=nomatch, where=where, window_back=window_back,
        window_exact=_window_exact(where, raw, window_back),
        literal_prefix=literal_prefix(regex))


def _window_exact(where: str, raw: dict, window_back) -> bool:
    exact = raw.get("window_exact", False)
    if not isinstance(exact, bool) or (exact and window_back is None):
        raise _fail(where, "window_exact is true or false, and true needs window_chars")
    return exact


def _read(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line = mark.line + 1 if mark else "?"
        raise PackError(f"{path}:{line}: YAML error: {e.problem}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise PackError(f"{path}: cannot read: {e}") from None
    if not isinstance(data, dict):
        raise PackError(f"{path}:1: a pack is a mapping with 'kinds' and/or 'detectors'")
    unknown = set(data) - {"pack", "kinds", "detectors", "vocabularies", "__line__"}
    if unknown:
        raise PackError(f"{path}:1: unknown top-level keys {sorted(unknown)}")
    return data


def pack_files(packs_dir: str | Path | None) -> list[Path]:
    files = sorted(SHIPPED_DIR.glob("*.yaml"))
    if packs_dir is not None:
        user = Path(packs_dir)
        if not user.is_dir():
            raise PackError(f"{user}: packs directory does not exist")
        files += sorted(p for p in user.glob("*.yaml") if p.name != "config.yaml")
    return files


def load_packs(packs_dir: str | Path | None = None) -> PackSet:
    """Load shipped packs plus ``packs_dir``; later files may not redefine a kind or detector id."""
    files = pack_files(packs_dir)
    docs = [(str(p), _read(p)) for p in files]
    kinds: dict[str, Kind] = {}
    for path, data in docs:
        for name, kind in _parse_kinds(path, data.get("kinds")).items():
            if name in kinds and kinds[name] != Kind(name, kind.format, kind.keep_prefix, kinds[name].where):
                raise _fail(kind.where, f"kind {name!r} already declared at {kinds[name].where}")
            kinds.setdefault(name, kind)
    vocabularies = vocab.read_vocabularies(docs, PackError)
    sets: dict[str, frozenset] = {}   # each vocabulary's lower-cased set, built once for this load
    detectors: list[Detector] = []
    seen: dict[str, str] = {}
    for path, data in docs:
        raw = data.get("detectors") or []
        if not isinstance(raw, list):
            raise PackError(f"{path}:{data['__line__']}: 'detectors' must be a list")
        for item in raw:
            det = _parse_detector(path, item, kinds)
            vocab.resolve_params(det, vocabularies, _fail, sets)
            if det.id in seen:
                raise _fail(det.where, f"duplicate detector id, first defined at {seen[det.id]}")
            seen[det.id] = det.where
            detectors.append(det)
    return PackSet(kinds, detectors, [p for p, _ in docs])
