"""docker-compose.yml and Dockerfile, checked without a Docker engine: images pinned, every mounted
path and build context exists, the SPOP port is not published, and HAProxy in the compose runs the
very haproxy.cfg (and env.sh, Lua, SPOE config) that the native tests run.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.support.harness import ROOT, Gateway

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# Made by `make certs key` (git-ignored, never committed); the compose file says to run it first.
GENERATED = {"certs/out/server.pem", "run/pseudonym.key"}
PINNED_TAG = re.compile(r"^[a-z0-9./-]+:(\d+\.\d+\.\d+)([a-z0-9.-]*)$")


def mounts(service: dict) -> list[tuple[str, str, str]]:
    out = []
    for volume in service.get("volumes", []):
        parts = volume.split(":")
        out.append((parts[0], parts[1], parts[2] if len(parts) > 2 else "rw"))
    return out


def host_path(source: str) -> Path:
    assert source.startswith("./"), f"bind mounts are repo-relative: {source}"
    return (ROOT / source).resolve()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_are_pinned(name):
    image = SERVICES[name]["image"]
    assert PINNED_TAG.match(image), f"{name}: image {image!r} is not pinned to an x.y.z tag"
    assert "latest" not in image


def test_haproxy_is_a_3x_lts_and_dockerfile_base_is_pinned():
    major, minor = (int(x) for x in PINNED_TAG.match(SERVICES["haproxy"]["image"]).group(1).split(".")[:2])
    assert major == 3 and minor % 2 == 0 and minor in (0, 2), "3.x LTS (3.0, 3.2)"
    base = re.search(r"^FROM\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    assert PINNED_TAG.match(base), base


def test_every_mount_and_build_context_exists(certs):
    for name, service in SERVICES.items():
        if "build" in service:
            context = service["build"] if isinstance(service["build"], str) else service["build"]["context"]
            assert (ROOT / context / "Dockerfile").is_file()
        for source, _target, mode in mounts(service):
            path = host_path(source)
            rel = str(path.relative_to(ROOT))
            assert mode == "ro", f"{name}: {source} should be read-only"
            if rel in GENERATED:
                # made by the Makefile (make certs key) before `docker compose up`
                assert rel == "certs/out/server.pem" and path.is_file() or rel == "run/pseudonym.key"
                continue
            assert path.exists(), f"{name}: {source} does not exist"
    makefile = (ROOT / "Makefile").read_text()
    assert "KEY := run/pseudonym.key" in makefile and "certs/out/server.pem:" in makefile


def test_dockerfile_copies_existing_paths():
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (ROOT / src).exists(), line


def test_spop_port_is_not_published():
    agent = SERVICES["agent"]
    assert "ports" not in agent and "network_mode" not in agent
    published = [p.split(":")[-1] for s in SERVICES.values() for p in s.get("ports", [])]
    assert "12345" not in published and "9101" not in published
    assert SERVICES["haproxy"]["environment"]["AGENT_ADDR"] == "agent:12345"
    cmd = re.search(r"^CMD (.*)$", (ROOT / "Dockerfile").read_text().replace("\\\n", ""), re.M).group(1)
    assert "0.0.0.0:12345" in cmd
    for port in SERVICES["haproxy"]["ports"]:          # the host side binds loopback only
        assert port.startswith("127.0.0.1:"), port


def test_compose_haproxy_runs_the_config_the_tests_run(tmp_path):
    haproxy = SERVICES["haproxy"]
    dirs = {target: host_path(source) for source, target, _ in mounts(haproxy)}
    etc = "/usr/local/etc/haproxy"
    assert dirs[etc] == ROOT / "haproxy"
    command = shlex.split(haproxy["entrypoint"][-1].replace("&&", " && "))
    cfg = command[command.index("-f") + 1]
    sourced = command[command.index(".") + 1]
    native = Gateway(tmp_path, 1).config_path          # what the harness (every e2e test) runs
    assert dirs[etc] / Path(cfg).relative_to(etc) == native
    assert dirs[etc] / Path(sourced).relative_to(etc) == ROOT / "haproxy" / "env.sh"
    assert "-W" in command                              # master-worker: SIGUSR2 reloads
    # Every file the config loads is inside the mounted directory (Lua, SPOE conf, log map).
    text = native.read_text()
    for ref in re.findall(r'"\$\{GATEWAY_HAPROXY_DIR\}/([^"]+)"', text):
        if "?" not in ref:
            assert (ROOT / "haproxy" / ref).is_file(), ref
    env = haproxy["environment"]
    assert env["GATEWAY_CERT"] in {target for _, target, _ in mounts(haproxy)}
    assert "GATEWAY_METRICS_PORT" in env                 # the ops frontend is on in the compose
    assert "${GATEWAY_METRICS_PORT}" in text


def test_both_containers_run_as_the_owner_of_the_secrets():
    for name in ("haproxy", "agent"):
        assert SERVICES[name]["user"] == "${GATEWAY_UID:-1000}:${GATEWAY_GID:-1000}", name
    assert [t for _, t, _ in mounts(SERVICES["agent"])] == ["/keys/pseudonym.key"]
    assert "/keys/pseudonym.key" in (ROOT / "Dockerfile").read_text()


def test_the_agent_container_is_supervised_and_restarted():
    agent = SERVICES["agent"]
    assert agent["restart"] in ("unless-stopped", "always")      # the supervisor itself exiting
    assert agent["init"] is True                                  # PID 1 reaps and passes signals
    # The image runs the supervisor, which kills and replaces an agent that stalls (no heartbeat
    # for GATEWAY_MASK_TIMEOUT): the restart policy alone only sees a process that exits.
    cmd = re.search(r"^CMD (.*)$", (ROOT / "Dockerfile").read_text().replace("\\\n", ""), re.M).group(1)
    argv = json.loads(cmd)
    assert argv[:4] == ["python", "-m", "agent", "supervise"] and "--" in argv
    assert "--agent-metrics-base" in argv and "--metrics-listen" in argv
    # Both containers use one GATEWAY_MASK_TIMEOUT: HAProxy's wait is the agent's stall deadline.
    assert agent["environment"]["GATEWAY_MASK_TIMEOUT"] == SERVICES["haproxy"]["environment"]["GATEWAY_MASK_TIMEOUT"]
    # Docker's own SIGKILL comes after the supervisor's drain (mask timeout + 5 s, 15 s by default).
    grace = agent["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) > 15
    check = agent["healthcheck"]["test"]
    assert check[0] == "CMD" and "9101/metrics" in " ".join(check)
    assert SERVICES["haproxy"]["depends_on"]["agent"]["condition"] == "service_healthy"


def test_the_supervisor_command_in_the_image_parses():
    from agent.service.supervisor import build_parser
    cmd = re.search(r"^CMD (.*)$", (ROOT / "Dockerfile").read_text().replace("\\\n", ""), re.M).group(1)
    argv = json.loads(cmd)[4:]
    own, agent = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    args = build_parser().parse_args(own)
    assert args.processes == 1 and args.agent_metrics_base == "0.0.0.0:9101"
    from agent.service.server import build_parser as serve_parser
    serve = serve_parser().parse_args([*agent, "--heartbeat-fd", "3"])
    assert serve.listen == "0.0.0.0:12345" and serve.allow_remote and serve.key_file == "/keys/pseudonym.key"
