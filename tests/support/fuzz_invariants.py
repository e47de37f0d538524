"""The invariant fuzz lane (issue 11, item 5): generated bodies against the engine's invariants.

A case composes AWS grammar pieces (tests/aws_grammar.py: regions, AZs, accounts, names built from
them, every ID family the packs know, ARNs, host names) in positions of a Messages body (system,
tools, user text, assistant text, tool_use.input, tool_result as a string, as blocks and as JSON in
a string, URLs) and encodings (plain, ``\\uXXXX`` escapes, ``\\/``, percent-encoding, non-ASCII
glue written as ``\\u`` or raw). Invariants checked on each case:

- ``hang``: masking finishes within the per-case budget (SIGALRM);
- ``error``: masking raises nothing (a refusal, ``MaskRefused``, counts as an error here: every
  generated body is maskable);
- ``invalid_json``: the masked body parses;
- ``leak``: no secret survives in the masked body, raw, JSON-unescaped or percent-decoded;
- ``restore``: restore(mask(x)) == x as JSON values (agent/engine/restore.py restore_text with the map,
  on every string of the masked body);
- ``prefix``: turn 2 (turn 1 + an assistant answer reusing turn 1's identifiers + a new user turn)
  masks the turn-1 part (system, tools, turn-1 messages) exactly as turn 1 did;
- ``spelling``: turn 2 written by ``json.dumps`` with ``ensure_ascii`` on (every non-ASCII character a
  ``\\uXXXX``, so those strings are decoded and read on their own) and off masks to the same values.

Runs: ``python -m tests.support.fuzz_invariants --seconds 1800 [--seed N]`` (``make fuzz``), and a short
seeded run in the test suite (tests/test_fuzz_invariants.py). The report gives cases run, failures
per invariant, failing seeds, and a minimal example per failure shrunk from its pieces, written as
a template: positions, encodings and families, with every value replaced by a placeholder.
Nothing here prints or writes a generated value.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field, replace

from agent.engine.masker import Masker
from agent.engine.restore import restore_text
from agent.engine.results import MaskRefused
from tests.support import aws_grammar as g
from tests.support.deadline import Hang, hard_timeout
from tests.support.masker_support import shipped_packs

KEY = b"fuzz-invariants-key-0123456789abcdef"
CASE_SECONDS = 10
POSITIONS = ("system", "system_block", "tool_description", "tool_schema", "user_text", "assistant_text",
             "tool_use_input", "tool_result_string", "tool_result_block", "tool_result_json", "url")
ENCODINGS = ("plain", "ascii", "slash", "uescape")
# ANSI colour codes too: terminal output pasted as it was printed (the masker reads through them, and a
# pseudonym right after one restores).
GLUE = (" ", "\n", "\t", ", ", "(", ") ", ": ", " = ", " é ", "→ ", "'", '"', "\r\n", " — ",
        "\x1b[32m", "\x1b[0m ", "\x1b[1;33m", "\x1b[0m\n")
# Suffixes glued onto an EC2 ID that the masker still reads the ID in (Terraform's sg-..._ingress_tcp_443
# import IDs, a backup's name); the ID must come back out of its pseudonym there too.
EC2_SUFFIXES = ("_ingress_tcp_443 ", "-old ", "_bak ")
FILLER = ("see", "the output of", "and then", "please check", "why does", "logs:", "résumé", "日本", "")


@dataclass
class Piece:
    planted: g.Planted
    position: str
    encoding: str
    before: str
    after: str


@dataclass
class Case:
    seed: int
    turn1: list[Piece]
    turn2: list[Piece]
    reuse: list[int] = field(default_factory=list)    # turn-1 pieces the assistant repeats in turn 2


def make_case(seed: int) -> Case:
    rng = random.Random(seed)

    def piece() -> Piece:
        p = g.planted(rng)
        position = rng.choice(POSITIONS)
        before, after = rng.choice(GLUE), rng.choice(GLUE)
        if p.family == "ec2-id" and rng.random() < 0.3:
            after = rng.choice(EC2_SUFFIXES)
        if p.family == "pack-example":
            before, after = "\n", "\n"     # some need a line of their own (flow logs, CLI text rows)
            if position == "url":           # and a line of text is not a URL parameter
                position = "user_text"
        return Piece(p, position, rng.choice(ENCODINGS), rng.choice(FILLER) + before, after + rng.choice(FILLER))
    turn1 = [piece() for _ in range(rng.randrange(1, 7))]
    turn2 = [piece() for _ in range(rng.randrange(0, 4))]
    reuse = sorted(rng.sample(range(len(turn1)), rng.randrange(0, len(turn1) + 1)))
    return Case(seed, turn1, turn2, reuse)


# --- bodies ---------------------------------------------------------------------------------------
def _literal(segments: list[tuple[str, str]], rng: random.Random) -> str:
    """A JSON string literal of the segments, each written in its own encoding."""
    out = ['"']
    for text, encoding in segments:
        lit = json.dumps(text, ensure_ascii=encoding != "plain")[1:-1]
        if encoding == "slash":
            lit = lit.replace("/", "\\/")
        elif encoding == "uescape":
            chars = []
            for ch in text:
                if ch.isalnum() and ord(ch) < 0x80 and rng.random() < 0.35:
                    chars.append(f"\\u{ord(ch):04x}" if rng.random() < 0.5 else f"\\u{ord(ch):04X}")
                else:
                    chars.append(json.dumps(ch, ensure_ascii=False)[1:-1])
            lit = "".join(chars)
        out.append(lit)
    out.append('"')
    return "".join(out)


def _content(p: Piece) -> str:
    text = p.planted.text
    if p.position == "url":
        return "open https://console.aws.amazon.com/go?q=" + urllib.parse.quote(text, safe="") + " now"
    if p.position == "tool_result_json":
        return json.dumps({"stdout": text, "exit": 0})
    return text


class _Slots:
    """Strings of a body, filled with pieces, written with per-piece encodings."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.segments: dict[str, list[tuple[str, str]]] = {}
        self.literals: dict[str, str] = {}

    def add(self, slot: str, p: Piece) -> None:
        self.segments.setdefault(slot, []).extend(
            [(p.before, p.encoding), (_content(p), p.encoding), (p.after, p.encoding)])

    def text(self, slot: str, default: str = "hello") -> str:
        """A marker json.dumps keeps as it is; ``render`` puts the literal in its place."""
        self.segments.setdefault(slot, [(default, "plain")])
        return f"@@{slot}@@"

    def render(self, obj) -> str:
        """Each slot is written once: turn 2 resends turn 1's bytes, as clients do."""
        raw = json.dumps(obj, ensure_ascii=False)
        for slot, segments in self.segments.items():
            if slot not in self.literals:
                self.literals[slot] = _literal(segments, self.rng)
            raw = raw.replace(f'"@@{slot}@@"', self.literals[slot])
        return raw


