"""One camera's worker: a decode thread, a drop-oldest queue, and an analysis thread.

The decode thread opens the source, reads every picture, counts it, keeps
evidence pictures in the ring buffer, and hands the pictures due for analysis
(the camera's `analysis_fps`) to a small queue that drops the oldest when full
(a camera without detectors queues nothing: it is decoded for preview and evidence).
The analysis thread converts them to `Frame`s and runs the camera's detectors,
so a slow detector costs dropped frames on its own camera, never decoding time,
and never another camera's. A failed source is closed and reopened after a
capped exponential backoff with jitter; a corrupt picture is counted and skipped.

The manager's tick calls `tick()` about once a second: it writes clips whose
window has closed and raises `camera_offline` after the configured offline time.
Evidence that cannot be written (a full disk) is marked missing on the alert with
the reason and counted in the camera's health; the alert goes on to become a case.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from hub.cameras.evidence import ClipWindow, EvidenceSettings, EvidenceStore, RingBuffer
from hub.cameras.health import Backoff, CameraHealth, HealthTracker
from hub.cameras.queue import DropOldestQueue
from hub.clock import Clock
from hub.errors import CorruptFrame, EvidenceError, EvidenceWriteError, SourceError
from hub.model import Alert, EvidenceRef, Frame
from hub.redact import scrub
from hub.seams import AlertSink, Capture, Detector, FrameSource, Image

log = logging.getLogger(__name__)
OFFLINE_KIND = "camera_offline"
CLIP_GRACE = timedelta(seconds=5)  # a dark camera's clip is written with what there is


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Timing of one worker (the same for every camera of a site)."""

    queue_size: int = 2
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 2.0
    offline_alert_s: float = 300.0
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)


@dataclass(frozen=True, slots=True)
class WorkerParts:
    """What a worker is built from (the manager assembles these per camera)."""

    camera_id: str
    analysis_fps: float
    source: FrameSource
    detectors: Sequence[Detector]
    sink: AlertSink
    evidence: EvidenceStore | None
    clock: Clock


@dataclass(frozen=True, slots=True)
class _PendingClip:
    alert: Alert
    window: ClipWindow


