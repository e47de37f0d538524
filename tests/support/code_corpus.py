"""A precision corpus nobody here wrote: source code, masked as a user's paste of it would be.

Claude Code reads source files into every conversation. In the Python standard library and the
packages this project pins, no string is an AWS identifier of a user's, so every span the engine
masks there is a false positive, but for the values the documentation policies mask on purpose
(``192.0.2.1``, ``123456789012``: switched to ``keep`` here, so they do not count). A false positive
in code does not stop at its line: a masked variable propagates to every other place it stands, and
``cookie.domain`` masked as a domain gives the model ``qojeyk-80qk.domain``, which is no Python.

    .venv/bin/python -m tests.support.code_corpus [--sample N] [--seed S] [--why N] [PATH_GLOB ...]

Prints masked spans per MB, by detector (``propagated`` for occurrences masked because the value was
masked elsewhere), and with ``--why`` a few contexts of each. The values are public code, so
printing them is safe. Without globs: the standard library of the running interpreter and this
virtualenv's packages, but AWS's own (botocore, awscli: their examples are AWS's documentation values)
and this project.
"""

from __future__ import annotations

import argparse
import random
import sysconfig
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agent.engine import finder
from agent.engine.masker import Masker
from agent.engine.settings import MaskConfig
from tests.support.masker_support import TEST_KEY, shipped_packs

# AWS's own text (documentation examples, service models), the project itself, and AWS mocks.
EXCLUDED_PACKAGES = ("botocore", "awscli", "boto3", "moto", "aws_mask_gateway", "agent")
MAX_FILE = 400_000      # larger files are data tables, not code people paste


def default_files() -> list[Path]:
    """``.py`` files of the standard library (without its tests) and of this virtualenv's packages."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    purelib = Path(sysconfig.get_paths()["purelib"])
    files = [p for p in stdlib.rglob("*.py")
             if "site-packages" not in p.parts and not any(part in ("test", "tests", "idlelib") for part in p.parts)]
    if purelib != stdlib:
        files += [p for p in purelib.rglob("*.py")
                  if not _excluded(p.relative_to(purelib)) and not any(part in ("test", "tests") for part in p.parts)]
    return sorted(files)


def _excluded(path: Path) -> bool:
    return any(part in EXCLUDED_PACKAGES for part in path.parts)


def code_masker() -> Masker:
    """The shipped packs with the documentation policies off: their values are masked on purpose."""
    return Masker(TEST_KEY, shipped_packs(), MaskConfig(documentation_examples="keep", documentation_ranges="keep"))


@dataclass
class Report:
    files: int = 0
    size: int = 0
    spans: Counter = field(default_factory=Counter)            # detector id -> masked spans
    contexts: dict = field(default_factory=lambda: defaultdict(list))

    @property
    def total(self) -> int:
        return sum(self.spans.values())

    def per_mb(self) -> float:
        return self.total / (self.size / 1e6) if self.size else 0.0


class _Attributing:
    """Which detector's match each masked part came from (``finder._hits`` wrapped while measuring)."""

    def __init__(self) -> None:
        self.by_span: dict[tuple[int, int], str] = {}
        self._hits = finder._hits

    def __enter__(self) -> _Attributing:
        def hits(det, text, anchor_hits):
            out = self._hits(det, text, anchor_hits)
            for hit in out:
                for s, e, _ in hit[3]:
                    self.by_span[(s, e)] = det.id
            return out
        finder._hits = hits
        return self

    def __exit__(self, *exc) -> None:
        finder._hits = self._hits


def measure(files: Iterable[Path], masker: Masker | None = None, keep_contexts: int = 0) -> Report:
    masker = masker or code_masker()
    report = Report()
    with _Attributing() as seen:
        for path in files:
            try:
                data = path.read_bytes()
                text = data.decode()
            except (OSError, UnicodeDecodeError):
                continue
            if len(data) > MAX_FILE:
                continue
            report.files += 1
            report.size += len(data)
            seen.by_span.clear()
            for start, end, _, _ in masker.scan(text, as_json=False):
                detector = seen.by_span.get((start, end), "propagated")
                report.spans[detector] += 1
                if len(report.contexts[detector]) < keep_contexts:
                    line_start = text.rfind("\n", 0, start) + 1
                    line_end = text.find("\n", end)
                    line = text[line_start:line_end if line_end >= 0 else len(text)].strip()
                    report.contexts[detector].append((path.name, text[start:end], line[:140]))
    return report


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("globs", nargs="*", help="files to read instead of the default corpus (** allowed)")
    p.add_argument("--sample", type=int, default=0, help="read this many files, drawn at random")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--why", type=int, default=0, help="show this many contexts per detector")
    args = p.parse_args()
    files = sorted({f for g in args.globs for f in Path("/").glob(g.lstrip("/"))
                    if not _excluded(f)}) if args.globs else default_files()
    if args.sample:
        files = sorted(random.Random(args.seed).sample(files, min(args.sample, len(files))))
    report = measure(files, keep_contexts=args.why)
    print(f"{report.files} files, {report.size / 1e6:.1f} MB: {report.total} spans masked, "
          f"{report.per_mb():.2f} per MB (each a false positive: documentation policies off)")
    for detector, n in report.spans.most_common():
        print(f"{n:7d}  {detector}")
        for name, value, line in report.contexts.get(detector, ()):
            print(f"           {name[:28]:28s} {value[:28]!r:30s} {line}")


if __name__ == "__main__":
    main()
