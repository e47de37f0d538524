"""Masking settings: which kinds and detectors run, what is never masked, the document policy.

Read from ``config.yaml`` in the user packs directory (or an explicit file); every key is optional:

    disable_kinds: [ipv6]             # kinds never masked
    disable_detectors: [prose-name]   # detector ids switched off
    allow: [203.0.113.10]             # exact values never masked (public demo hosts, ...)
    documents: refuse                 # refuse | pass: base64 documents (PDF) cannot be inspected

``GATEWAY_DOCUMENTS`` in the environment overrides ``documents``. Errors name file and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

_KEYS = {"disable_kinds", "disable_detectors", "allow", "documents"}
DOCUMENT_POLICIES = ("refuse", "pass")


class ConfigError(ValueError):
    """The masking configuration is invalid (message names file and line)."""


@dataclass(frozen=True)
class MaskConfig:
    disable_kinds: frozenset[str] = frozenset()
    disable_detectors: frozenset[str] = frozenset()
    allow: frozenset[str] = frozenset()
    documents: str = "refuse"


def _string_list(path: Path, node: yaml.Node, key: str) -> frozenset[str]:
    if not isinstance(node, yaml.SequenceNode) or not all(
            isinstance(n, yaml.ScalarNode) for n in node.value):
        raise ConfigError(f"{path}:{node.start_mark.line + 1}: '{key}' must be a list of strings")
    return frozenset(str(n.value) for n in node.value)


def load_config(path: str | Path | None) -> MaskConfig:
    """Load ``path`` (missing file = defaults), then apply environment overrides."""
    values: dict = {}
    if path is not None and Path(path).is_file():
        path = Path(path)
        try:
            root = yaml.compose(path.read_text(encoding="utf-8"))
        except yaml.MarkedYAMLError as e:
            line = e.problem_mark.line + 1 if e.problem_mark else "?"
            raise ConfigError(f"{path}:{line}: YAML error: {e.problem}") from None
        if root is not None:
            if not isinstance(root, yaml.MappingNode):
                raise ConfigError(f"{path}:1: the masking config must be a mapping")
            for key_node, value_node in root.value:
                key, line = key_node.value, key_node.start_mark.line + 1
                if key not in _KEYS:
                    raise ConfigError(f"{path}:{line}: unknown key {key!r} (allowed: {sorted(_KEYS)})")
                if key == "documents":
                    values[key] = str(value_node.value)
                    if values[key] not in DOCUMENT_POLICIES:
                        raise ConfigError(f"{path}:{line}: documents must be one of {DOCUMENT_POLICIES}")
                else:
                    values[key] = _string_list(path, value_node, key)
    env = os.environ.get("GATEWAY_DOCUMENTS")
    if env:
        if env not in DOCUMENT_POLICIES:
            raise ConfigError(f"GATEWAY_DOCUMENTS={env!r}: must be one of {DOCUMENT_POLICIES}")
        values["documents"] = env
    return MaskConfig(**values)
