"""Masking-engine benchmark: MB/s on the two corpora of bench/corpora.py, one process, one core,
beside a naive baseline (every detector regex in one alternation, ``finditer`` over the body).

The engine remembers what it found in the pieces of a body (``json_layout.pieces``), so each body is
measured three ways: ``first sight`` (nothing remembered: a body never seen), ``next turn`` (the same
conversation one exchange shorter seen just before: what a client that resends the conversation
every turn, as Claude Code and the SDKs do, costs per request) and ``resent`` (the same body again).

    .venv/bin/python bench/bench_engine.py [--repeat N] [--processes N] [--clock wall|cpu]

Also reports identifiers masked per KB, so a speed-up that stops finding things shows.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.engine import json_layout  # noqa: E402
from agent.engine.detectors import load_packs  # noqa: E402
from agent.engine.masker import Masker  # noqa: E402
from bench.corpora import claude_code_request, dense_inventory_request  # noqa: E402

KEY = b"benchmark-key-not-secret-0123456789abcdef"


CLOCK = time.perf_counter   # --clock cpu: time.process_time, steadier on a machine shared with others


def naive_baseline() -> re.Pattern:
    parts = [re.sub(r"\(\?P<\w+>", "(?:", d.regex.pattern) for d in load_packs().detectors]
    return re.compile("|".join(f"(?:{p})" for p in parts))


def forget(masker: Masker) -> None:
    """Empty what the engine remembers of bodies seen (not the pseudonyms: identifiers recur)."""
    masker.finder._pieces._data.clear()
    getattr(masker, "_clean_strings", masker.finder._pieces)._data.clear()   # trees before session 14 lack it
    json_layout._NODES._data.clear()


def previous_turn(body: bytes) -> bytes:
    """The same request one exchange (two messages) shorter, written as ``body`` is (UTF-8 or with
    every non-ASCII character escaped), so the turns both hold are the same bytes."""
    doc = json.loads(body)
    doc["messages"] = doc["messages"][:-2]
    return json.dumps(doc, ensure_ascii=body.isascii()).encode()


def timed(fn, repeat: int, before=lambda: None) -> tuple[float, float]:
    """(best, median) seconds of ``fn`` over ``repeat`` runs, ``before`` run untimed before each."""
    times = []
    for _ in range(repeat):
        before()
        t = CLOCK()
        fn()
        times.append(CLOCK() - t)
    return min(times), statistics.median(times)


def bench_one(name: str, body: bytes, repeat: int, masker: Masker, baseline: re.Pattern) -> None:
    result = masker.mask_body(body, "application/json")
    n = sum(result.counts.values())
    earlier = previous_turn(body)

    def mask() -> None:
        masker.mask_body(body, "application/json")

    def after_previous_turn() -> None:
        forget(masker)
        masker.mask_body(earlier, "application/json")

    mb = len(body) / 1e6
    text = body.decode()
    b_best, _ = timed(lambda: sum(1 for _ in baseline.finditer(text)), max(1, repeat // 3))
    print(f"{name:<22} {len(body) / 1e3:8.0f} KB  {n:6d} ids ({n / (len(body) / 1e3):4.1f}/KB)  "
          f"naive re {mb / b_best:6.1f} MB/s")
    for how, before in (("first sight", lambda: forget(masker)), ("next turn", after_previous_turn),
                        ("resent", lambda: None)):
        best, median = timed(mask, repeat, before)
        print(f"  {how:<12} engine {best * 1e3:7.2f} ms {mb / best:7.1f} MB/s (median {mb / median:6.1f})  "
              f"x{b_best / best:4.1f} naive")


_WORKER: Masker | None = None


def _init() -> None:
    global _WORKER
    _WORKER = Masker(KEY, load_packs())


def _work(body: bytes) -> int:
    return len(_WORKER.mask_body(body, "application/json").body)


def bench_processes(body: bytes, processes: int, seconds: float = 3.0) -> float:
    with ProcessPoolExecutor(processes, initializer=_init) as pool:
        list(pool.map(_work, [body] * processes))  # warm up
        n = 0
        t = time.perf_counter()
        while time.perf_counter() - t < seconds:
            list(pool.map(_work, [body] * (processes * 4)))
            n += processes * 4
        return n / (time.perf_counter() - t)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="cpu: this process's CPU time (steadier when other jobs share the cores)")
    args = p.parse_args()
    global CLOCK
    if args.clock == "cpu":
        CLOCK = time.process_time
    masker = Masker(KEY, load_packs())
    baseline = naive_baseline()
    corpora = {"claude-code-500KB": claude_code_request(), "dense-inventory-1MB": dense_inventory_request()}
    print(f"python {sys.version.split()[0]}, {len(masker.finder.detectors)} detectors, one core, {args.clock} clock")
    for name, body in corpora.items():
        bench_one(name, body, args.repeat, masker, baseline)
    if args.processes > 1:
        body = corpora["claude-code-500KB"]
        one = bench_processes(body, 1)
        many = bench_processes(body, args.processes)
        print(f"claude-code-500KB requests/s: 1 process {one:.0f}, {args.processes} processes {many:.0f} "
              f"(x{many / one:.1f})")


if __name__ == "__main__":
    main()
