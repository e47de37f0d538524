"""Soak: the real gateway (agent + HAProxy master-worker + leak-scanning mock upstream) at a fixed
request rate for a fixed time. ``make soak`` runs 10 minutes; tests/integration/test_soak.py runs 60 seconds.

Reports (JSON on stdout): requests, errors (anything but a 200 with the restored answer), leaks,
p99 latency of the first and last tenth of the run (drift), and RSS of the agent and the HAProxy
worker(s) after warm-up and at the end (growth in %).

    .venv/bin/python -m tests.support.soak --seconds 600 --rate 20
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.support.harness import CERTS, Gateway, rss_kb
from tests.support.loadgen import Load, p99
from tests.support.mock_upstream import MockUpstream
from tests.support.planted import ORIGINALS, ROLE_ARN


def rss(gw: Gateway) -> dict[str, int]:
    assert gw.agent is not None
    return {"agent_kb": rss_kb(gw.agent.pid), "haproxy_kb": sum(rss_kb(p) for p in gw.haproxy_pids())}


def soak(seconds: float, rate: float, warmup: float = 5.0, workdir: Path | None = None) -> dict:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="soak-"))
    up = MockUpstream(str(CERTS / "server.crt"), str(CERTS / "server.key"),
                      originals=[*ORIGINALS, ROLE_ARN], record=False).start()
    gw = Gateway(workdir, up.port)
    try:
        gw.start(master_worker=True)
        load = Load(gw.http_url, rate=rate).start()
        time.sleep(warmup)
        start_mem, t0 = rss(gw), time.monotonic()
        time.sleep(seconds)
        end_mem = rss(gw)
        results = load.stop()
    finally:
        gw.stop()
        up.stop()
    measured = sorted((r for r in results if r.start >= t0), key=lambda r: r.start)
    tenth = max(1, len(measured) // 10)
    errors = [r for r in results if r.status != 200 or not r.restored]
    report = {
        "seconds": seconds, "rate": rate, "requests": len(results), "errors": len(errors),
        "error_kinds": sorted({f"{r.status}:{r.error}" for r in errors})[:10],
        "leaks": up.leak_count, "upstream_requests": up.requests,
        "p99_first_ms": round(p99([r.latency for r in measured[:tenth]]) * 1000, 1),
        "p99_last_ms": round(p99([r.latency for r in measured[-tenth:]]) * 1000, 1),
        "rss_start": start_mem, "rss_end": end_mem,
        "agent_growth_pct": round(100 * (end_mem["agent_kb"] / max(1, start_mem["agent_kb"]) - 1), 1),
        "haproxy_growth_pct": round(100 * (end_mem["haproxy_kb"] / max(1, start_mem["haproxy_kb"]) - 1), 1),
    }
    return report


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.support.soak")
    p.add_argument("--seconds", type=float, default=600)
    p.add_argument("--rate", type=float, default=20, help="requests per second (half of them streamed)")
    args = p.parse_args(argv)
    report = soak(args.seconds, args.rate)
    print(json.dumps(report, indent=1))
    ok = report["errors"] == 0 and report["leaks"] == 0 and report["agent_growth_pct"] < 10 \
        and report["haproxy_growth_pct"] < 10
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
