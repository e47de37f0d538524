"""Masking settings: which kinds and detectors run, what is never masked, the document policy.

Read from ``config.yaml`` in the user packs directory (or an explicit file); every key is optional:

    disable_kinds: [ipv6]             # kinds never masked
    disable_detectors: [prose-name]   # detector ids switched off
    allow: [203.0.113.10]             # exact values never masked (public demo hosts, ...)
    documents: refuse                 # refuse | pass: base64 documents (PDF) cannot be inspected
    unlabelled_accounts: keep         # keep | mask: 12-digit numbers with no label, outside ARNs
    documentation_examples: mask      # mask | keep: AWS doc examples (123456789012, AKIA...EXAMPLE)
    documentation_ranges: mask        # mask | keep: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32
    public_resolvers: keep            # keep | mask: 8.8.8.8, 1.1.1.1, 9.9.9.9 ...
    aws_constants: keep               # keep | mask: ELB / CloudFront hosted zone IDs, ELB log accounts

The policies are explained in ``agent/engine/policy_values.py`` and the README.

``GATEWAY_DOCUMENTS`` in the environment overrides ``documents``. Errors name file and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

DOCUMENT_POLICIES = ("refuse", "pass")
# policy key -> (allowed values, default)
POLICIES = {
    "unlabelled_accounts": (("keep", "mask"), "keep"),
    "documentation_examples": (("mask", "keep"), "mask"),
    "documentation_ranges": (("mask", "keep"), "mask"),
    "public_resolvers": (("keep", "mask"), "keep"),
    "aws_constants": (("keep", "mask"), "keep"),
}
_KEYS = {"disable_kinds", "disable_detectors", "allow", "documents", *POLICIES}


class ConfigError(ValueError):
    """The masking configuration is invalid (message names file and line)."""


@dataclass(frozen=True)
class MaskConfig:
    disable_kinds: frozenset[str] = frozenset()
    disable_detectors: frozenset[str] = frozenset()
    allow: frozenset[str] = frozenset()
    documents: str = "refuse"
    unlabelled_accounts: str = "keep"
    documentation_examples: str = "mask"
    documentation_ranges: str = "mask"
    public_resolvers: str = "keep"
    aws_constants: str = "keep"


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
                if key in POLICIES:
                    values[key] = str(value_node.value)
                    if values[key] not in POLICIES[key][0]:
                        raise ConfigError(f"{path}:{line}: {key} must be one of {POLICIES[key][0]}")
                elif key == "documents":
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
