"""The 60-second soak (``make soak`` runs the same for 10 minutes): zero errors, zero leaks, agent
and HAProxy memory growth under 10% between warm-up and the end. Latency is reported, not asserted."""

from __future__ import annotations

import json

import pytest

from tests.support.soak import soak


@pytest.mark.timeout(240)
def test_soak_60s(certs, tmp_path):
    report = soak(60, rate=20, workdir=tmp_path)
    print(json.dumps(report))
    assert report["requests"] >= 60 * 20 * 0.9
    assert report["errors"] == 0, report
    assert report["leaks"] == 0, report
    assert report["agent_growth_pct"] < 10, report
    assert report["haproxy_growth_pct"] < 10, report