def _turn1_messages(slots: _Slots, pieces: list[Piece], tag: str) -> list[dict]:
    for i, p in enumerate(pieces):
        slot = f"{tag}.{p.position}"
        if p.position == "tool_use_input":
            slot = f"{tag}.tool_use_input.{i % 2}"
        slots.add(slot, p)
    tool_input = {"command": slots.text(f"{tag}.tool_use_input.0"),
                  "args": {"nested": [slots.text(f"{tag}.tool_use_input.1")]}}
    return [
        {"role": "user", "content": [{"type": "text", "text": slots.text(f"{tag}.user_text")},
                                     {"type": "text", "text": slots.text(f"{tag}.url")}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": slots.text(f"{tag}.assistant_text")},
            {"type": "tool_use", "id": "toolu_01", "name": "shell", "input": tool_input}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": slots.text(f"{tag}.tool_result_string")},
            {"type": "tool_result", "tool_use_id": "toolu_02",
             "content": [{"type": "text", "text": slots.text(f"{tag}.tool_result_block")}]},
            {"type": "tool_result", "tool_use_id": "toolu_03", "content": slots.text(f"{tag}.tool_result_json")}]},
    ]


def bodies(case: Case) -> tuple[str, str, int]:
    """(turn-1 body, turn-2 body, number of turn-1 messages)."""
    rng = random.Random(case.seed ^ 0x5EED)
    slots = _Slots(rng)
    for p in case.turn1:
        if p.position in ("system", "system_block", "tool_description", "tool_schema"):
            slots.add(p.position, p)
    top = {
        "model": "claude-sonnet-4-5", "max_tokens": 1024,
        "system": [{"type": "text", "text": slots.text("system")},
                   {"type": "text", "text": slots.text("system_block"), "cache_control": {"type": "ephemeral"}}],
        "tools": [{"name": "shell", "description": slots.text("tool_description"),
                   "input_schema": {"type": "object", "properties": {
                       "command": {"type": "string", "description": slots.text("tool_schema")}}}}],
    }
    chat = [p for p in case.turn1 if p.position not in ("system", "system_block", "tool_description", "tool_schema")]
    messages1 = _turn1_messages(slots, chat, "t1")
    bare = random.Random(case.seed ^ 0xBA5E)
    for i in case.reuse:
        slots.add("t2.answer", replace(case.turn1[i], position="assistant_text", encoding="plain"))
        # and each account of it once more in a string of its own, unlabelled: masked only because it
        # was identified in turn 1 (propagation), however each string is written
        for acct in (s for s in case.turn1[i].planted.secrets if len(s) == 12 and s.isdigit()):
            slots.add("t2.bare", Piece(g.Planted(f"then {acct} \u2014 again", (acct,), "account-bare"),
                                         "assistant_text", bare.choice(ENCODINGS), " ", " "))
    messages2 = messages1 + [
        {"role": "assistant", "content": [{"type": "text", "text": slots.text("t2.answer", "done")},
                                          {"type": "text", "text": slots.text("t2.bare", "ok")}]},
        *_turn1_messages(slots, case.turn2, "t2")]
    turn1 = slots.render({**top, "messages": messages1})
    turn2 = slots.render({**top, "messages": messages2})
    return turn1, turn2, len(messages1)


