"""The camera manager: one worker per enabled camera this hub holds, kept in step.

`reconcile()` balances the camera leases (hub/cameras/leases.py: with several hub
instances on one database each runs its share), then compares the table with
the running workers and starts, stops or restarts (when `updated_at` moved) what
differs, so a camera added, edited or removed through the API, the CLI or
another process takes effect without a restart. A tick thread runs once a
second: it lets each worker write due clips and raise `camera_offline`,
publishes each camera's retained MQTT status (`gridhub/cameras/{id}/status`:
online / offline) when it changes, records camera health in the `camera_health`
table every minute, and reconciles every few seconds. A camera that cannot be
built (unknown source kind or detector, invalid detector settings) is reported
in its health with the reason.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from hub.cameras.evidence import EvidenceSettings, EvidenceStore
from hub.cameras.health import CameraHealth
from hub.cameras.leases import CameraLeases, LeaseView
from hub.cameras.source import make_source, redact_url
from hub.cameras.worker import CameraWorker, WorkerParts, WorkerSettings
from hub.clock import Clock
from hub.config import Camera, VideoSettings
from hub.errors import HubError
from hub.infra.mqtt import MqttLink
from hub.plugins import DETECTORS, Registry
from hub.redact import scrub
from hub.seams import AlertSink, Detector, SourceOptions
from hub.storage.camera_repo import CameraRow, load_cameras

log = logging.getLogger(__name__)
STATUS_TOPIC = "gridhub/cameras/{}/status"
RECONCILE_EVERY_S = 5.0
HEALTH_ROW_EVERY_S = 60.0


@dataclass(frozen=True, slots=True)
class ManagerParts:
    """What the manager works with, from `open_hub`."""

    pool: ConnectionPool
    mqtt: MqttLink
    registry: Registry
    sink: AlertSink
    clock: Clock
    data_dir: Path
    leases: CameraLeases


@dataclass(frozen=True, slots=True)
class _Running:
    worker: CameraWorker
    updated_at: datetime


class CameraManager:
    """Starts, stops and watches the camera workers of one hub."""

    def __init__(self, parts: ManagerParts, video: VideoSettings) -> None:
        self.parts, self.video = parts, video
        self.settings = worker_settings(video)
        self.evidence = EvidenceStore(parts.data_dir / "evidence", video.evidence_max_mb * 1024**2)
        self._running: dict[str, _Running] = {}
        self._problems: dict[str, CameraHealth] = {}
        self._published: dict[str, str] = {}
        self._logged: dict[str, str] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def instance(self) -> str:
        return self.parts.leases.instance.id

    def start(self) -> None:
        self.parts.leases.join()
        self.reconcile()
        self._thread = threading.Thread(target=self._tick_loop, name="camera-manager", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            for camera_id in list(self._running):
                self._stop_worker(camera_id)
            try:
                self.parts.leases.leave()
            except (psycopg.Error, PoolTimeout) as exc:  # they expire on their own
                log.warning("camera leases not given back: %s", exc)

    def worker(self, camera_id: str) -> CameraWorker | None:
        with self._lock:
            running = self._running.get(camera_id)
            return running.worker if running else None

    def health(self, camera_id: str) -> CameraHealth | None:
        """The camera's health, an error record when it could not start, or None."""
        with self._lock:
            running = self._running.get(camera_id)
            if running is None:
                return self._problems.get(camera_id)
        return replace(running.worker.snapshot(), instance=self.instance)

    def healths(self) -> list[CameraHealth]:
        """Every camera this hub knows of: its own workers' health and the others' states."""
        with self._lock:
            workers = [r.worker for r in self._running.values()]
            problems = list(self._problems.values())
        return [replace(w.snapshot(), instance=self.instance) for w in workers] + problems

    def reconcile(self) -> None:
        """Bring the running workers in line with the `cameras` table.

        Read and applied under one lock: a reconcile that read the table earlier can
        never apply after a later one (and undo an edit).
        """
        with self._lock:
            with self.parts.pool.connection() as conn:
                rows, unreadable = load_cameras(conn)
            stored = {row.camera.id: row for row in rows}
            leases = self.parts.leases.balance([r.camera.id for r in rows if r.camera.enabled])
            for camera_id, running in list(self._running.items()):
                self._stop_if_changed(camera_id, running, stored.get(camera_id), leases)
            self._problems = {
                cid: _problem(cid, "", "error", f"stored camera does not validate: {why}")
                for cid, why in unreadable.items()
            }
            for camera_id, row in stored.items():
                if camera_id in leases.held:
                    if camera_id not in self._running:
                        self._start_worker(row)
                else:
                    self._problems[camera_id] = _elsewhere(row.camera, leases)

    def _stop_if_changed(
        self, camera_id: str, running: _Running, row: CameraRow | None, leases: LeaseView
    ) -> None:
        """Stop a worker whose camera went, was disabled or edited, or is now held elsewhere."""
        if row is None or not row.camera.enabled:
            self._stop_worker(camera_id)
            self._publish(camera_id, "offline" if row else None)
        elif camera_id not in leases.held:
            self._stop_worker(camera_id)
            self._published.pop(camera_id, None)  # its new holder publishes its status
        elif row.updated_at != running.updated_at:
            self._stop_worker(camera_id)

    def _start_worker(self, row: CameraRow) -> None:
        camera = row.camera
        try:
            worker = self._build(camera)
        except HubError as exc:
            if self._logged.get(camera.id) != str(exc):  # once per problem, not per reconcile
                log.error("camera %s not started: %s", camera.id, scrub(str(exc)))
            self._logged[camera.id] = str(exc)
            self._problems[camera.id] = _problem(camera.id, _describe(camera), "error", str(exc))
            return
        worker.start()
        self._logged.pop(camera.id, None)
        self._running[camera.id] = _Running(worker, row.updated_at)
        log.info("camera %s started (%s)", camera.id, worker.health.source)

    def _build(self, camera: Camera) -> CameraWorker:
        options = SourceOptions(
            open_timeout_s=self.video.open_timeout_s,
            read_timeout_s=self.video.read_timeout_s,
            poll_fps=camera.analysis_fps,
            clock=self.parts.clock,
        )
        url = camera.url.get_secret_value()
        source = make_source(self.parts.registry, camera.source_kind, url, options)
        parts = WorkerParts(
            camera_id=camera.id,
            analysis_fps=camera.analysis_fps,
            source=source,
            detectors=build_detectors(self.parts.registry, camera, self.parts.clock),
            sink=self.parts.sink,
            evidence=self.evidence,
            clock=self.parts.clock,
        )
        return CameraWorker(parts, self.settings)

    def _stop_worker(self, camera_id: str) -> None:
        running = self._running.pop(camera_id)
        running.worker.stop()
        log.info("camera %s stopped", camera_id)

    def _publish(self, camera_id: str, status: str | None) -> None:
        """Publish the retained status; None clears it (the camera is gone)."""
        if self._published.get(camera_id) == status:
            return
        payload = status.encode() if status else b""
        self.parts.mqtt.publish(STATUS_TOPIC.format(camera_id), payload, qos=1, retain=True)
        if status is None:
            self._published.pop(camera_id, None)
        else:
            self._published[camera_id] = status

    def _tick_loop(self) -> None:
        last_reconcile = last_health_row = self.parts.clock.monotonic()
        every_s = min(RECONCILE_EVERY_S, self.parts.leases.ttl_s / 3)  # renew thrice per TTL
        while not self._stop.wait(1.0):
            now = self.parts.clock.monotonic()
            try:
                self._tick()
                if now - last_reconcile >= every_s:
                    last_reconcile = now
                    self.reconcile()
                if now - last_health_row >= HEALTH_ROW_EVERY_S:
                    last_health_row = now
                    self._record_health()
            except (HubError, psycopg.Error, PoolTimeout) as exc:
                log.error("camera manager tick failed: %s", exc)

    def _tick(self) -> None:
        with self._lock:
            workers = [r.worker for r in self._running.values()]
        for worker in workers:
            worker.tick()
            online = worker.snapshot().online
            with self._lock:
                if worker.camera_id in self._running:
                    self._publish(worker.camera_id, "online" if online else "offline")

    def _record_health(self) -> None:
        rows = [h for h in self.healths() if h.state in ("online", "offline", "starting")]
        with self.parts.pool.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO camera_health (camera_id, ts, online, fps_in, fps_out,
                       dropped_frames, last_frame_age_s) VALUES (%s, now(), %s, %s, %s, %s, %s)""",
                [
                    (
                        h.camera_id,
                        h.online,
                        h.fps_in,
                        h.fps_analysed,
                        h.dropped_frames,
                        h.last_frame_age_s,
                    )  # fmt: skip
                    for h in rows
                ],
            )


def worker_settings(video: VideoSettings) -> WorkerSettings:
    """The site's video settings as a worker's."""
    evidence = EvidenceSettings(
        fps=video.evidence_fps,
        width=video.evidence_width,
        ring_s=video.ring_s,
        clip_before_s=video.clip_before_s,
        clip_after_s=video.clip_after_s,
        max_disk_bytes=video.evidence_max_mb * 1024**2,
    )
    return WorkerSettings(
        queue_size=video.queue_size,
        backoff_initial_s=video.reconnect_initial_s,
        backoff_max_s=video.reconnect_max_s,
        offline_alert_s=video.offline_alert_s,
        evidence=evidence,
    )


def build_detectors(registry: Registry, camera: Camera, clock: Clock) -> list[Detector]:
    """One detector per enabled spec of `camera`, built by its plugin."""
    detectors = []
    for spec in camera.detectors:
        if not spec.enabled:
            continue
        detectors.append(registry.get(DETECTORS, spec.kind).build(camera, spec, clock))
    return detectors


def _elsewhere(camera: Camera, leases: LeaseView) -> CameraHealth:
    """The state of a camera this hub does not run: disabled, or another instance's."""
    if not camera.enabled:
        return _problem(camera.id, _describe(camera), "disabled")
    holder = leases.holders.get(camera.id)
    if holder is None:
        return _problem(camera.id, _describe(camera), "unassigned", "waiting for a hub instance")
    return replace(_problem(camera.id, _describe(camera), "remote"), instance=holder)


def _describe(camera: Camera) -> str:
    return f"{camera.source_kind} {redact_url(camera.url.get_secret_value())}"


def _problem(camera_id: str, source: str, state: str, error: str | None = None) -> CameraHealth:
    return CameraHealth(
        camera_id=camera_id, state=state, online=False, source=source, fps_in=0.0,
        fps_analysed=0.0, frames_in=0, frames_analysed=0, dropped_frames=0, corrupt_frames=0,
        detector_errors=0, reconnects=0, outages=0, last_frame_age_s=None, offline_since=None,
        last_outage_s=None, last_error=None if error is None else scrub(error),
    )  # fmt: skip
