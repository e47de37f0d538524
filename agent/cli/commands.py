"""``python -m agent mask | restore | scan``: the masking engine on files and pipes.

``mask`` reads stdin and writes the masked text exactly as the gateway would send it upstream
(JSON when stdin parses as JSON, else plain text); ``--map-out`` writes ``{pseudonym: original}``
(mode 0600: it holds originals). ``restore`` reverses it with that map. ``scan`` lists what would be
masked: kind and position, never the original unless ``--show`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

from agent.engine.detectors import PackError
from agent.engine.masker import Masker
from agent.engine.pseudonyms import KeyError_
from agent.engine.restore import restore_text
from agent.engine.results import MaskRefused
from agent.engine.settings import ConfigError

DEFAULT_KEY_FILE = "run/pseudonym.key"


def _key_file(arg: str | None) -> Path:
    return Path(arg or os.environ.get("GATEWAY_KEY_FILE") or DEFAULT_KEY_FILE)


def _load_masker(args) -> Masker | None:
    key_file = _key_file(args.key_file)
    if not key_file.is_file():
        print(f"pseudonym key file {key_file} does not exist. Create one with `make key`, or:\n"
              f"  mkdir -p {key_file.parent} && (umask 077; head -c 32 /dev/urandom | base64 > {key_file})\n"
              "and keep it: the same key gives the same pseudonyms "
              "(set GATEWAY_KEY_FILE to use another path).",
              file=sys.stderr)
        return None
    try:
        return Masker.load(key_file, args.packs_dir)
    except (PackError, ConfigError, KeyError_, OSError) as e:
        print(f"cannot load the masking engine: {e}", file=sys.stderr)
        return None


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return data.lstrip()[:1] in (b"{", b"[")


def _write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def cmd_mask(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m agent mask", description="Mask stdin to stdout.")
    p.add_argument("--map-out", help="write the restore map {pseudonym: original} here (mode 0600)")
    p.add_argument("--key-file", help="pseudonym key (default: $GATEWAY_KEY_FILE, else run/pseudonym.key)")
    p.add_argument("--packs-dir", help="extra detector packs (and config.yaml)")
    args = p.parse_args(argv)
    masker = _load_masker(args)
    if masker is None:
        return 1
    data = sys.stdin.buffer.read()
    try:
        if _is_json(data):
            result = masker.mask_body(data, "application/json")
        else:
            result = masker.mask_body(data, "text/plain")
    except MaskRefused as e:
        print(f"refused ({e.status} {e.error_type}): {e.message}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(result.body)
    sys.stdout.buffer.flush()
    if args.map_out:
        _write_private(args.map_out, json.dumps(result.restore_map, indent=1, sort_keys=True) + "\n")
    summary = ",".join(f"{k}={n}" for k, n in sorted(result.counts.items()))
    total = sum(result.counts.values())
    print(f"masked {total} identifiers{': ' + summary if summary else ''}", file=sys.stderr)
    return 0


def cmd_restore(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m agent restore", description="Restore stdin to stdout.")
    p.add_argument("--map", required=True, help="restore map written by `mask --map-out`")
    args = p.parse_args(argv)
    try:
        restore_map = json.loads(Path(args.map).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(f"cannot read restore map {args.map}: {e}", file=sys.stderr)
        return 1
    if not isinstance(restore_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in restore_map.items()):
        print(f"restore map {args.map} must be a JSON object of strings", file=sys.stderr)
        return 1
    text = sys.stdin.buffer.read().decode("utf-8", errors="surrogateescape")
    sys.stdout.buffer.write(restore_text(text, restore_map).encode("utf-8", errors="surrogateescape"))
    return 0


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def cmd_scan(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m agent scan", description="List what would be masked.")
    p.add_argument("file")
    p.add_argument("--show", action="store_true", help="also print the original values")
    p.add_argument("--key-file")
    p.add_argument("--packs-dir")
    args = p.parse_args(argv)
    masker = _load_masker(args)
    if masker is None:
        return 1
    try:
        data = Path(args.file).read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"cannot read {args.file}: {e}", file=sys.stderr)
        return 1
    try:
        found = masker.scan(text, as_json=_is_json(data))
    except MaskRefused as e:
        print(f"refused ({e.status}): {e.message}", file=sys.stderr)
        return 1
    counts: Counter[str] = Counter()
    for start, end, kind, original in found:
        counts[kind] += 1
        line, col = _line_col(text, start)
        shown = f"\t{original}" if args.show else ""
        print(f"{kind}\t{line}:{col}\t{start}-{end}{shown}")
    total = ", ".join(f"{k}={n}" for k, n in sorted(counts.items())) or "nothing to mask"
    print(f"# {len(found)} identifiers: {total}")
    return 0


def main(command: str, argv: list[str]) -> int:
    handlers = {"mask": cmd_mask, "restore": cmd_restore, "scan": cmd_scan}
    return handlers[command](argv)
