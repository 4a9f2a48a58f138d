"""Throttled logging: once per key per interval, and bounded however many keys arrive."""

from __future__ import annotations

import logging

import pytest

from hub.clock import FakeClock
from hub.infra.throttle import ThrottledLog


def test_once_per_interval_with_a_count_of_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    throttle = ThrottledLog(logging.getLogger("test.throttle"), clock, interval_s=60)
    with caplog.at_level(logging.WARNING):
        assert throttle.warning("k", "bad %s", "payload")
        assert not throttle.warning("k", "bad %s", "payload")
        assert not throttle.warning("k", "bad %s", "payload")
        clock.advance(61)
        assert throttle.warning("k", "bad %s", "payload")
    assert [r.getMessage() for r in caplog.records] == [
        "bad payload", "bad payload (2 similar messages suppressed)"]  # fmt: skip


def test_keys_from_devices_never_grow_without_bound() -> None:
    """A device inventing a new topic for every message must not grow the hub's memory."""
    clock = FakeClock()
    throttle = ThrottledLog(logging.getLogger("test.throttle.keys"), clock, max_keys=100)
    logged = 0
    for n in range(10_000):
        logged += throttle.warning(f"location:gridhub/patrols/X{n}/location", "rejected")
        assert len(throttle) <= 100
        clock.advance(0.01)
    assert logged == 10_000  # every new key is still logged once