class CameraWorker:
    """Reads one camera and feeds its detectors until stopped."""

    def __init__(self, parts: WorkerParts, settings: WorkerSettings) -> None:
        self.parts, self.settings = parts, settings
        self.camera_id = parts.camera_id
        self.health = HealthTracker(parts.camera_id, parts.source.describe(), parts.clock)
        self.ring = RingBuffer(settings.evidence)
        self._queue: DropOldestQueue[Capture] = DropOldestQueue(settings.queue_size)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._latest: Capture | None = None
        self._recent_alerts: list[Alert] = []
        self._pending: list[_PendingClip] = []
        self._lock = threading.Lock()
        self._offline_alerted = False
        self._seq = 0

    def start(self) -> None:
        for name, target in (("decode", self._decode_loop), ("analyse", self._analysis_loop)):
            thread = threading.Thread(
                target=target, name=f"cam-{self.camera_id}-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 3.0) -> None:
        """Stop both threads, write the clips still pending, and close the source."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning(
                    "camera %s: %s did not stop in %ss", self.camera_id, thread.name, timeout_s
                )
        self._flush_clips(force=True)
        self.health.stopped()

    def snapshot(self) -> CameraHealth:
        return self.health.snapshot()

    def latest(self) -> Capture | None:
        """The most recent decoded picture, or None before the first."""
        return self._latest

    def recent_alerts(self) -> list[Alert]:
        with self._lock:
            return list(self._recent_alerts)

    # The decode thread ---------------------------------------------------------------

    def _decode_loop(self) -> None:
        backoff = Backoff(self.settings.backoff_initial_s, self.settings.backoff_max_s)
        source = self.parts.source
        while not self._stop.is_set():
            try:
                source.open()
                self._read_until_failure(source, backoff)
            except SourceError as exc:
                if self.health.failed(str(exc)):
                    log.warning("camera %s offline: %s", self.camera_id, scrub(str(exc)))
            finally:
                source.close()
            if self._stop.wait(backoff.next_delay()):
                break
            self.health.count("reconnects")

    def _read_until_failure(self, source: FrameSource, backoff: Backoff) -> None:
        next_due = float("-inf")
        period = 1.0 / self.parts.analysis_fps
        while not self._stop.is_set():
            try:
                capture = source.read()
            except CorruptFrame as exc:
                self.health.count("corrupt")
                log.debug("camera %s: %s", self.camera_id, exc)
                continue
            if self.health.frame_in(capture.mono):
                backoff.reset()
                log.info("camera %s online (%s)", self.camera_id, source.describe())
            self._latest = capture
            if self.ring.due(capture.mono):
                self.ring.add(capture)
            if self.parts.detectors and capture.mono >= next_due - period / 4:
                # Pace to the analysis rate without drifting: slots are one period apart
                # (a frame a little early still takes its slot, so jitter costs nothing),
                # restarting from now after a pause.
                next_due = max(next_due + period, capture.mono + period / 2)
                self.health.count("dropped", self._queue.put(capture))

    # The analysis thread -------------------------------------------------------------

    def _analysis_loop(self) -> None:
        while not self._stop.is_set():
            capture = self._queue.get(timeout=0.2)
            if capture is None:
                continue
            self._seq += 1
            frame = Frame(
                self.camera_id, self._seq, capture.mono, capture.wall, capture.to_bgr(None)
            )
            for detector in self.parts.detectors:
                for alert in self._run(detector, frame):
                    self._handle(alert, frame.image)
            self.health.analysed(capture.mono)

    def _run(self, detector: Detector, frame: Frame) -> list[Alert]:
        try:
            return detector.process(frame)
        except Exception:  # a detector bug must not kill the camera
            self.health.count("detector")
            log.exception("camera %s: detector %s failed", self.camera_id, detector.kind)
            return []

    def _handle(self, alert: Alert, image: Image | None) -> None:
        """Attach evidence, submit the alert, and schedule its clip."""
        alert = dataclasses.replace(alert, camera_id=alert.camera_id or self.camera_id)
        if self.parts.evidence is not None:
            alert = self._with_evidence(self.parts.evidence, alert, image)
        with self._lock:
            self._recent_alerts = [*self._recent_alerts[-9:], alert]
        self.parts.sink.submit(alert)

    def _with_evidence(self, store: EvidenceStore, alert: Alert, image: Image | None) -> Alert:
        """The alert with its snapshot written and its clip scheduled, or either marked
        missing with the reason: evidence that cannot be written never holds an alert up."""
        refs = list(alert.evidence)
        if image is not None:
            refs.append(self._snapshot(store, alert, image))
        clip = store.clip_ref(alert)
        if store.failing is None:
            refs.append(clip)
            window = ClipWindow.around(
                alert, self.settings.evidence.clip_before_s, self.settings.evidence.clip_after_s
            )
            with self._lock:
                self._pending.append(_PendingClip(alert, window))
        else:  # the disk refuses files right now: the clip would fail as well
            refs.append(dataclasses.replace(clip, missing=store.failing))
            store.skipped()
            self.health.count("evidence")
        return dataclasses.replace(alert, evidence=tuple(refs))

    def _snapshot(self, store: EvidenceStore, alert: Alert, image: Image) -> EvidenceRef:
        try:
            return store.snapshot(alert, image)
        except EvidenceError as exc:
            self._evidence_failed(alert, "snapshot", exc)
            return store.snapshot_ref(alert, missing=exc.reason)

    def _evidence_failed(self, alert: Alert, what: str, exc: EvidenceError) -> None:
        self.health.count("evidence")
        if isinstance(exc, EvidenceWriteError):  # the store logs a refusing disk once
            log.debug(
                "camera %s: %s for %s not written: %s", self.camera_id, what, alert.label, exc
            )
        else:
            log.error("camera %s: %s for %s failed: %s", self.camera_id, what, alert.label, exc)

    # The manager's tick --------------------------------------------------------------

    def tick(self) -> None:
        """Write due clips; raise `camera_offline` once per long outage."""
        self._flush_clips(force=False)
        offline = self.health.offline_for()
        if offline is None:
            self._offline_alerted = False
        elif offline >= self.settings.offline_alert_s and not self._offline_alerted:
            self._offline_alerted = True
            self.parts.sink.submit(self._offline_alert(offline))

    def _offline_alert(self, offline_s: float) -> Alert:
        health = self.health.snapshot()
        now = self.parts.clock.now()
        return Alert(
            kind=OFFLINE_KIND,
            started_at=health.offline_since or now,
            confirmed_at=now,
            confidence=1.0,
            camera_id=self.camera_id,
            summary=f"camera {self.camera_id} offline for {offline_s:.0f} s",
            details={"last_error": health.last_error, "source": health.source},
        )

    def _flush_clips(self, *, force: bool) -> None:
        store = self.parts.evidence
        newest = self.ring.newest_wall()
        now = self.parts.clock.now()
        with self._lock:
            due = [
                p
                for p in self._pending
                if force or (newest and newest >= p.window.end) or now >= p.window.end + CLIP_GRACE
            ]
            self._pending = [p for p in self._pending if all(p is not d for d in due)]
        for pending in due:
            self._write_clip(store, pending)

    def _write_clip(self, store: EvidenceStore | None, pending: _PendingClip) -> None:
        if store is None:
            return
        try:
            store.write_clip(pending.alert, self.ring, pending.window)
        except EvidenceError as exc:
            self._evidence_failed(pending.alert, "clip", exc)
