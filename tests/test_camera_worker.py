"""The camera worker on a scripted source: pacing, drop-oldest, slow detectors, reconnects,
offline alerts and evidence."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import av
import pytest

from hub.cameras.evidence import EvidenceSettings, EvidenceStore
from hub.cameras.health import Backoff
from hub.cameras.queue import DropOldestQueue
from hub.cameras.worker import CameraWorker, WorkerParts, WorkerSettings
from hub.clock import SystemClock
from hub.model import Alert, Frame
from tests.camera_support import CollectingSink, ScriptedSource, wait_for


class SlowDetector:
    """Takes `delay` seconds per frame; alerts once on its `alert_on`-th frame."""

    kind = "slow"

    def __init__(self, delay: float, alert_on: int | None = None) -> None:
        self.delay, self.alert_on, self.seen = delay, alert_on, 0

    def process(self, frame: Frame) -> list[Alert]:
        time.sleep(self.delay)
        self.seen += 1
        if self.seen != self.alert_on:
            return []
        return [
            Alert(
                kind="test_alert",
                started_at=frame.wall - timedelta(seconds=0.5),
                confirmed_at=frame.wall,
                confidence=0.9,
                overlay=(((0.1, 0.1), (0.9, 0.9)),),
            )
        ]


class BrokenDetector:
    kind = "broken"

    def process(self, frame: Frame) -> list[Alert]:
        raise RuntimeError("detector bug")


def make_worker(
    source: ScriptedSource,
    detectors: list[SlowDetector | BrokenDetector],
    sink: CollectingSink,
    settings: WorkerSettings | None = None,
    evidence: EvidenceStore | None = None,
    fps: float = 10.0,
) -> CameraWorker:
    parts = WorkerParts("CAM-T", fps, source, detectors, sink, evidence, SystemClock())
    return CameraWorker(
        parts, settings or WorkerSettings(backoff_initial_s=0.05, backoff_max_s=0.2)
    )


@pytest.fixture
def workers() -> Iterator[list[CameraWorker]]:
    started: list[CameraWorker] = []
    yield started
    for worker in started:
        worker.stop()


def test_drop_oldest_queue_keeps_the_newest() -> None:
    queue: DropOldestQueue[int] = DropOldestQueue(2)
    assert [queue.put(i) for i in range(5)] == [0, 0, 1, 1, 1]
    assert [queue.get(0.01), queue.get(0.01), queue.get(0.01)] == [3, 4, None]


def test_backoff_is_capped_exponential_with_jitter() -> None:
    backoff = Backoff(0.5, 4.0, random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    caps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    assert all(cap / 2 <= d <= cap for d, cap in zip(delays, caps, strict=True))
    assert len({round(d, 6) for d in delays[3:]}) > 1  # jittered, not a fixed beat
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_analysis_is_paced_to_the_camera_fps(workers: list[CameraWorker]) -> None:
    source = ScriptedSource(fps=50)
    worker = make_worker(source, [SlowDetector(0.0)], CollectingSink(), fps=10)
    workers.append(worker)
    worker.start()
    time.sleep(2.0)
    health = worker.snapshot()
    assert health.online and health.state == "online"
    assert 35 <= health.fps_in <= 60, health
    assert 8 <= health.fps_analysed <= 12, health
    assert health.dropped_frames <= 2, health  # none, unless a loaded machine stalls a thread


def test_a_slow_detector_stalls_neither_decoding_nor_another_camera(
    workers: list[CameraWorker],
) -> None:
    slow = make_worker(ScriptedSource(fps=50), [SlowDetector(0.5)], CollectingSink(), fps=25)
    fast = make_worker(ScriptedSource(fps=50), [SlowDetector(0.0)], CollectingSink(), fps=25)
    workers += [slow, fast]
    slow.start()
    fast.start()
    time.sleep(2.5)
    s, f = slow.snapshot(), fast.snapshot()
    # Decoding runs at the source's rate on both (with slack for a loaded CI machine).
    assert s.fps_in >= 35 and f.fps_in >= 35, (s, f)
    assert s.fps_analysed <= 2.5 and s.dropped_frames >= 30, s  # the slow one drops the oldest
    assert f.fps_analysed >= 17 and f.dropped_frames <= 3, f  # the other one keeps up


def test_a_failing_detector_is_counted_and_survived(workers: list[CameraWorker]) -> None:
    worker = make_worker(ScriptedSource(), [BrokenDetector()], CollectingSink())
    workers.append(worker)
    worker.start()
    assert wait_for(lambda: worker.snapshot().detector_errors >= 3, 5)
    assert worker.snapshot().online


def test_reconnects_after_open_failures_and_a_broken_stream(workers: list[CameraWorker]) -> None:
    source = ScriptedSource(fps=50, fail_opens=3, break_after=20)
    worker = make_worker(source, [], CollectingSink())
    workers.append(worker)
    worker.start()
    assert wait_for(lambda: source.opens >= 5 and worker.snapshot().online, 5)
    health = worker.snapshot()
    assert health.reconnects >= 4
    assert health.outages == 2  # never came up (1), then lost mid-stream (2)
    assert health.last_outage_s is not None and health.last_outage_s > 0
    assert health.last_error is not None and "connection lost" in health.last_error


def test_offline_for_the_configured_time_raises_camera_offline(
    workers: list[CameraWorker],
) -> None:
    sink = CollectingSink()
    source = ScriptedSource(fail_opens=1000)
    settings = WorkerSettings(backoff_initial_s=0.05, backoff_max_s=0.1, offline_alert_s=0.5)
    worker = make_worker(source, [], sink, settings)
    workers.append(worker)
    worker.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not sink.alerts:
        worker.tick()
        time.sleep(0.1)
    worker.tick()
    assert sink.kinds() == ["camera_offline"]  # once per outage, not once per tick
    alert = sink.alerts[0]
    assert alert.camera_id == "CAM-T" and "offline" in alert.summary
    assert "***" in str(alert.details["source"])


def test_alert_gets_a_snapshot_and_a_clip_of_the_window(
    tmp_path: Path, workers: list[CameraWorker]
) -> None:
    sink = CollectingSink()
    evidence = EvidenceStore(tmp_path / "evidence", 50 * 1024**2)
    settings = WorkerSettings(
        evidence=EvidenceSettings(fps=10, width=64, clip_before_s=1.0, clip_after_s=1.0)
    )
    worker = make_worker(
        ScriptedSource(fps=25), [SlowDetector(0.0, alert_on=30)], sink, settings, evidence
    )
    workers.append(worker)
    worker.start()
    assert wait_for(lambda: bool(sink.alerts), 10)
    alert = sink.alerts[0]
    assert alert.camera_id == "CAM-T"
    kinds = {ref.kind: ref for ref in alert.evidence}
    assert (tmp_path / kinds["snapshot"].path).stat().st_size > 0
    clip = tmp_path / kinds["clip"].path
    assert wait_for(lambda: _tick_and_check(worker, clip), 8)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream) if f.time is not None]
    # Window: 0.5 s before started (= confirmed - 0.5) ... 1 s after confirmed = 2.5 s at 10 fps.
    assert 2.1 <= times[-1] - times[0] <= 2.6
    assert 20 <= len(times) <= 27


def _tick_and_check(worker: CameraWorker, clip: Path) -> bool:
    worker.tick()
    return clip.exists()


def test_evidence_retention_deletes_the_oldest(tmp_path: Path) -> None:
    import numpy as np

    store = EvidenceStore(tmp_path / "evidence", 60_000)
    noise = np.random.default_rng(1).integers(0, 255, (240, 320, 3), np.uint8)
    refs = []
    for i in range(8):
        now = SystemClock().now() + timedelta(seconds=i)
        alert = Alert(kind="k", started_at=now, confirmed_at=now, confidence=1, camera_id="C")
        refs.append(store.snapshot(alert, noise))
    assert store.total_bytes <= 60_000
    assert not (tmp_path / refs[0].path).exists()
    assert (tmp_path / refs[-1].path).exists()
    again = EvidenceStore(tmp_path / "evidence", 60_000)  # a restart finds what is on disk
    assert again.total_bytes == store.total_bytes


def test_stop_is_prompt_while_the_source_is_failing(workers: list[CameraWorker]) -> None:
    worker = make_worker(ScriptedSource(fail_opens=1000), [], CollectingSink())
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    worker.stop()
    assert time.monotonic() - started < 1.0
    assert worker.snapshot().state == "stopped"
    assert not any(t.is_alive() for t in threading.enumerate() if t.name.startswith("cam-CAM-T"))
