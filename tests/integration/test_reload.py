"""Zero-downtime reloads through ``haproxy/reload.sh`` (``make reload``) on a gateway started by
``haproxy/run.sh``: HAProxy master-worker SIGUSR2 and the agents' detector packs (SIGHUP), while a
bounded client loop keeps sending bodies with planted identifiers. Counted: failed requests (must be
0) and bodies that reached the upstream unmasked (must be 0). Broken configs and packs are refused
with the reason, and the gateway keeps serving on what it had.
"""

from __future__ import annotations

import http.client as httpclient
import os
import re
import signal
import threading

from tests.support.harness import wait_until
from tests.support.planted import PROMPT, TICKET, TICKET_PACK, leaks
from tests.support.runsh import RunSh, http, messages_body, prom


class Load:
    """``threads`` clients posting bodies in a loop (new connection each: see README "Reloads")."""

    def __init__(self, port: int, threads: int = 6):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def _run(self) -> None:
        body = messages_body(PROMPT + f" ticket {TICKET}")
        while not self.stop.is_set():
            conn = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request("POST", "/v1/messages", body, {"content-type": "application/json",
                                                            "connection": "close"})
                resp = conn.getresponse()
                data = resp.read()
                result = None if resp.status == 200 else f"{resp.status} {data[:200]!r}"
            except (OSError, httpclient.HTTPException) as exc:
                result = f"{type(exc).__name__}: {exc}"
            finally:
                conn.close()
            with self.lock:
                if result is None:
                    self.ok += 1
                else:
                    self.failures.append(result)

    def wait_for(self, n: int) -> None:
        target = self.ok + n
        wait_until(lambda: self.ok >= target or bool(self.failures), what=f"{n} more answered requests")


# The master's line for each worker it starts: "New worker (PID) forked" (2.6), "Initializing new
# worker (PID)" (3.x, whose master re-executes itself on a reload).
WORKER_STARTED = re.compile(r"(?:New worker|Initializing new worker) \((\d+)\)")


def workers_started(logs: str) -> int:
    return len(set(WORKER_STARTED.findall(logs)))


def generations(gw: RunSh) -> list[float]:
    return [prom(http(gw.agent_metrics_url(i))[1].decode())["aws_mask_agent_packs_generation"]
            for i in range(gw.agents)]


def test_reload_haproxy_and_packs_under_load(run_sh, upstream):
    with Load(run_sh.http_port) as load:
        load.wait_for(20)
        # 1. HAProxy config only (packs unchanged), twice in a row.
        for _ in range(2):
            result = run_sh.reload()
            assert result.returncode == 0, result.stderr
            load.wait_for(20)
        # 2. A new detector pack: the ticket number is masked from now on.
        (run_sh.packs_dir / "tickets.yaml").write_text(TICKET_PACK)
        result = run_sh.reload()
        assert result.returncode == 0, result.stderr
        wait_until(lambda: generations(run_sh) == [4.0] * run_sh.agents, what="agents on the new packs")
        seen = len(upstream.received)
        load.wait_for(30)
    assert load.failures == [], load.failures[:5]
    assert load.ok >= 110
    bodies = [r.body for r in upstream.received]
    assert len(bodies) == load.ok
    assert [b for b in bodies if leaks(b)] == []
    # Before the pack reload the ticket went out as it was; after it, never.
    assert TICKET.encode() in bodies[0]
    assert [b for b in bodies[seen:] if TICKET.encode() in b] == []
    assert workers_started(run_sh.logs()) >= 4         # the first start + 3 reloads


def test_broken_config_keeps_the_running_one(run_sh, upstream):
    good = run_sh.cfg.read_text()
    run_sh.cfg.write_text(good.replace("    mode http\n", "    mode http\n    bogus-keyword on\n", 1))
    with Load(run_sh.http_port, threads=3) as load:
        load.wait_for(10)
        result = run_sh.reload()
        load.wait_for(10)
    assert result.returncode != 0
    assert "keeps running the previous configuration" in result.stderr
    assert "bogus-keyword" in result.stderr and f"{run_sh.cfg}:" in result.stderr   # says where and why
    assert load.failures == [] and all(not leaks(r.body) for r in upstream.received)
    assert workers_started(run_sh.logs()) == 1          # no reload was attempted


def test_broken_packs_keep_the_loaded_ones(run_sh, upstream):
    (run_sh.packs_dir / "tickets.yaml").write_text(TICKET_PACK.replace("kind: ticket-id", "kind: no-such-kind"))
    result = run_sh.reload()
    assert result.returncode != 0
    assert "tickets.yaml" in result.stderr and "keep the packs they have" in result.stderr
    assert generations(run_sh) == [1.0] * run_sh.agents
    # The agents themselves refuse a broken pack too (a SIGHUP sent by hand, without reload.sh).
    for pid in run_sh.agent_pids():
        os.kill(pid, signal.SIGHUP)
    wait_until(lambda: run_sh.logs().count('"event":"reload","ok":false') == run_sh.agents,
               what="agents logging the failed reload")
    code, body, _ = http(run_sh.url + "/v1/messages", messages_body(), {"content-type": "application/json"})
    assert code == 200 and not leaks(upstream.received[-1].body)
    assert generations(run_sh) == [1.0] * run_sh.agents
    texts = [http(run_sh.agent_metrics_url(i))[1].decode() for i in range(run_sh.agents)]
    assert all('aws_mask_agent_reloads_total{result="failed"} 1' in t for t in texts)
