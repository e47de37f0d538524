"""Shared helpers for the masking-engine tests: a Masker with a fixed test key, JSON wrappers."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from agent.engine.detectors import PackSet, load_packs
from agent.engine.masker import Masker

TEST_KEY = b"test-key-for-the-masking-engine-0123456789"
# A copy of ../shared/corpus/seed-cases.jsonl (the seed project's cases), kept in the repo so the
# suite never depends on a folder outside the clone.
SEED = Path(__file__).resolve().parents[1] / "corpus" / "seed-cases.jsonl"
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@functools.cache
def shipped_packs() -> PackSet:
    """The shipped packs, read once per test process: reading them costs ~0.4 s, and the suite
    asked for them 31 times. The engine never changes a PackSet, so one can be shared."""
    return load_packs()


@functools.lru_cache(maxsize=1)
def masker() -> Masker:
    return Masker(TEST_KEY, shipped_packs())


def request(text: str) -> bytes:
    """A Messages API request carrying ``text`` as the user's message."""
    return json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 1024,
                       "messages": [{"role": "user", "content": text}]}).encode()


def message_text(body: bytes) -> str:
    return json.loads(body)["messages"][0]["content"]


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
