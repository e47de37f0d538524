"""Instructions per masked body (valgrind's callgrind), the comparison that holds on a shared VM
where wall clock and CPU time move 20 % within the hour.

    .venv/bin/python bench/instructions.py [--tree DIR ...] [--body cc|dense ...] [--mode first|next|resent ...]

Each (tree, body, mode) runs in a fresh process under callgrind: a warm ``Masker`` of that tree
(``git archive REV | tar -x -C DIR``), the bodies of this checkout's ``bench/corpora.py``, and only
the one ``mask_body`` call counted (collection is toggled on ``sys.call_tracing``, which wraps it).
``first``: every memo emptied (``bench_engine.forget``); ``next``: the body one exchange shorter masked
just before; ``resent``: the same body masked just before. PYTHONHASHSEED is fixed, so a tree
measured twice gives the same count to within a few thousand instructions. Each run takes minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

_RUN = r'''
import sys
tree, here, mode, which = sys.argv[1:5]
sys.path.insert(0, tree)
from agent.engine.masker import Masker
from agent.engine.detectors import load_packs
sys.path.insert(0, here)
from bench.bench_engine import KEY, forget, previous_turn
from bench.corpora import claude_code_request, dense_inventory_request
body = claude_code_request() if which == "cc" else dense_inventory_request()
m = Masker(KEY, load_packs())
m.mask_body(body, "application/json")      # warm: pseudonyms, compiled regexes
forget(m)
if mode == "next":
    m.mask_body(previous_turn(body), "application/json")
elif mode == "resent":
    m.mask_body(body, "application/json")
sys.call_tracing(m.mask_body, (body, "application/json"))
'''


def instructions(tree: Path, body: str, mode: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=sys_call_tracing",
             f"--callgrind-out-file={out}", sys.executable, "-c", _RUN, str(tree), str(HERE), mode, body],
            capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}, check=True)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if found is None:
        raise RuntimeError(proc.stderr[-2000:])
    return int(found.group(1))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tree", type=Path, action="append", help="engine trees (default: this checkout)")
    p.add_argument("--body", action="append", choices=["cc", "dense"])
    p.add_argument("--mode", action="append", choices=["first", "next", "resent"])
    args = p.parse_args()
    for body in args.body or ["cc"]:
        for mode in args.mode or ["first"]:
            for tree in args.tree or [HERE]:
                n = instructions(tree.resolve(), body, mode)
                print(f"{body:6s} {mode:7s} {n / 1e6:9.1f} M  {tree}", flush=True)


if __name__ == "__main__":
    main()