# --- invariants -----------------------------------------------------------------------------------
_U = re.compile(r"\\u([0-9a-fA-F]{4})")


def _views(masked: str) -> list[str]:
    views = [masked]
    try:
        strings: list[str] = []

        def walk(v):
            if isinstance(v, str):
                strings.append(v)
            elif isinstance(v, dict):
                for k, x in v.items():
                    strings.append(k)
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(json.loads(masked))
        decoded = "\n".join(strings)
        views.append(decoded)
        for _ in range(2):                    # JSON in a JSON string, and its escapes
            decoded = _U.sub(lambda m: chr(int(m.group(1), 16)), decoded).replace("\\/", "/").replace('\\"', '"')
            views.append(decoded)
    except ValueError:
        pass
    for v in list(views):
        once = urllib.parse.unquote(v)
        views += [once, urllib.parse.unquote(once)]
    return views


def _survives(secret: str, views: list[str]) -> bool:
    pattern = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(secret) + r"(?![A-Za-z0-9_]|\.[0-9])")
    return any(pattern.search(v) for v in views)


def _restored(value, restore_map: dict[str, str]):
    """Every string of a JSON value restored: what the model reads, put back. (On the raw text a
    pseudonym can sit after an escape of the body's own writing, ``%\\u0033A<p>``; the model
    writes its answers with plain escapes, and those the restore knows.)"""
    if isinstance(value, str):
        # Percent-decoded, then restored: an identifier written %3A-encoded is replaced by its
        # pseudonym as it reads (2600:1f18:...), so a URL keeps its meaning, not its spelling.
        # Twice: a URL inside a URL parameter (%2520) reads as the same words.
        value = urllib.parse.unquote(urllib.parse.unquote(value))
        return restore_text(value, restore_map) if restore_map else value
    if isinstance(value, list):
        return [_restored(v, restore_map) for v in value]
    if isinstance(value, dict):
        return {_restored(k, restore_map): _restored(v, restore_map) for k, v in value.items()}
    return value


def _checked_secrets(pieces: list[Piece]) -> set[str]:
    # Short pack-example parts ("logs", "api") are ordinary words elsewhere in a body. So is a plain
    # word one piece plants as a secret (an ECR repository "payments") where another piece holds it
    # as its own text (a team "payments" in an Owner column): names propagate only when name-shaped
    # (finder._propagate), so that word stays where no context makes it a name, by design.
    secrets = {s for p in pieces for s in p.planted.secrets if len(s) >= 8}
    return {s for s in secrets if not any(
        s not in p.planted.secrets and _survives(s, [p.planted.text]) for p in pieces)}


def check(masker: Masker, case: Case) -> list[str]:
    """The invariants this case breaks (names only)."""
    turn1, turn2, n1 = bodies(case)
    failures: list[str] = []
    results = []
    for raw in (turn1, turn2):
        try:
            with hard_timeout(CASE_SECONDS):
                results.append(masker.mask_body(raw.encode(), "application/json"))
        except Hang:
            return ["hang"]
        except MaskRefused as refused:
            return [f"error:refused:{refused.cause}"]
        except Exception as exc:  # noqa: BLE001 - the type only: a message could quote the body
            return [f"error:{type(exc).__name__}"]
    masked = [r.body.decode() for r in results]
    try:
        outs = [json.loads(m) for m in masked]
    except ValueError:
        return ["invalid_json"]
    for raw, m, r, pieces in ((turn1, masked[0], results[0], case.turn1),
                              (turn2, masked[1], results[1], case.turn1 + case.turn2)):
        views = _views(m)
        if any(_survives(s, views) for s in _checked_secrets(pieces)):
            failures.append("leak")
        if _restored(json.loads(m), r.restore_map) != _restored(json.loads(raw), {}):
            failures.append("restore")
    a, b = outs
    if a["system"] != b["system"] or a["tools"] != b["tools"] or a["messages"] != b["messages"][:n1]:
        failures.append("prefix")
    if _spelt(masker, json.loads(turn2), ensure_ascii=True) != _spelt(masker, json.loads(turn2), ensure_ascii=False):
        failures.append("spelling")
    return sorted(set(failures))


