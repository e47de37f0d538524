"""Shared fixtures (local certificates, a recording mock upstream, a running gateway) and test kinds.

Tests are sorted by kind into folders, and each folder's tests carry its marker: ``unit`` (in-process:
engine, codec, Lua through lupa; ``make test-unit``) and ``integration`` (real processes: HAProxy, the
agent, the CLI, real TLS, a recording mock upstream). Helpers live in ``tests/support``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import haproxy_versions
from tests.support.haproxy_versions import HAProxyBin
from tests.support.harness import CERTS, ROOT, Gateway
from tests.support.mock_upstream import MockUpstream
from tests.support.runsh import RunSh


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--haproxy", default=",".join(haproxy_versions.VERSIONS),
                     help="HAProxy versions the HAProxy-facing tests run on (default: 2.6,3.2)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "haproxy" in metafunc.fixturenames:
        wanted = [v for v in metafunc.config.getoption("haproxy").split(",") if v]
        metafunc.parametrize("haproxy", wanted, indirect=True, scope="session")


@pytest.fixture(scope="session")
def haproxy(request: pytest.FixtureRequest) -> HAProxyBin:
    """The HAProxy binary this test runs on; every test that starts HAProxy runs once per version."""
    found = haproxy_versions.find(request.param)
    if isinstance(found, str):
        pytest.skip(found)
    return found


@pytest.fixture(scope="session")
def certs() -> Path:
    subprocess.run(["bash", str(ROOT / "certs" / "make-certs.sh"), str(CERTS)], check=True,
                   capture_output=True)
    return CERTS


@pytest.fixture
def upstream(certs: Path) -> Iterator[MockUpstream]:
    up = MockUpstream(str(certs / "server.crt"), str(certs / "server.key")).start()
    try:
        yield up
    finally:
        up.stop()


@pytest.fixture
def gateway(tmp_path: Path, upstream: MockUpstream, haproxy: HAProxyBin) -> Iterator[Gateway]:
    gw = Gateway(tmp_path, upstream.port, haproxy=haproxy)
    try:
        yield gw.start()
    finally:
        gw.stop()


@pytest.fixture
def make_gateway(tmp_path: Path, upstream: MockUpstream, haproxy: HAProxyBin) -> Iterator:
    """Factory for gateways with custom settings: ``make_gateway(env={...}, agent=False)``;
    ``master_worker=True`` runs HAProxy as ``make run`` does (-W, master CLI for reload/show sess)."""
    started: list[Gateway] = []

    def make(env: dict[str, str] | None = None, agent: bool = True, config: str | None = None,
             master_worker: bool = False, agent_module: str = "agent") -> Gateway:
        workdir = tmp_path / f"gw{len(started)}"
        workdir.mkdir()
        gw = Gateway(workdir, upstream.port, env, config, agent_module, haproxy=haproxy)
        started.append(gw)
        return gw.start(agent=agent, master_worker=master_worker)

    try:
        yield make
    finally:
        for gw in started:
            gw.stop()


@pytest.fixture
def run_sh(tmp_path: Path, upstream: MockUpstream, haproxy: HAProxyBin) -> Iterator[RunSh]:
    """The gateway started by haproxy/run.sh, as `make run` starts it."""
    gw = RunSh(tmp_path, upstream.port, haproxy=haproxy)
    try:
        yield gw.start()
    finally:
        gw.stop()


KINDS = ("unit", "integration")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = next((k for k in KINDS if f"/tests/{k}/" in str(item.path)), None)
        if kind is None:
            raise pytest.UsageError(f"{item.nodeid}: tests belong in tests/unit or tests/integration")
        item.add_marker(kind)
