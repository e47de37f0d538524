"""Recall per class on the generated artifacts (tests/support/recall_artifacts.py), and negatives kept.

    .venv/bin/python -m tests.support.recall_report [--seed 13] [--per-template 5] [--why]

Prints counts and shares only; ``--why`` adds which templates fail (template ids, never values).
"""

from __future__ import annotations

import argparse

from tests.support.masker_support import masker
from tests.support.recall_artifacts import HELD_OUT, as_read_tool_output, failing_templates, generate, measure, table


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--per-template", type=int, default=5)
    p.add_argument("--why", action="store_true", help="list failing templates (ids and counts)")
    args = p.parse_args()
    cases = generate(args.seed, args.per_template)
    m = masker()
    print(table(measure(m, cases)))
    held_out = generate(args.seed, args.per_template, HELD_OUT)
    print("\nvariants-1 (written after the first detectors, measured at 76 %, then fixed); "
          "variants-2 (written last, measured at 84 %; three of its misses, #8 AWS_SECRET=, #13 a table's "
          "S3 bucket cell, #17 버킷 이름:, then fixed as named classes, the others never tuned to); "
          "variants-3 (57 templates written in session 7 by a helper that never read the engine, measured "
          "at 70.1 % recall and 98.2 % kept, then 17 of its 22 failing templates fixed by class); "
          "variants-4 (73 templates written in session 8 by a helper that never read the engine, from real "
          "tools' output formats: event records, logs, SDK/IaC errors, tool output, prose in eight languages, "
          "code; measured at 80.4 % recall, 63.0 % pass and 98.6 % kept, 27 failing templates); "
          "variants-5 (74 templates written in session 8 by a helper that never read the engine, from contexts "
          "the others miss: aws CLI JSON an agent's tool returns, config files and deploy descriptors, policies, "
          "alerts and findings, connection strings, code and config in more languages, human text in five more; "
          "measured at 88.0 % recall, 60.8 % pass and 93.2 % kept, 29 failing templates); "
          "variants-6 (62 templates written in session 8 by a helper that never read the engine: the same "
          "identifiers as coding agents and terminals present them: Read-tool line numbers and arrows, cat -n, "
          "grep/rg, diffs, git log -p / blame, ANSI colour, wrapped and truncated lines, tool_use / tool_result, "
          "SDK traces and debug logs, raw HTTP and presigned URLs, encodings, HTML, CSV, SAML, SQL; measured at "
          "82.8 % recall, 62.9 % pass and 100 % kept, 23 failing templates):")
    print(table(measure(m, held_out)))
    print("\nthe classes as Claude Code's Read tool shows a file (each line after a six-column number and an arrow):")
    print(table(measure(m, as_read_tool_output(cases))))
    if args.why:
        for key, n in sorted(failing_templates(m, cases + held_out).items()):
            print(f"  failing {key}: {n}")


if __name__ == "__main__":
    main()
