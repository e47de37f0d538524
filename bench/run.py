"""``make bench``: the gateway against the upstream itself, plain HAProxy and mitmproxy, in one run.

Setups, all in front of one mock Anthropic upstream on loopback (bench/mock_upstream.py, TLS):
  direct       the upstream itself (hey speaks TLS to it)
  passthrough  HAProxy with haproxy/haproxy.cfg minus masking (bench/setups.py generates it)
  gateway-1    the full gateway, one agent process
  gateway-2    the full gateway, two agent processes sharing the port (--reuse-port)
  mitmproxy    mitmdump in reverse-proxy mode masking with agent.engine.masker.Masker (bench/mitm_addon.py)
Bodies (bench/bodies.py): 1KB, 100KB and 1MB Claude Code requests, a dense 1MB AWS inventory.

For each setup and body: p50/p99 latency with one client and at fixed concurrency (hey), requests/s,
CPU ms per request of every process in the path (/proc/<pid>/stat around the run), and for SSE the
time to the first content_block_delta. Then py-spy profiles the agent at 100KB and 1MB.
Writes bench/results.md, bench/latency.png and bench/out/<time>/results.json.

    .venv/bin/python bench/run.py [--quick] [--no-mitm] [--no-profile]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.bodies import bodies, conversations, stream_body  # noqa: E402
from bench.load import CpuMeter, conversation_run, hey, sse  # noqa: E402
from bench.setups import MITM_VENV, Procs  # noqa: E402

BENCH = ROOT / "bench"
CONCURRENCY = 8
MITM_PYTHONS = ["python3.13", "python3.12", "/root/.pyenv/versions/3.12.1/bin/python"]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------------------------------
# Bench-only dependencies: matplotlib and py-spy in .venv, mitmproxy in its own Python >= 3.12 venv
# --------------------------------------------------------------------------------------------------


def ensure_deps(want_mitm: bool) -> bool:
    try:
        import matplotlib  # noqa: F401
        have = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    except ImportError:
        have = None
    if not have:
        log("installing bench requirements into .venv (bench/requirements.txt)")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(BENCH / "requirements.txt")],
                       check=True)
    if not want_mitm:
        return False
    if (MITM_VENV / "bin" / "mitmdump").exists():
        # The package's own dependencies may have changed since the venv was made (the same engine
        # must run in both): re-sync them, a no-op when nothing changed.
        subprocess.run([str(MITM_VENV / "bin" / "pip"), "install", "-q", "-e", str(ROOT)], check=True)
        return True
    for cand in MITM_PYTHONS:
        exe = shutil.which(cand) or (cand if Path(cand).exists() else None)
        if not exe:
            continue
        ok = subprocess.run([exe, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"]).returncode == 0
        if not ok:
            continue
        log(f"creating {MITM_VENV.relative_to(ROOT)} with {exe} (mitmproxy needs Python >= 3.12)")
        pip = str(MITM_VENV / "bin" / "pip")
        subprocess.run([exe, "-m", "venv", str(MITM_VENV)], check=True)
        subprocess.run([pip, "install", "-q", "-r", str(BENCH / "requirements-mitm.txt")], check=True)
        subprocess.run([pip, "install", "-q", "-e", str(ROOT)], check=True)
        return True
    log("no Python >= 3.12 found: skipping mitmproxy")
    return False


# --------------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------------


def measure(name: str, url: str, port: int, tls: bool, procs: Procs, files: dict[str, Path],
            raw: dict[str, bytes], durations: tuple[float, float], sse_n: int, talks: list[list[bytes]]) -> dict:
    meter = CpuMeter(procs.pids())
    out: dict = {"bodies": {}, "sse": {}}
    for body, path in files.items():
        hey(url, path, 1, 0.3, meter)                                    # warm-up
        unloaded = hey(url, path, 1, durations[0], meter)
        loaded = hey(url, path, CONCURRENCY, durations[1], meter)
        out["bodies"][body] = {"unloaded": asdict(unloaded), "loaded": asdict(loaded),
                               "rps": loaded.rps, "cpu_ms_per_request": loaded.cpu_per_request()}
        log(f"{name:12} {body:10} p50 {unloaded.p50_ms:7.1f} ms  p99 {unloaded.p99_ms:7.1f} ms | "
            f"c={CONCURRENCY}: p50 {loaded.p50_ms:7.1f} p99 {loaded.p99_ms:7.1f} {loaded.rps:7.1f} req/s  "
            f"cpu/req {sum(v for k, v in loaded.cpu_per_request().items() if 'client' not in k):6.2f} ms"
            + (f"  errors {unloaded.errors + loaded.errors}" if unloaded.errors + loaded.errors else ""))
    talk = conversation_run(port, tls, talks)
    out["conversation"] = asdict(talk)
    log(f"{name:12} conversations {talk.bytes_min // 1000}-{talk.bytes_max // 1000} KB, {talk.turns} turns, "
        f"each new once: p50 {talk.p50_ms:6.2f} ms p99 {talk.p99_ms:6.2f} ms")
    for body in ("1KB", "100KB"):
        run, last = sse(port, tls, stream_body(raw[body]), sse_n)
        out["sse"][body] = asdict(run)
        out["sse_tail_" + body] = last[-400:].decode(errors="replace")
        log(f"{name:12} SSE {body:6} first delta p50 {run.ttfb_p50_ms:6.2f} ms p99 {run.ttfb_p99_ms:6.2f} ms")
    return out


def sanity(procs: Procs, port: int, raw: bytes, name: str) -> dict:
    """One request: the upstream must not see the original body, and the answer must quote originals."""
    import http.client
    import urllib.request
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/v1/messages", raw, {"content-type": "application/json"})
    answer = conn.getresponse().read().decode()
    ctx = __import__("ssl")._create_unverified_context()
    with urllib.request.urlopen(f"https://127.0.0.1:{procs.upstream_port}/bench/last", context=ctx) as r:
        seen = json.load(r)
    text = json.loads(answer)["content"][0]["text"]
    quoted = [t.strip("(), .") for t in text.split("(", 1)[1].split(")", 1)[0].split(", ")]
    restored = sum(q.encode() in raw for q in quoted)
    ok = seen["len"] > 0 and seen["sha256"] != __import__("hashlib").sha256(raw).hexdigest() and restored == len(quoted)
    log(f"{name:12} sanity: upstream saw a masked body: {seen['sha256'][:12]}..., "
        f"{restored}/{len(quoted)} quoted identifiers restored -> {'ok' if ok else 'FAILED'}")
    return {"ok": ok, "restored": restored, "quoted": len(quoted)}


def profile(procs: Procs, port: int, files: dict[str, Path], outdir: Path, seconds: float) -> dict:
    """py-spy on the (single) agent while hey loads the gateway; top self and inclusive costs."""
    pyspy = str(Path(sys.executable).parent / "py-spy")
    agent_pid = procs.pids()["agent"][0]
    meter = CpuMeter(procs.pids())
    result = {}
    for body in ("100KB", "1MB"):
        raw_out = outdir / f"profile-{body}.txt"
        spy = subprocess.Popen([pyspy, "record", "-p", str(agent_pid), "-r", "250", "-d", str(int(seconds) + 1),
                                "-f", "raw", "-o", str(raw_out), "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        hey(f"http://127.0.0.1:{port}/v1/messages", files[body], 2, seconds, meter)
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
        if raw_out.exists():
            result[body] = top_costs(raw_out.read_text())
            log(f"profile {body}: " + "; ".join(f"{f} {p:.0f}%" for f, p in result[body]["self"][:5]))
        else:
            log(f"profile {body}: py-spy wrote nothing (ptrace not permitted?)")
    return result


def detector_costs(raw: dict[str, bytes], key_file: Path, rounds: int = 10) -> dict:
    """In-process: masking time per body and the detectors whose regex confirmation costs most.

    Each body at first sight (nothing remembered), as the next turn of its conversation (the
    conversation one exchange shorter masked just before) and resent (masked just before).

    Wraps ``agent.engine.finder.iter_matches`` (bench only) to time each detector's regex work; the masker
    is the one the agent builds (same packs, same key).
    """
    import collections

    import agent.engine.finder as detect
    from agent.engine.masker import Masker
    from bench.bench_engine import forget, previous_turn, timed

    masker = Masker.load(key_file)
    original = detect.iter_matches
    out = {}

    def best_of(before, data: bytes) -> float:
        return timed(lambda: masker.mask_body(data, "application/json"), rounds, before)[0]

    try:
        for body in ("1KB", "100KB", "1MB", "1MB-dense"):
            data = raw[body]
            earlier = previous_turn(data)
            masker.mask_body(data, "application/json")
            best = best_of(lambda: forget(masker), data)           # first sight: nothing remembered

            def after_earlier(earlier=earlier) -> None:
                forget(masker)
                masker.mask_body(earlier, "application/json")

            next_turn = best_of(after_earlier, data)
            resent = best_of(lambda: None, data)
            spent: collections.Counter[str] = collections.Counter()
            hits: collections.Counter[str] = collections.Counter()
            found: collections.Counter[str] = collections.Counter()

            def timed_matches(det, text, anchor_hits=None, _spent=spent, _hits=hits, _found=found):
                t0 = time.perf_counter()
                got = list(original(det, text, anchor_hits))
                _spent[det.id] += time.perf_counter() - t0
                _hits[det.id] += len(anchor_hits or ())
                _found[det.id] += len(got)
                yield from got

            detect.iter_matches = timed_matches
            for _ in range(3):
                forget(masker)
                masker.mask_body(data, "application/json")
            detect.iter_matches = original
            out[body] = {"mask_ms_best": best * 1000, "mb_per_s": len(data) / 1e6 / best,
                         "next_turn_ms": next_turn * 1000, "resent_ms": resent * 1000, "detectors": [
                (d, ms * 1000 / 3, hits[d] // 3, found[d] // 3) for d, ms in spent.most_common(4)]}
            top = out[body]["detectors"][0] if out[body]["detectors"] else ("-", 0, 0, 0)
            log(f"engine {body:10} mask {best * 1000:7.2f} ms ({len(data) / 1e6 / best:5.1f} MB/s), next turn "
                f"{next_turn * 1000:.2f} ms, resent {resent * 1000:.2f} ms; costliest "
                f"detector {top[0]} {top[1]:.2f} ms ({top[2]} anchor hits, {top[3]} matches)")
    finally:
        detect.iter_matches = original
    return out


def top_costs(collapsed: str, n: int = 12) -> dict:
    """Self and inclusive shares of py-spy's collapsed stacks (idle event-loop time excluded)."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = [_short(f) for f in stack.split(";")]
        if any(f.startswith(("select ", "_run_once")) for f in frames[-2:]) and "selectors" in stack:
            continue                                            # waiting in epoll: idle
        c = int(count)
        total += c
        own[frames[-1]] += c
        for f in set(frames):
            incl[f] += c
    if not total:
        return {"self": [], "inclusive": [], "samples": 0}
    return {"samples": total,
            "self": [(f, 100 * c / total) for f, c in own.most_common(n)],
            "inclusive": [(f, 100 * c / total) for f, c in incl.most_common(n + 20)
                          if not any(x in f for x in _PLUMBING)][:n]}


