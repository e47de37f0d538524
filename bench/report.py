"""bench/results.md, bench/latency.png and the console summary from one run's results dict."""

from __future__ import annotations

import math
from pathlib import Path

SETUPS = ["direct", "passthrough", "gateway-1", "gateway-2", "mitmproxy"]
BODIES = ["1KB", "100KB", "1MB", "1MB-dense"]
GATEWAY_ROLES = ("haproxy", "agent")


def _setups(res: dict) -> list[str]:
    return [s for s in SETUPS if s in res["setups"]]


def _b(res: dict, setup: str, body: str) -> dict:
    return res["setups"][setup]["bodies"][body]


def path_cpu(res: dict, setup: str, body: str, with_upstream: bool = False) -> float:
    per = _b(res, setup, body)["cpu_ms_per_request"]
    return sum(v for k, v in per.items() if k != "client (hey)" and (with_upstream or k != "upstream"))


def added_p50(res: dict, setup: str, body: str) -> float:
    return _b(res, setup, body)["unloaded"]["p50_ms"] - _b(res, "passthrough", body)["unloaded"]["p50_ms"]


def added_ttfb(res: dict, setup: str, body: str = "1KB") -> float:
    return res["setups"][setup]["sse"][body]["ttfb_p50_ms"] - res["setups"]["passthrough"]["sse"][body]["ttfb_p50_ms"]


def _f(x: float, digits: int = 1) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def targets(res: dict) -> list[tuple[str, str, bool | None]]:
    rows: list[tuple[str, str, bool | None]] = []
    a100, a1m = added_p50(res, "gateway-1", "100KB"), added_p50(res, "gateway-1", "1MB")
    rows.append(("added p50 over passthrough, unloaded, 100 KB <= 3 ms", f"{a100:.1f} ms", a100 <= 3))
    rows.append(("added p50 over passthrough, unloaded, 1 MB <= 15 ms",
                 f"{a1m:.1f} ms (dense 1 MB: {added_p50(res, 'gateway-1', '1MB-dense'):.1f} ms)", a1m <= 15))
    cpu = path_cpu(res, "gateway-2", "100KB")
    rows.append(("CPU per request, whole gateway path (HAProxy + agent), 100 KB <= 3 ms",
                 f"{cpu:.2f} ms (+ upstream {path_cpu(res, 'gateway-2', '100KB', True) - cpu:.2f} ms)", cpu <= 3))
    if "mitmproxy" in res["setups"]:
        mitm_rps = max(1e-9, _b(res, "mitmproxy", "100KB")["rps"])
        ratio = _b(res, "gateway-2", "100KB")["rps"] / mitm_rps
        text = f"x{ratio:.2f} (gateway-2)"
        engine_ms = (res.get("engine") or {}).get("100KB", {}).get("mask_ms_best")
        if engine_ms:
            # Even a gateway that cost nothing but the engine, with every core to itself, serves at
            # most cores / engine-time requests per second; mitmproxy runs the same engine.
            ceiling = res["env"]["cpus"] / (engine_ms / 1000) / mitm_rps
            text += f"; ceiling with this engine on {res['env']['cpus']} cores: x{ceiling:.1f}"
        # The physical floor on the same cores: HAProxy forwarding without masking at all.
        floor = _b(res, "passthrough", "100KB")["rps"] / mitm_rps
        text += f"; passthrough, no masking at all: x{floor:.1f}"
        rows.append(("requests/s at 100 KB >= 20 x mitmproxy-with-masking", text, ratio >= 20))
    if all("conversation" in res["setups"][k] for k in ("gateway-1", "passthrough")):
        talk = res["setups"]["gateway-1"]["conversation"]
        added = talk["p50_ms"] - res["setups"]["passthrough"]["conversation"]["p50_ms"]
        sizes = f"{talk['bytes_min'] // 1000}-{talk['bytes_max'] // 1000} KB"
        rows.append((f"the same, conversations' turns ({sizes}, each body new once, as users send them) <= 3 ms",
                     f"{added:.1f} ms", added <= 3))
    t = added_ttfb(res, "gateway-1")
    rows.append(("SSE time to first delta added over passthrough <= 2 ms (1 KB request)",
                 f"{t:.2f} ms (100 KB request: {added_ttfb(res, 'gateway-1', '100KB'):.2f} ms)", t <= 2))
    return rows


def summary(res: dict) -> str:
    lines = ["", f"ratios to passthrough (p50 unloaded; req/s and CPU at concurrency {res['concurrency']}):"]
    for body in BODIES:
        pt = _b(res, "passthrough", body)
        parts = []
        for s in _setups(res):
            if s == "passthrough":
                continue
            b = _b(res, s, body)
            parts.append(f"{s} p50 x{b['unloaded']['p50_ms'] / max(pt['unloaded']['p50_ms'], 0.1):.1f} "
                         f"req/s x{b['rps'] / max(pt['rps'], 1e-9):.2f}")
        lines.append(f"  {body:10} " + " | ".join(parts))
    lines.append("targets:")
    for name, value, ok in targets(res):
        lines.append(f"  [{'met' if ok else 'MISSED'}] {name}: {value}")
    return "\n".join(lines)


