"""Fault-test helpers: a Mosquitto of the test's own that can be stopped and started again.

The shared broker is never touched: other engineers' hubs (and tests) publish to
the same topics there, which would spoil a test's counts, and stopping it would
break their runs. The private one (bench/processes.py, which the kill-loop
benchmark shares) keeps its port, so a hub reconnects to the same address after
a restart.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.processes import Mosquitto, listening
from tests.conftest import _unavailable

__all__ = ["Broker", "broker", "listening", "persistent_broker"]


# The broker a fault test starts, stops and starts again (bench/processes.py).
Broker = Mosquitto


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A private, running Mosquitto, stopped after the test."""
    if shutil.which("mosquitto") is None:
        _unavailable("mosquitto is not installed")
    own = Broker(tmp_path)
    own.start()
    yield own
    own.stop()


@pytest.fixture
def persistent_broker(tmp_path: Path) -> Iterator[Broker]:
    """A private Mosquitto with persistence: a restart keeps sessions and their messages."""
    if shutil.which("mosquitto") is None:
        _unavailable("mosquitto is not installed")
    own = Broker(tmp_path, persistent=True)
    own.start()
    yield own
    own.stop()
