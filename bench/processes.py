"""Real processes a fault test or benchmark starts, kills and restarts.

`Mosquitto` is a broker of the caller's own on a free loopback port (never the
shared one: its counts would mix with other runs', and stopping it would break
them), optionally with persistence, so a restart keeps sessions and their queued
messages. `HubProcess` is `gridhub run` for a site file, in a subprocess whose
output goes to a log file, that can be SIGKILLed and started again.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx

# Environment that would override a site file's database, broker or data directory.
OVERRIDES = ("GRIDHUB_DATABASE_URL", "GRIDHUB_MQTT_URL", "GRIDHUB_DATA_DIR", "GRIDHUB_INSTANCE")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    """Whether something accepts TCP connections on loopback `port`."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def poll(predicate: Callable[[], object], timeout: float, what: str, step: float = 0.1) -> None:
    """Poll `predicate` until it is truthy, or raise `TimeoutError` naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise TimeoutError(f"{what}: not within {timeout}s")


class Mosquitto:
    """A Mosquitto of the caller's own that can be stopped and started again."""

    def __init__(self, workdir: Path, persistent: bool = False) -> None:
        """`persistent`: sessions and queued messages survive a restart (saved on stop)."""
        if shutil.which("mosquitto") is None:
            raise FileNotFoundError("mosquitto is not installed (apt-get install mosquitto)")
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
        poll(lambda: listening(self.port), 10, "mosquitto listening", step=0.05)

    def stop(self) -> None:
        """SIGTERM: a persistent broker saves its sessions first."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


class HubProcess:
    """`gridhub run` for a site file, in a subprocess whose output goes to a log file."""

    def __init__(
        self, config: Path, port: int, log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.config, self.port, self.log = config, port, log
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout_s: float = 60) -> float:
        """Start and wait until /api/health answers; the seconds that took."""
        env = {k: v for k, v in os.environ.items() if k not in OVERRIDES} | self.env
        self.starts += 1
        began = time.monotonic()
        with self.log.open("a") as out:
            out.write(f"==== start {self.starts}\n")
            out.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub.cli", "run", "--config", str(self.config)],
                stdout=out, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        poll(self._healthy, timeout_s, "gridhub run healthy", step=0.1)
        return time.monotonic() - began

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"gridhub run exited with {self.process.returncode}:\n"
                               f"{self.log.read_text()[-4000:]}")  # fmt: skip
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/api/health", timeout=2).is_success
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, nothing is flushed."""
        assert self.process is not None
        self.process.kill()
        if self.process.wait(10) != -9:
            raise RuntimeError(f"gridhub run was not killed: {self.process.returncode}")
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None
