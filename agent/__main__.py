"""Command line: ``python -m agent {serve,mask,restore,scan} ...``.

``serve`` runs the SPOP agent HAProxy talks to; ``supervise`` runs N of them and replaces any that
dies or stalls; ``mask``/``restore``/``scan`` run the same engine on
files, exactly as the gateway would, for debugging and for users who want to check a text first.
"""

from __future__ import annotations

import sys

USAGE = "usage: python -m agent {serve|supervise|mask|restore|scan} [options]  (each takes --help)"


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "serve":
        from agent.service.server import main as serve_main
        return serve_main(rest)
    if command == "supervise":
        from agent.service.supervisor import main as supervise_main
        return supervise_main(rest)
    if command in ("mask", "restore", "scan"):
        from agent.cli.commands import main as tools_main
        return tools_main(command, rest)
    print(f"unknown command {command!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
