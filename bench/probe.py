"""Quick elimination probe (bench only): one body, one client, p50 and CPU per request of each
process, for the passthrough, the gateway, and bench-only variants of the gateway.

    .venv/bin/python bench/probe.py [--body 1MB] [--seconds 4] [--clients 1] [variant ...]

Variants are generated configs or a bench-only agent, never changes to haproxy/haproxy.cfg:
  gateway    the real gateway (haproxy/haproxy.cfg + python -m agent serve)
  echo       the real config, but the agent answers the body unmasked (bench/echo_agent.py): the
             cost of everything around the masking engine
  nohash     the real gateway without the SHA-256 set-header and check (elimination only)
  nolua, norestore, nohop2, luanoset   without the swap filter / the restore filter / hop 2, or
             with the swap reduced to get_var (with ``echo``: the body is unchanged anyway)
  nohelper   the real gateway with the agent's detection helper off (--detect-helper-min-bytes 0)
  helperNk   the real gateway with the helper taking JSON bodies from N KiB (helper64k: 65536 bytes)
  dmglobal   HAProxy started with -dMglobal (its shared pool cache)
Combine with "+": ``echo+nohop2``, ``gateway+dmglobal``, ``passthrough+dmglobal``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bodies import bodies  # noqa: E402
from bench.load import CpuMeter, hey  # noqa: E402
from bench.setups import Procs, free_port, passthrough_config, stat_fields, wait_port  # noqa: E402


def variant_config(name: str, cfg: str) -> str:
    parts = set(name.split("+"))
    if "nohash" in parts:
        cfg = re.sub(r"(?m)^.*x-gateway-body-sha256 %\[var\(txn\.mask\.sha256\)\].*$", "", cfg)
        cfg = re.sub(r"(?m)^.*(set-var\(txn\.got\)|hash_ok|hash_present|body_hash_mismatch).*$", "", cfg)
    if "nolua" in parts:      # only meaningful with the echo agent (the body is unchanged)
        cfg = cfg.replace("    filter lua.mask_request\n", "")
    if "norestore" in parts:
        cfg = cfg.replace("    filter lua.restore_response\n", "")
    if "nohop2" in parts:
        cfg = cfg.replace("    default_backend be_verify\n",
                          '    http-request set-header host "${UPSTREAM_HOST}"\n    default_backend be_upstream\n')
    return cfg


def start(procs: Procs, name: str, workdir: Path) -> int:
    if name == "gateway":
        return procs.start_haproxy(masking=True)
    if name == "passthrough":
        return procs.start_haproxy(masking=False)
    http_port, agent_port = free_port(), free_port()
    env = procs.haproxy_env(http_port, agent_port)
    base = (ROOT / "haproxy" / "haproxy.cfg").read_text()
    if name.startswith("passthrough+"):      # passthrough with a variant's HAProxy flags
        cfg = workdir / f"haproxy-{name}.cfg"
        cfg.write_text(passthrough_config(base))
        return _haproxy(procs, name, cfg, env, http_port, workdir)
    agent = [sys.executable, "-m", "agent", "serve", "--listen", f"127.0.0.1:{agent_port}",
             "--key-file", str(procs.key_file)]
    if "echo" in name.split("+"):
        agent = [sys.executable, str(ROOT / "bench" / "echo_agent.py"), str(agent_port)]
    if "nohelper" in name.split("+"):
        agent += ["--detect-helper-min-bytes", "0"]
    for part in name.split("+"):
        if re.fullmatch(r"helper\d+k", part):
            agent += ["--detect-helper-min-bytes", str(int(part[6:-1]) * 1024)]
    proc = procs._start("agent", agent, env)
    wait_port(agent_port, timeout=20.0, proc=proc)
    cfg = workdir / f"haproxy-{name}.cfg"
    cfg.write_text(variant_config(name, base))
    return _haproxy(procs, name, cfg, env, http_port, workdir)


def _haproxy(procs: Procs, name: str, cfg: Path, env: dict[str, str], http_port: int, workdir: Path) -> int:
    lua = {"luanoset": ("    local n = msg:set(masked, 0, input)\n", "    local n = #masked\n")}
    patches = [lua[v] for v in name.split("+") if v in lua]
    if patches:       # a patched copy of haproxy/ (bench only; with the echo agent the body is unchanged)
        hdir = workdir / f"haproxy-{name}"
        shutil.copytree(ROOT / "haproxy", hdir, dirs_exist_ok=True)
        src = (hdir / "mask_filter.lua").read_text()
        for old, new in patches:
            assert old in src, old
            src = src.replace(old, new)
        (hdir / "mask_filter.lua").write_text(src)
        env["GATEWAY_HAPROXY_DIR"] = str(hdir)
    flags = " -dMglobal" if "dmglobal" in name.split("+") else ""   # HAProxy's shared pool cache
    proc = procs._start("haproxy", ["bash", "-c", f'. "{ROOT}/haproxy/env.sh" && exec haproxy -db{flags} -f "{cfg}"'],
                        env)
    wait_port(http_port, timeout=20.0, proc=proc)
    return http_port


def faults(procs: Procs) -> dict[str, int]:
    """Minor page faults so far of each role's processes (/proc/PID/stat field 10)."""
    out = {}
    for role, pids in procs.pids().items():
        total = 0
        for pid in pids:
            total += int(stat_fields(pid)[7])
        out[role] = total
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--body", default="1MB")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--clients", type=int, default=1, help="concurrent clients (hey -c)")
    p.add_argument("variants", nargs="*", default=["passthrough", "gateway"])
    args = p.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="probe-"))
    body = workdir / "body.json"
    body.write_bytes(bodies()[args.body])
    procs = Procs(workdir)
    try:
        procs.start_upstream()
        for _ in range(args.repeat):
            for name in args.variants:
                port = start(procs, name, workdir)
                url = f"http://127.0.0.1:{port}/v1/messages"
                meter = CpuMeter(procs.pids())
                hey(url, body, 1, 0.5, meter)
                faults0 = faults(procs)
                run = hey(url, body, args.clients, args.seconds, meter)
                flt = {k: (v - faults0[k]) / max(1, run.requests) for k, v in faults(procs).items()}
                cpu = " ".join(f"{k.split()[0]} {v:.2f}" for k, v in run.cpu_per_request().items())
                print(f"{name:12} {args.body} c={args.clients}: {run.requests / args.seconds:.0f}/s "
                      f"p50 {run.p50_ms:6.2f} ms p99 {run.p99_ms:6.2f} ms "
                      f"n={run.requests} err={run.errors} | cpu ms/req {cpu} | minor faults/req "
                      + " ".join(f"{k} {v:.0f}" for k, v in flt.items()), flush=True)
                for role in ("haproxy", "agent"):
                    procs.stop(role)
    finally:
        procs.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