_PLUMBING = ("runpy", "asyncio/runners.py", "asyncio/base_events.py", "asyncio/events.py", "<module>",
             "main (agent/", "AgentServer.dispatch")


def _short(frame: str) -> str:
    # "mask_body (agent/engine/masker.py:60)" -> "mask_body (agent/engine/masker.py)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("/site-packages/", "/lib/python3", "/work/main/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


# --------------------------------------------------------------------------------------------------


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short runs (smoke test of the bench itself)")
    p.add_argument("--no-mitm", action="store_true")
    p.add_argument("--no-profile", action="store_true")
    args = p.parse_args()
    durations = (0.5, 0.8) if args.quick else (2.0, 3.0)
    sse_n = 5 if args.quick else 30
    with_mitm = ensure_deps(not args.no_mitm)

    started = time.time()
    outdir = BENCH / "out" / time.strftime("%Y%m%d-%H%M%S")
    outdir.mkdir(parents=True, exist_ok=True)
    raw = bodies()
    talks = conversations()      # each setup sends the same turns, each new to its fresh agents
    files = {}
    for name, data in raw.items():
        files[name] = outdir / f"body-{name}.json"
        files[name].write_bytes(data)
    log(f"bodies: {', '.join(f'{k} {len(v)} B' for k, v in raw.items())}; results in {outdir.relative_to(ROOT)}")

    results: dict = {"setups": {}, "sanity": {}, "profile": {}, "concurrency": CONCURRENCY,
                     "durations_s": durations, "body_bytes": {k: len(v) for k, v in raw.items()}}
    procs = Procs(outdir)
    try:
        up = procs.start_upstream()
        plan = [("direct", None), ("passthrough", None), ("gateway-1", 1), ("gateway-2", 2)]
        if with_mitm:
            plan.append(("mitmproxy", None))
        for name, agents in plan:
            tls = name == "direct"
            if name == "direct":
                port = up
            elif name == "mitmproxy":
                port = procs.start_mitm()
            else:
                port = procs.start_haproxy(masking=agents is not None, agents=agents or 1)
            url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/v1/messages"
            if agents or name == "mitmproxy":
                results["sanity"][name] = sanity(procs, port, raw["100KB"], name)
            results["setups"][name] = measure(name, url, port, tls, procs, files, raw, durations, sse_n, talks)
            if name == "gateway-1" and not args.no_profile:
                results["profile"] = profile(procs, port, files, outdir, 2.0 if args.quick else 4.0)
                results["engine"] = detector_costs(raw, procs.key_file)
            for role in ("haproxy", "agent", "mitmproxy"):
                procs.stop(role)
    finally:
        procs.stop_all()

    results["env"] = environment()
    results["seconds"] = time.time() - started
    results["finished"] = time.strftime("%Y-%m-%d %H:%M")
    previous = sorted(p for p in (BENCH / "out").glob("*/results.json"))
    (outdir / "results.json").write_text(json.dumps(results, indent=1))
    prev = json.loads(previous[-1].read_text()) if previous else None
    report.write(results, prev, BENCH / "results.md", BENCH / "latency.png")
    print(report.summary(results))
    log(f"done in {results['seconds']:.0f} s: bench/results.md, bench/latency.png")
    return 0


def environment() -> dict:
    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    mitm = str(MITM_VENV / "bin" / "mitmdump")
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "agent", "haproxy"],
                           capture_output=True, text=True).stdout.split("\n")
    return {"commit": out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
            "dirty_files": sum(1 for line in dirty if line.strip()), "cpus": os.cpu_count(),
            "python": platform.python_version(), "kernel": platform.release(),
            "haproxy": out(["haproxy", "-v"]), "mitmproxy": out([mitm, "--version"]) if Path(mitm).exists() else "-",
            "load": os.getloadavg()}


if __name__ == "__main__":
    sys.exit(main())
