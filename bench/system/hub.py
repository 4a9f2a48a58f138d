"""The hub under test, in a process of its own, and what the benchmark reads off it.

`HubProcess` starts a child process that runs the real hub (`open_hub`: pool,
MQTT, patrol ingest, dispatcher, case sink, camera manager, ...) on the given
site, database and broker, and answers `sample()` over a pipe with a `HubSample`:
the process's CPU time and resident memory, the CPU time of each of its threads
by name (a camera's decode and analysis threads are `cam-ID-decode` and
`cam-ID-analyse`), every camera's health counters, and the hub's own counters of
fixes, positions, alerts and dispatches. Cameras are not passed in: the benchmark
adds them to the `cameras` table as the API or `gridhub camera add` would, and
the camera manager picks them up. A process of its own, so that its CPU, memory
and profile are the hub's alone, not the load generators'.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from hub.config import SiteConfig

SAMPLE_TIMEOUT_S = 30.0
COUNTERS = {
    "fixes": ("gridhub_patrol_fixes_total", {"source": "native", "outcome": "accepted"}),
    "positions": ("gridhub_patrol_positions_written_total", {}),
    "dispatches": ("gridhub_dispatches_total", {"event": "created"}),
}


@dataclass(frozen=True, slots=True)
class HubSample:
    """One reading of the hub process."""

    mono: float
    cpu_s: float
    rss_bytes: int
    threads: dict[str, float]  # thread name -> CPU seconds (threads of one name summed)
    cameras: dict[str, dict[str, Any]]  # camera id -> CameraHealth fields
    counters: dict[str, float]


class HubProcess:
    """The hub in a child process (spawned: nothing of the parent's threads comes along)."""

    def __init__(self, site: SiteConfig, database_url: str, broker_url: str, log: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(site, database_url, broker_url, str(log), child),
            name="gridhub-hub", daemon=True,
        )  # fmt: skip
        self.process.start()
        if not self._pipe.poll(120) or self._pipe.recv() != "ready":
            self.stop()
            raise SystemExit(f"the hub did not start; see {log}")

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def sample(self) -> HubSample:
        self._pipe.send("sample")
        if not self._pipe.poll(SAMPLE_TIMEOUT_S):
            raise SystemExit("the hub process stopped answering")
        sample: HubSample = self._pipe.recv()
        return sample

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(BrokenPipeError, OSError):
                self._pipe.send("stop")
            self.process.join(30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def _serve(site: SiteConfig, database_url: str, broker_url: str, log: str,
           pipe: Connection) -> None:  # fmt: skip
    from hub.hub import open_hub
    from hub.services import Endpoints

    logging.basicConfig(
        filename=log, level=logging.INFO, format="%(asctime)s %(threadName)s %(name)s %(message)s"
    )
    with open_hub(site, Endpoints(database_url, False, broker_url, False)) as hub:
        pipe.send("ready")
        while True:
            command = pipe.recv()
            if command == "stop":
                break
            pipe.send(_sample(hub))


def _sample(hub: Any) -> HubSample:
    import psutil

    process = psutil.Process()
    names = {t.native_id: t.name for t in threading.enumerate()}
    threads: dict[str, float] = {}
    for t in process.threads():
        name = names.get(t.id, "native (not a Python thread)")
        threads[name] = threads.get(name, 0.0) + t.user_time + t.system_time
    cpu = process.cpu_times()
    registry = hub.metrics.registry
    counters = {
        key: registry.get_sample_value(name, labels) or 0.0
        for key, (name, labels) in COUNTERS.items()
    }
    for metric in hub.metrics.alerts.collect():
        for s in metric.samples:
            if s.name.endswith("_total") and not s.labels["kind"].endswith("_cleared"):
                key = f"alerts_{s.labels['outcome']}"
                counters[key] = counters.get(key, 0.0) + s.value
    cameras = {h.camera_id: dataclasses.asdict(h) for h in hub.cameras.healths()}
    return HubSample(
        time.monotonic(), cpu.user + cpu.system, process.memory_info().rss, threads, cameras,
        counters,
    )  # fmt: skip
