"""The supervisor's arithmetic: HAProxy time strings (GATEWAY_MASK_TIMEOUT is the stall deadline) and
the restart backoff. Its behaviour with real processes is in tests/integration/test_supervisor.py."""

from __future__ import annotations

import pytest

from agent.service.supervisor import backoff_delay, parse_haproxy_time


@pytest.mark.parametrize(("text", "seconds"), [("10s", 10.0), ("500ms", 0.5), ("5000", 5.0), ("2m", 120.0),
                                              ("1.5s", 1.5), ("250000us", 0.25)])
def test_haproxy_times(text, seconds):
    assert parse_haproxy_time(text) == seconds


def test_backoff_doubles_up_to_its_cap():
    assert [backoff_delay(n, 0.5, 30) for n in range(9)] == [0, 0.5, 1, 2, 4, 8, 16, 30, 30]


@pytest.mark.parametrize("text", ["", "ten", "10x", "-1s", "1 0s"])
def test_bad_haproxy_times(text):
    with pytest.raises(ValueError):
        parse_haproxy_time(text)
