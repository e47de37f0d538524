"""Which HAProxy binaries the HAProxy-facing tests run on: the system's (Debian 12: 2.6) and 3.2.0
built by ``make haproxy32`` (``make test`` does it) from the vendored source into an ignored cache.

Every test that starts HAProxy takes the session fixture ``haproxy`` (conftest.py), parametrized
over these versions, so one ``pytest`` run covers both; ``--haproxy=2.6`` (or ``3.2``) narrows it.
A version whose binary is not there is skipped with the reason (never silently passed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDORED_TARBALL = ROOT.parent / "shared" / "vendor" / "haproxy-3.2.0.tar.gz"
BUILT_32 = ROOT / ".cache" / "haproxy-3.2.0" / "bin" / "haproxy"
VERSIONS = ("2.6", "3.2")


@dataclass(frozen=True)
class HAProxyBin:
    """One HAProxy binary: ``path`` to run, ``version`` as ``major.minor``, ``bin_dir`` to put first
    on PATH for scripts that call plain ``haproxy`` (haproxy/run.sh, reload.sh)."""

    label: str
    path: str
    version: tuple[int, int]

    @property
    def bin_dir(self) -> str:
        return str(Path(self.path).parent)

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """``base`` with this binary first on PATH and in HAPROXY_BIN."""
        return {**base, "PATH": f"{self.bin_dir}:{base.get('PATH', os.defpath)}", "HAPROXY_BIN": self.path}

    def at_least(self, major: int, minor: int) -> bool:
        return self.version >= (major, minor)


def _version_of(path: str) -> tuple[int, int]:
    out = subprocess.run([path, "-v"], capture_output=True, text=True, timeout=30).stdout
    # "HAProxy version 2.6.12-1+deb12u4 ..." / "HAProxy version 3.2.0-e134140d2 ..."
    number = out.split("version", 1)[1].split()[0]
    major, minor = number.split(".")[:2]
    return int(major), int(minor)


def find(label: str) -> HAProxyBin | str:
    """The binary for ``label``, or why it is not there (the skip reason)."""
    if label == "3.2":
        path = os.environ.get("HAPROXY32_BIN") or str(BUILT_32)
        if not Path(path).is_file():
            if not VENDORED_TARBALL.is_file():
                return (f"HAProxy 3.2 runs SKIPPED: the vendored source {VENDORED_TARBALL} is missing, "
                        f"so no 3.2 binary was built (only 2.6 was tested)")
            return f"HAProxy 3.2 runs SKIPPED: {path} is not built yet; run `make haproxy32` (make test does)"
    else:
        path = os.environ.get("HAPROXY_BIN") or shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(path).is_file():
            return f"HAProxy {label} runs SKIPPED: no haproxy binary ({path}); `make deps` installs it"
    version = _version_of(path)
    if f"{version[0]}.{version[1]}" != label:
        return f"HAProxy {label} runs SKIPPED: {path} is version {version[0]}.{version[1]}"
    return HAProxyBin(label, path, version)
