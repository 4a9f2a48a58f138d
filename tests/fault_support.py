"""Fault-test helpers: a Mosquitto of the test's own that can be stopped and started again.

The shared broker is never touched: other engineers' hubs (and tests) publish to
the same topics there, which would spoil a test's counts, and stopping it would
break their runs. The private one listens on a fixed port, so a hub reconnects to
the same address after a restart.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _unavailable, free_port, wait_until


class Broker:
    """A Mosquitto of the test's own that can be stopped and started again."""

    def __init__(self, workdir: Path, persistent: bool = False) -> None:
        """`persistent`: sessions and queued messages survive a restart (saved on stop)."""
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self._conf = workdir / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true",
                 "max_queued_messages 100000"]  # fmt: skip
        if persistent:
            lines += ["persistence true", f"persistence_location {workdir}/", "autosave_interval 1"]
        if os.geteuid() == 0:
            lines.append("user root")
        self._conf.write_text("\n".join(lines) + "\n")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        quiet = subprocess.DEVNULL
        self._process = subprocess.Popen(["mosquitto", "-c", str(self._conf)], stdout=quiet,
                                         stderr=quiet)  # fmt: skip
        wait_until(lambda: listening(self.port))

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


def listening(port: int) -> bool:
    """Whether something accepts TCP connections on loopback `port`."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


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
