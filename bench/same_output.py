"""Masked output of a large fixed set of inputs, as one digest per input: run it on two trees and
compare, so an engine change that must not change output can show it did not.

    .venv/bin/python bench/same_output.py OUT.json [--engine-root DIR] [--fuzz N] [--twice]
    .venv/bin/python bench/same_output.py --compare A.json B.json

``--engine-root``: import ``agent`` from another checkout (a baseline worktree) while the inputs
come from this one (tests/support, bench/corpora.py). Inputs: the AWS CLI examples (as text and
inside a Messages request), the recall artifacts (both modes), the seed cases, the pack examples,
the degenerate values of test_bounded_work in each context, the fuzz lane's bodies (turn 1 and
turn 2 of seeds 0..N-1) and the bench bodies at a few seeds and sizes. Each digest covers the
masked body, the restore map and the counts (or the refusal); only digests are written, never text.
``--twice``: each input masked twice and the second answer digested, so what the engine remembers
between requests (``Finder``'s pieces) must give what reading afresh gives.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
KEY = b"same-output-key-0123456789abcdef"


def _inputs(fuzz: int):
    """(name, body bytes, content type)."""
    from bench import corpora
    from tests.support import awscli_corpus, fuzz_invariants, recall_artifacts
    from tests.unit import test_bounded_work as bw

    def req(text: str) -> bytes:
        return json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 1024,
                           "messages": [{"role": "user", "content": text}]}).encode()

    for i, ex in enumerate(awscli_corpus.load_examples()):
        yield f"awscli-text-{i}", ex.text.encode(), "text/plain"
        yield f"awscli-json-{i}", req(ex.text), "application/json"
    for i, case in enumerate(recall_artifacts.generate()):
        yield f"recall-json-{i}", recall_artifacts._request(case.text, case.escape_digits), "application/json"
        yield f"recall-text-{i}", case.text.encode(), "text/plain"
    seed_file = Path("/work/shared/corpus/seed-cases.jsonl")
    if seed_file.exists():
        for i, line in enumerate(seed_file.read_text().splitlines()):
            if line.strip():
                text = json.loads(line)["text"]
                yield f"seed-json-{i}", req(text), "application/json"
                yield f"seed-text-{i}", text.encode(), "text/plain"
    from agent.engine.detectors import load_packs
    for det in load_packs().detectors:
        for j, ex in enumerate(det.match_examples + det.nomatch_examples):
            text = ex if isinstance(ex, str) else ex["text"]
            yield f"pack-{det.id}-{j}-text", text.encode(), "text/plain"
            yield f"pack-{det.id}-{j}-json", req(text), "application/json"
    for cid, value in bw.VALUES:
        for context, make in bw.CONTEXTS.items():
            yield f"degenerate-{cid}-{context}", make(value).encode(), "application/json"
    for seed in range(fuzz):
        t1, t2, _ = fuzz_invariants.bodies(fuzz_invariants.make_case(seed))
        yield f"fuzz-{seed}-1", t1.encode(), "application/json"
        yield f"fuzz-{seed}-2", t2.encode(), "application/json"
    for seed in (1, 2, 3):
        for target in (20_000, 200_000, 500_000):
            yield f"cc-{seed}-{target}", corpora.claude_code_request(seed, target), "application/json"
            yield f"dense-{seed}-{target}", corpora.dense_inventory_request(seed + 1, target), "application/json"
    yield "dense-1MB", corpora.dense_inventory_request(), "application/json"


def digest(masker, body: bytes, content_type: str) -> str:
    from agent.engine.results import MaskRefused
    try:
        r = masker.mask_body(body, content_type)
    except MaskRefused as e:
        return "refused:" + hashlib.sha256(repr((e.args, getattr(e, "cause", None))).encode()).hexdigest()
    h = hashlib.sha256(r.body)
    h.update(json.dumps(r.restore_map, sort_keys=True).encode())
    h.update(json.dumps(r.counts, sort_keys=True).encode())
    return h.hexdigest()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("out", nargs="?")
    p.add_argument("--engine-root", default=str(HERE))
    p.add_argument("--fuzz", type=int, default=6000)
    p.add_argument("--compare", nargs=2)
    p.add_argument("--twice", action="store_true")
    args = p.parse_args()
    if args.compare:
        a, b = (json.loads(Path(f).read_text()) for f in args.compare)
        differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        print(f"{len(a)} / {len(b)} inputs, {len(differ)} differ")
        for k in differ[:40]:
            print("  ", k)
        return 1 if differ or len(a) != len(b) else 0
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, args.engine_root)   # agent from there, the inputs from here
    import agent
    from agent.engine.detectors import load_packs
    from agent.engine.masker import Masker
    assert Path(agent.__file__).resolve().is_relative_to(Path(args.engine_root).resolve()), agent.__file__
    masker = Masker(KEY, load_packs())
    out = {}
    for name, body, ct in _inputs(args.fuzz):
        if args.twice:
            digest(masker, body, ct)
        out[name] = digest(masker, body, ct)
    Path(args.out).write_text(json.dumps(out, indent=0, sort_keys=True))
    print(f"{len(out)} inputs -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
