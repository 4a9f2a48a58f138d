"""The evaluation harness: run the detector over a clip directory and score it.

Each clip is decoded with OpenCV and handed frame by frame (its own timestamps
as mono and wall time) to a detector built through the real plugin seam from
the clip's sidecar. Alerts are matched to ground-truth throws by time: an alert
confirmed between a throw's release and `MATCH_WINDOW_S` after its end is a hit;
every other alert is a false alarm. A clip that cannot be read is reported as
an error and the run goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detectors.thrown_object.detector import ThrownObjectDetector
from detectors.thrown_object.plugin import plugin
from evaluation.thrown_object.sidecar import ClipTruth, ThrowEvent, read_truth
from hub.clock import SystemClock
from hub.config import Camera, DetectorSpec, Location, Zone
from hub.errors import ClipError, HubError
from hub.model import Alert, Frame

log = logging.getLogger(__name__)

MATCH_WINDOW_S = 2.0
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class AlertHit:
    """One alert of a clip, and the throw it matched (index into the clip's events)."""

    confirmed_s: float
    floor: int
    floor_confidence: float
    event: int | None


@dataclass(frozen=True, slots=True)
class ClipResult:
    """What the detector did on one clip."""

    clip: str
    truth: ClipTruth
    alerts: list[AlertHit]
    frames: int
    detector_cpu_s: float
    decode_cpu_s: float


@dataclass
class RunResult:
    """All clips of a run, and the ones that could not be evaluated."""

    clips: list[ClipResult] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def build_detector(truth: ClipTruth, overrides: Mapping[str, Any]) -> ThrownObjectDetector:
    """A detector for the clip's camera, built by the plugin from a camera config."""
    camera = Camera(
        id="eval",
        name=truth.clip,
        url="file:///" + truth.clip,
        location=Location(lat=0.0, lon=0.0),
        zones=[Zone(id="facade", kind="polygon", points=truth.facade)],
        detectors=[
            DetectorSpec(
                kind="thrown_object",
                zones=["facade"],
                floors=truth.calibration.model_dump(),
                **dict(overrides),
            )
        ],
    )
    return plugin.build(camera, camera.detectors[0], SystemClock())


def run_clip(video: Path, truth: ClipTruth, overrides: Mapping[str, Any]) -> ClipResult:
    """Decode `video`, feed every frame to a fresh detector, match its alerts."""
    detector = build_detector(truth, overrides)
    cv2.setNumThreads(1)  # CPU time per frame is then one core's work
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise ClipError(f"{video}: cannot open video")
    alerts: list[Alert] = []
    decode_cpu = detect_cpu = 0.0
    index = 0
    try:
        while True:
            started = time.process_time()
            ok, image = capture.read()
            decode_cpu += time.process_time() - started
            if not ok:
                break
            t = index / truth.fps
            wall = truth.start_wall + timedelta(seconds=t)
            frame = Frame("eval", index, t, wall, np.asarray(image, np.uint8))
            started = time.process_time()
            alerts.extend(detector.process(frame))
            detect_cpu += time.process_time() - started
            index += 1
    finally:
        capture.release()
    if index == 0:
        raise ClipError(f"{video}: no frame could be decoded")
    hits = match_alerts(alerts, truth)
    return ClipResult(truth.clip, truth, hits, index, detect_cpu, decode_cpu)


def match_alerts(alerts: list[Alert], truth: ClipTruth) -> list[AlertHit]:
    """Match alerts to throws by time, each throw at most once."""
    taken: set[int] = set()
    hits = []
    for alert in sorted(alerts, key=lambda a: a.confirmed_at):
        confirmed = (alert.confirmed_at - truth.start_wall).total_seconds()
        event = _matching_event(confirmed, truth.events, taken)
        if event is not None:
            taken.add(event)
        hits.append(
            AlertHit(
                confirmed_s=round(confirmed, 3),
                floor=int(alert.details["floor"]),
                floor_confidence=float(alert.details["floor_confidence"]),
                event=event,
            )
        )
    return hits


def _matching_event(confirmed: float, events: list[ThrowEvent], taken: set[int]) -> int | None:
    for index, event in enumerate(events):
        if index not in taken and event.start_s <= confirmed <= event.end_s + MATCH_WINDOW_S:
            return index
    return None


def run_directory(
    clips: Path, overrides: Mapping[str, Any], progress: Progress | None = None
) -> RunResult:
    """Evaluate every sidecar's clip in `clips`; unreadable clips become errors."""
    sidecars = sorted(clips.glob("*.json"))
    sidecars = [p for p in sidecars if not p.name.startswith("evaluation")]
    if not sidecars:
        raise ClipError(f"{clips}: no clip sidecars (*.json) found")
    result = RunResult()
    for number, sidecar in enumerate(sidecars):
        if progress:
            progress(number, len(sidecars), sidecar.stem)
        try:
            truth = read_truth(sidecar)
            result.clips.append(run_clip(sidecar.parent / truth.clip, truth, overrides))
        except HubError as exc:
            log.warning("%s", exc)
            result.errors[sidecar.stem] = str(exc)
    if progress:
        progress(len(sidecars), len(sidecars), "done")
    return result
