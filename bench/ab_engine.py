"""In-process A/B of two engine trees: each round masks the same bodies in a fresh process per tree,
alternating, and the best CPU time per (body, mode) over the rounds is compared.

    .venv/bin/python bench/ab_engine.py BASE_ROOT [NEW_ROOT] [--rounds 3]

A tree is a checkout (``git archive REV | tar -x -C DIR``); NEW_ROOT defaults to this one. Bodies:
the bench's 1 KB request, its 100 KB Claude Code body (as ``json.dumps`` writes it: every non-ASCII character a
``\\uXXXX``), the same as Claude Code and the SDKs send it (UTF-8; in Python four bytes a character,
for its emoji), the Claude Code-like 582 KB and the dense 1.16 MB inventory
(``bench/corpora.py``), each at first sight (memos emptied), next turn (the body one exchange shorter
masked first) and resent. Both trees run this checkout's ``bench`` helpers (``bench_engine.forget``
empties the memos, so it must know every memo of both trees; ``previous_turn`` writes the shorter body
as the body is written).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

_RUN = r'''
import sys, time
sys.path.insert(0, sys.argv[1])
from agent.engine import json_layout, masker  # noqa: F401  the tree's engine, imported first
from agent.engine.masker import Masker
from agent.engine.detectors import load_packs
sys.path.insert(0, sys.argv[2])                 # this checkout's bench helpers, on the tree's engine
from bench.bench_engine import KEY, forget, previous_turn
from bench.bodies import bodies
from bench.corpora import claude_code_request, dense_inventory_request
m = Masker(KEY, load_packs())
out = []
import json
k100 = bodies()["100KB"]
utf8 = json.dumps(json.loads(k100), ensure_ascii=False).encode()   # as Claude Code and the SDKs send it
for name, body, n in (("1KB", bodies()["1KB"], 300), ("100KB", k100, 25), ("100KB-utf8", utf8, 25),
                      ("cc582KB", claude_code_request(), 8),
                      ("dense", dense_inventory_request(), 3)):
    earlier = previous_turn(body)
    for mode in ("first", "next", "resent"):
        best = 1e9
        for _ in range(n):
            forget(m)
            if mode != "first":
                m.mask_body(earlier if mode == "next" else body, "application/json")
            t = time.process_time()
            m.mask_body(body, "application/json")
            best = min(best, time.process_time() - t)
        out.append(f"{name}/{mode}={best * 1e3:.3f}")
print(" ".join(out))
'''


def run(root: str) -> dict[str, float]:
    # The tree's own agent package, this checkout's bench helpers (forget knows both trees' memos).
    out = subprocess.run([sys.executable, "-c", _RUN, root, str(HERE)], capture_output=True, text=True,
                         check=True).stdout.split()
    return {k: float(v) for k, v in (kv.split("=") for kv in out)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("new", nargs="?", default=str(HERE))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"base": [], "new": []}
    for _ in range(args.rounds):
        runs["base"].append(run(args.base))
        runs["new"].append(run(args.new))
    for key in runs["base"][0]:
        b = min(r[key] for r in runs["base"])
        n = min(r[key] for r in runs["new"])
        print(f"{key:16s} base {b:8.3f} new {n:8.3f} ms  {100 * (n - b) / b:+5.1f} %")


if __name__ == "__main__":
    main()
