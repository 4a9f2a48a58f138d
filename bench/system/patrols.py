"""The patrols' side of the system benchmark: simulated devices, and an operator who closes cases.

`PatrolDevices` runs gridhub's own patrol simulator (`demo/patrols.py`)
in a process of its own: M patrols walking their grids and reporting once a
second over MQTT, answering dispatches (accept, ride to the case, arrive,
resolve). It counts the fixes it publishes, and notes the wall-clock time at
which each dispatch message reaches the patrols' MQTT client — where the
end-to-end latency stops — and hands those times back to the benchmark.
Patrols ride fast (100 m/s: what is measured ends when the dispatch arrives,
and a patrol that is back on duty sooner takes the next throw) and handle a
case for a second.

`Operator` plays the monitoring room: it closes each case the patrol resolved
(and rejects each case no patrol could take), so the camera's next throw opens a
new case and is dispatched again, rather than joining the open one.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from demo.patrols import PatrolSimulator, SimSettings
from hub.cases.workflow import CaseAction, apply
from hub.config import SiteConfig
from hub.errors import HubError
from hub.storage import rows

log = logging.getLogger(__name__)
SETTINGS = SimSettings(report_every_s=1.0, accept_after_s=0.5, handle_for_s=1.0,
                       respond_mps=100.0)  # fmt: skip


class TimedSimulator(PatrolSimulator):
    """The simulator, noting when each dispatch arrives (wall clock, seconds since the epoch)."""

    def __init__(self, site: SiteConfig, arrivals: Any, published: Any) -> None:
        super().__init__(site, settings=SETTINGS, seed=1)
        self.arrivals, self.published = arrivals, published

    def step(self, now: float, dt: float) -> list[tuple[str, bytes]]:
        out = super().step(now, dt)
        fixes = sum(1 for topic, _ in out if topic.endswith("/location") or "owntracks/" in topic)
        with self.published.get_lock():
            self.published.value += fixes
        return out

    def on_dispatch(self, patrol_id: str, payload: dict[str, Any], now: float) -> None:
        if "dispatch_id" in payload and not payload.get("cancelled"):
            self.arrivals.put((int(payload["dispatch_id"]), int(payload["case_id"]), time.time()))
        super().on_dispatch(patrol_id, payload, now)


def _run_devices(site: SiteConfig, broker_url: str, shared: tuple[Any, Any], stop: Any) -> None:
    simulator = TimedSimulator(site, *shared)

    def stop_when_told() -> None:
        stop.wait()
        simulator.stop()

    threading.Thread(target=stop_when_told, daemon=True).start()
    simulator.run(broker_url)


class PatrolDevices:
    """M simulated patrol devices in a child process."""

    def __init__(self, site: SiteConfig, broker_url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._arrivals = context.Queue()
        self._published = context.Value("q", 0)
        self._stop = context.Event()
        self.process = context.Process(
            target=_run_devices,
            args=(site, broker_url, (self._arrivals, self._published), self._stop),
            name="gridhub-patrols", daemon=True,
        )  # fmt: skip
        self.process.start()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def published(self) -> int:
        """Location fixes the devices have published so far."""
        return int(self._published.value)

    def arrivals(self) -> list[tuple[int, int, float]]:
        """(dispatch id, case id, arrival time) of the dispatches received since the last call."""
        out = []
        while True:
            try:
                out.append(self._arrivals.get_nowait())
            except queue.Empty:
                return out

    def stop(self) -> None:
        self._stop.set()
        self.process.join(15)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


@dataclass(frozen=True, slots=True)
class _Waiting:
    id: int
    state: str


class Operator:
    """Closes resolved cases and rejects escalated ones, every half second, in a thread."""

    def __init__(self, pool: ConnectionPool, now: Callable[[], datetime]) -> None:
        self.pool, self.now = pool, now
        self.closed = self.rejected = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-operator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self._sweep()
            except (HubError, psycopg.Error, PoolTimeout) as exc:  # a case that moved on
                log.info("operator: %s", exc)

    def _sweep(self) -> None:
        with self.pool.connection() as conn:
            waiting = rows.many(
                conn,
                _Waiting,
                "SELECT id, state FROM cases WHERE state IN ('resolved', 'escalated')",
            )
            for case in waiting:
                action = "close" if case.state == "resolved" else "reject"
                with conn.transaction():
                    apply(conn, CaseAction(case.id, action, "bench", "operator"), self.now())
                if action == "close":
                    self.closed += 1
                else:
                    self.rejected += 1
