"""The disk for evidence fills up: alerts still become cases, their evidence is marked
missing with the reason, and evidence is written again once there is room.

The evidence directory is a 1 MiB tmpfs mounted for the test and filled to the
last byte by a filler file, so the kernel itself answers ENOSPC ("No space left
on device") exactly as a full disk does — the error the hub must handle. The
alternatives were weighed: a file-size limit (RLIMIT_FSIZE) gives EFBIG and a
SIGXFSZ, not ENOSPC; pointing files at /dev/full needs links planted at the
paths the hub will choose; a loop-mounted image needs the same privilege as
tmpfs plus a mkfs. Mounting needs root (CAP_SYS_ADMIN), which the CI container
has, like the development one; elsewhere the test is skipped with the reason
(and fails under CI=true, as a missing service does).

The camera worker is the hub's real one writing to the hub's own evidence store
and alert intake; only its picture source and detector are scripted (seams we
own), so the test says when alerts happen.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from hub.api.app import create_app
from hub.cameras.evidence import EvidenceSettings
from hub.cameras.health import CameraHealth
from hub.cameras.metrics import CameraCollector
from hub.cameras.worker import CameraWorker, WorkerParts, WorkerSettings
from hub.clock import SystemClock
from hub.hub import Hub
from hub.infra.ticker import Ticker
from hub.model import Alert, Frame
from tests.camera_support import ScriptedSource
from tests.conftest import HubFactory, _unavailable, auth_headers, metric, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.mqtt]

CAMERA = "CAM-QH-F01"  # a camera of the demo site: its alerts have a place, so become cases


class CueDetector:
    """Raises one `intrusion` alert (a new region each time, so a new case) per `fire()`."""

    kind = "cue"

    def __init__(self) -> None:
        self.raised = 0
        self._cued = 0
        self._lock = threading.Lock()

    def fire(self, times: int = 1) -> None:
        with self._lock:
            self._cued += times

    def process(self, frame: Frame) -> list[Alert]:
        with self._lock:
            if self._cued == 0:
                return []
            self._cued -= 1
            self.raised += 1
            n = self.raised
        return [Alert(kind="intrusion", started_at=frame.wall - timedelta(seconds=0.3),
                      confirmed_at=frame.wall, confidence=0.8, region=f"zone-{n}",
                      overlay=(((0.2, 0.2), (0.8, 0.8)),))]  # fmt: skip


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs at tmp_path/data/evidence, unmounted after the test."""
    mount = tmp_path / "data" / "evidence"
    mount.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "gridhub-evidence",
                           str(mount)], capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        _unavailable(f"cannot mount a small tmpfs for evidence (needs root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def fill(directory: Path) -> Path:
    """Write a file until the filesystem says ENOSPC; return it (delete it to free the room)."""
    filler = directory / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def hub(hub_factory: HubFactory, demo_raw: dict[str, Any], small_disk: Path) -> Hub:
    demo_raw["site"]["data_dir"] = str(small_disk.parent)
    return hub_factory(raw=demo_raw)


def camera_worker(hub: Hub, detector: CueDetector) -> CameraWorker:
    """A worker of the hub's: its alerts go to the hub's intake, its files to its store."""
    parts = WorkerParts(CAMERA, 10.0, ScriptedSource(fps=25, size=(96, 64)), [detector],
                        hub.alerts, hub.cameras.evidence, SystemClock())  # fmt: skip
    evidence = EvidenceSettings(fps=10, width=96, clip_before_s=0.5, clip_after_s=0.5)
    return CameraWorker(parts, WorkerSettings(evidence=evidence))


def _evidence(client: TestClient, headers: dict[str, str], hub: Hub) -> list[dict[str, Any]]:
    """Every evidence item of every case, oldest case first."""
    with hub.pool.connection() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM cases ORDER BY id").fetchall()]
    listings = [client.get(f"/api/cases/{i}/evidence", headers=headers).json() for i in ids]
    return [item for listing in listings for item in listing]


def _cases(hub: Hub) -> int:
    with hub.pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM cases WHERE camera_id = %s", (CAMERA,)).fetchone()
    return int(row[0]) if row else 0


def _exported(health: CameraHealth, name: str) -> float | None:
    """The camera's sample as /metrics exports it (the hub's collector, over this worker)."""
    registry = CollectorRegistry()
    registry.register(CameraCollector(lambda: [health]))
    return registry.get_sample_value(name, {"camera": health.camera_id})


def test_full_evidence_disk_still_makes_cases_and_marks_the_evidence_missing(
    hub: Hub, small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hub.cameras")
    filler = fill(small_disk)
    detector = CueDetector()
    worker = camera_worker(hub, detector)
    worker.start()
    ticks = Ticker("test-camera-tick", worker.tick, interval_s=0.5)  # as the manager does
    ticks.start()
    try:
        detector.fire(3)
        wait_until(lambda: _cases(hub) == 3, timeout=15)
        filler.unlink()  # room again
        detector.fire(2)
        wait_until(lambda: _cases(hub) == 5, timeout=15)
        analysed = worker.snapshot().frames_analysed
        wait_until(lambda: worker.snapshot().frames_analysed > analysed + 5)  # still at work
        with TestClient(create_app(hub)) as client:
            headers = auth_headers(hub, "operator")
            wait_until(
                lambda: all(i["available"] for i in _evidence(client, headers, hub)[6:]), timeout=15
            )  # the last two clips are written once their window closes
            items = _evidence(client, headers, hub)
        health = worker.snapshot()
    finally:
        ticks.stop()
        worker.stop()

    full = "No space left on device"
    assert detector.raised == 5 and hub.alerts.pending == 0
    assert metric(hub, "gridhub_alerts_total", kind="intrusion", outcome="opened") == 5
    assert [(i["kind"], i["available"], i["missing"]) for i in items] == [
        *[("snapshot", False, full), ("clip", False, full)] * 3,
        *[("snapshot", True, None), ("clip", True, None)] * 2,
    ]
    assert health.evidence_failures == 6
    assert _exported(health, "gridhub_camera_evidence_failures_total") == 6
    refused = [r for r in caplog.records if "evidence cannot be written" in r.getMessage()]
    assert len(refused) == 1 and full in refused[0].getMessage()  # logged once, not per file
    assert "evidence is written again" in caplog.text and "6 file(s) missed" in caplog.text
    assert not [p for p in small_disk.rglob("*") if ".part" in p.suffixes]  # no half files
