"""The package layout's one rule: imports run one way (cli, service -> engine, spop; runtime is a leaf).

Read from the source with ``ast`` (every import statement, including those inside functions), so a
lazy import cannot hide a cycle the way ``detect_helper -> server`` once did.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

AGENT = Path(__file__).resolve().parents[2] / "agent"

# package -> the agent packages it may import (itself always allowed)
ALLOWED = {
    "spop": set(),
    "runtime": set(),
    "engine": {"runtime"},
    "service": {"spop", "engine", "runtime"},
    "cli": {"engine"},
}


def _package(path: Path) -> str:
    rel = path.relative_to(AGENT)
    return rel.parts[0].removesuffix(".py")


def _agent_imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "agent" and len(parts) > 1 and parts[1] in ALLOWED:
                out.add(parts[1])
    return out


SOURCES = sorted(p for p in AGENT.rglob("*.py") if p.parent != AGENT or p.stem in ALLOWED)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(AGENT)))
def test_imports_run_one_way(path: Path) -> None:
    package = _package(path)
    wrong = _agent_imports(path) - ALLOWED[package] - {package}
    assert not wrong, f"{path.relative_to(AGENT)} ({package}) imports {sorted(wrong)}"


def test_every_module_belongs_to_a_known_package() -> None:
    top = {p.stem for p in AGENT.glob("*.py")} - {"__init__", "__main__"}
    dirs = {p.name for p in AGENT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert top | dirs == set(ALLOWED)