def _spelt(masker: Masker, doc, ensure_ascii: bool):
    """``doc`` masked as ``json.dumps`` writes it: with every non-ASCII character a ``\\uXXXX`` escape
    (its default, and so many clients') or as UTF-8. The same request must mask to the same values."""
    raw = json.dumps(doc, ensure_ascii=ensure_ascii).encode()
    return json.loads(masker.mask_body(raw, "application/json").body)


def shrink(masker: Masker, case: Case, failure: str) -> Case:
    """Drop pieces (and reuses) one by one while the case still breaks ``failure``."""
    changed = True
    while changed:
        changed = False
        for attr in ("turn2", "turn1"):
            pieces = getattr(case, attr)
            for i in range(len(pieces)):
                if attr == "turn1" and len(pieces) == 1:
                    break
                smaller = replace(case, **{attr: pieces[:i] + pieces[i + 1:]})
                if attr == "turn1":
                    smaller.reuse = [j if j < i else j - 1 for j in case.reuse if j != i]
                if failure in check(masker, smaller):
                    case, changed = smaller, True
                    break
            if changed:
                break
        if not changed and case.reuse:
            for j in case.reuse:
                smaller = replace(case, reuse=[x for x in case.reuse if x != j])
                if failure in check(masker, smaller):
                    case, changed = smaller, True
                    break
    return case


def describe(case: Case) -> str:
    """The case as a template: where each piece is, how it is written, what made it; no values."""
    lines = [f"seed {case.seed}"]
    for turn, pieces in (("turn 1", case.turn1), ("turn 2", case.turn2)):
        for p in pieces:
            lines.append(f"  {turn}: family={p.planted.family} position={p.position} encoding={p.encoding} "
                         f"glue={_shape(p.before)!r}<value>{_shape(p.after)!r} secrets={len(p.planted.secrets)}")
    if case.reuse:
        lines.append(f"  turn 2 answer repeats turn-1 pieces {case.reuse}")
    return "\n".join(lines)


def _shape(glue: str) -> str:
    return glue    # glue and filler are fixed words of this module, never generated values


@dataclass
class Report:
    cases: int = 0
    seconds: float = 0.0
    failures: Counter = field(default_factory=Counter)
    families: Counter = field(default_factory=Counter)
    examples: dict[str, list[int]] = field(default_factory=dict)
    minimal: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        lines = [f"fuzz: {self.cases} cases in {self.seconds:.0f} s, "
                 f"{sum(self.failures.values())} failing ({', '.join(f'{k}={v}' for k, v in self.failures.items())})"]
        lines.append("families: " + ", ".join(f"{k}={v}" for k, v in sorted(self.families.items())))
        for failure, seeds in self.examples.items():
            lines.append(f"{failure}: seeds {seeds[:50]}{' ...' if len(seeds) > 50 else ''}")
            if failure in self.minimal:
                lines.append("minimal example:\n" + self.minimal[failure])
        return "\n".join(lines)


def run(seconds: float, seed: int = 0, max_cases: int | None = None, shrink_failures: bool = True) -> Report:
    masker = Masker(KEY, shipped_packs())
    report = Report()
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds and (max_cases is None or n < max_cases):
        case = make_case(seed * 1_000_003 + n)
        n += 1
        report.cases += 1
        report.families.update(p.planted.family for p in case.turn1 + case.turn2)
        for failure in check(masker, case):
            report.failures[failure] += 1
            report.examples.setdefault(failure, []).append(case.seed)
            if shrink_failures and failure not in report.minimal:
                report.minimal[failure] = describe(shrink(masker, case, failure))
    report.seconds = time.monotonic() - start
    return report


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=1800)
    p.add_argument("--seed", type=int, default=None, help="default: from the clock (printed)")
    p.add_argument("--case", type=int, help="run one case seed (as a report names it) and print its failures")
    args = p.parse_args(argv)
    if args.case is not None:
        masker = Masker(KEY, shipped_packs())
        case = make_case(args.case)
        print(describe(case))
        print("failures:", check(masker, case) or "none")
        return 0
    seed = args.seed if args.seed is not None else int(time.time()) % 1_000_000
    print(f"fuzz: seed {seed}, {args.seconds:.0f} s", flush=True)
    report = run(args.seconds, seed)
    print(report.text())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