def chart(res: dict, png: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    xs = list(range(len(BODIES)))
    for s in _setups(res):
        ax1.plot(xs, [_b(res, s, b)["unloaded"]["p50_ms"] for b in BODIES], marker="o", label=s)
        ax2.plot(xs, [path_cpu(res, s, b, True) for b in BODIES], marker="o", label=s)
    for ax, title in ((ax1, "p50 latency, one client (ms)"), (ax2, "CPU ms per request, all processes")):
        ax.set_xticks(xs, BODIES)
        ax.set_yscale("log")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xlabel("request body")
    ax1.legend(fontsize=8)
    fig.suptitle(f"aws-mask-gateway vs passthrough vs mitmproxy ({res['env']['cpus']} cores, loopback, mock upstream)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)


def tables(res: dict) -> list[str]:
    setups = _setups(res)
    c = res["concurrency"]
    out = ["### Latency, one client: p50 / p99 (ms)", "", "| body | " + " | ".join(setups) + " |",
           "|---|" + "---|" * len(setups)]
    for body in BODIES:
        out.append(f"| {body} | " + " | ".join(
            f"{_f(_b(res, s, body)['unloaded']['p50_ms'])} / {_f(_b(res, s, body)['unloaded']['p99_ms'])}"
            for s in setups) + " |")
    out += ["", f"### Concurrency {c}: p50 / p99 (ms), requests/s", "", "| body | " + " | ".join(setups) + " |",
            "|---|" + "---|" * len(setups)]
    for body in BODIES:
        out.append(f"| {body} | " + " | ".join(
            f"{_f(_b(res, s, body)['loaded']['p50_ms'])} / {_f(_b(res, s, body)['loaded']['p99_ms'])}, "
            f"**{_f(_b(res, s, body)['rps'], 0)}**/s" for s in setups) + " |")
    out += ["", f"### CPU ms per request, by process (concurrency {c})", "",
            "| setup | body | upstream | haproxy | agent(s) | mitmproxy | **path (excl. upstream)** | hey (client) |",
            "|---|---|---|---|---|---|---|---|"]
    for s in setups:
        for body in BODIES:
            per = _b(res, s, body)["cpu_ms_per_request"]
            cells = [_f(per.get(r), 2) if per.get(r) else "-" for r in ("upstream", "haproxy", "agent", "mitmproxy")]
            out.append(f"| {s} | {body} | " + " | ".join(cells)
                       + f" | **{path_cpu(res, s, body):.2f}** | {_f(per.get('client (hey)'), 2)} |")
    out += ["", "### Ratios to passthrough", "",
            f"| body | setup | added p50, one client (ms) | p50 ratio | req/s ratio (c={c}) "
            "| CPU ratio (whole path incl. upstream) |",
            "|---|---|---|---|---|---|"]
    for body in BODIES:
        pt = _b(res, "passthrough", body)
        for s in setups:
            if s in ("passthrough", "direct"):
                continue
            b = _b(res, s, body)
            out.append(f"| {body} | {s} | {added_p50(res, s, body):.1f} | "
                       f"x{b['unloaded']['p50_ms'] / max(pt['unloaded']['p50_ms'], 0.1):.1f} | "
                       f"x{b['rps'] / max(pt['rps'], 1e-9):.2f} | "
                       f"x{path_cpu(res, s, body, True) / max(path_cpu(res, 'passthrough', body, True), 1e-9):.1f} |")
    if "mitmproxy" in res["setups"]:
        out += ["", f"Gateway vs mitmproxy-with-masking, requests/s at concurrency {c}: " + ", ".join(
            f"{body} x{_b(res, 'gateway-2', body)['rps'] / max(_b(res, 'mitmproxy', body)['rps'], 1e-9):.2f}"
            for body in BODIES) + " (gateway-2 / mitmproxy)."]
    n_sse = next(iter(res["setups"].values()))["sse"]["1KB"]["n"]
    out += ["", f"### SSE: time to the first `content_block_delta` (ms, p50 / p99, {n_sse} requests, "
            "added over passthrough in brackets)", "",
            "| request | " + " | ".join(setups) + " |", "|---|" + "---|" * len(setups)]
    for body in ("1KB", "100KB"):
        out.append(f"| {body} | " + " | ".join(
            f"{_f(res['setups'][s]['sse'][body]['ttfb_p50_ms'], 2)} / "
            f"{_f(res['setups'][s]['sse'][body]['ttfb_p99_ms'], 2)}"
            + (f" (+{added_ttfb(res, s, body):.2f})" if s not in ("direct", "passthrough") else "")
            for s in setups) + " |")
    return out


def profile_section(res: dict) -> list[str]:
    prof = res.get("profile") or {}
    if not prof:
        return []
    out = []
    if res.get("engine"):
        out += ["", "## Masking engine alone (in-process, best of 10) and its costliest detectors", "",
                "First sight: nothing of the body remembered. Next turn: the same conversation one exchange "
                "shorter masked just before (a client resending the conversation, as Claude Code does). "
                "Resent: the same body masked just before (what `hey` sends above).", "",
                "| body | first sight ms | MB/s | next turn ms | MB/s | resent ms | costliest detectors at "
                "first sight: regex ms per request (anchor hits, matches) |",
                "|---|---|---|---|---|---|---|"]
        for body, e in res["engine"].items():
            size = e["mask_ms_best"] * e["mb_per_s"] / 1000      # MB
            turn = e.get("next_turn_ms", float("nan"))
            out.append(f"| {body} | {e['mask_ms_best']:.2f} | {e['mb_per_s']:.1f} | {turn:.2f} | "
                       f"{size / turn * 1000:.1f} | {e.get('resent_ms', float('nan')):.2f} | " + "; ".join(
                f"`{d}` {ms:.2f} ({h}, {m})" for d, ms, h, m in e["detectors"][:3]) + " |")
    out += ["", "## Profile of the agent (py-spy, gateway-1 under load, idle time excluded)", ""]
    for body, data in prof.items():
        out += [f"**{body}** ({data['samples']} samples). Self time:", ""]
        out += [f"- {p:.0f}% `{f}`" for f, p in data["self"][:8]]
        out += ["", "Inclusive:", ""]
        out += [f"- {p:.0f}% `{f}`" for f, p in data["inclusive"][:10]]
        out.append("")
    return out


def write(res: dict, prev: dict | None, md: Path, png: Path) -> None:
    chart(res, png)
    env = res["env"]
    lines = [
        "# Benchmark results",
        "",
        f"`make bench` (bench/run.py), {res['finished']}, {res['seconds']:.0f} s, commit "
        f"{env.get('commit', '?')}" + (f" with {env['dirty_files']} uncommitted files in agent/ and haproxy/"
                                        if env.get("dirty_files") else "") + ". "
        f"{env['cpus']} cores shared by everything (load generator `hey`, mock upstream, proxies), "
        f"{env['haproxy'].split(' - ')[0]}, Python {env['python']}, {env['mitmproxy'].splitlines()[0]}, "
        f"load average at the end {env['load'][0]:.1f}. Other work on the machine makes the numbers "
        "noisy: compare setups within one run (the ratios), not runs.",
        "",
        "Setups: **direct** = the mock upstream itself (TLS); **passthrough** = HAProxy with "
        "haproxy/haproxy.cfg minus SPOE, Lua filters, mask rules and the verify hop; **gateway-1/2** = the full "
        "gateway with 1 / 2 agent processes (`--reuse-port`); **mitmproxy** = mitmdump reverse proxy masking "
        "with the same engine (`agent.engine.masker.Masker`) and restoring responses (bench/mitm_addon.py). "
        f"Each cell: one client for {res['durations_s'][0]:.0f} s, then {res['concurrency']} clients for "
        f"{res['durations_s'][1]:.0f} s (hey, HTTP/1.1 keep-alive, latency resolution 0.1 ms). "
        "Bodies: " + ", ".join(f"{k} = {v:,} B" for k, v in res["body_bytes"].items())
        + " (bench/bodies.py: a real Claude Code 2.1.332 request grown with Claude Code-like turns; the dense "
        "AWS inventory from bench/corpora.py).",
        "",
        "![latency by body size](latency.png)",
        "",
        "## Targets (issue 6)",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    lines += [f"| {n} | {v} | {'met' if ok else '**missed**'} |" for n, v, ok in targets(res)]
    lines += [""] + tables(res)
    lines += ["", "Sanity (one 100 KB request per setup): " + ", ".join(
        f"{s}: upstream saw a masked body and {v['restored']}/{v['quoted']} identifiers came back restored"
        if v["ok"] else f"{s}: FAILED" for s, v in res["sanity"].items())]
    lines += profile_section(res)
    if prev:
        lines += ["## Previous run (for run-to-run noise)", "", "| metric | previous | this run |", "|---|---|---|"]
        try:
            for (n, v, _), (_, pv, _) in zip(targets(res), targets(prev), strict=False):
                lines.append(f"| {n} | {pv} | {v} |")
        except (KeyError, TypeError):
            lines.append("| (previous results have another shape) | | |")
    md.write_text("\n".join(lines) + "\n")
