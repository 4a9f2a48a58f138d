"""Score the fire-lane detector on clips with sidecar ground truth.

Each clip is played at the camera's analysis rate through a `FireLaneDetector`
built by the real plugin from a camera config, with frame times taken from the
video (no sleeping). An alert belongs to the episode whose span
``[start, end + clear_s + slack]`` holds it; anything else is a false alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detectors.fire_lane import KIND, FireLanePlugin
from evaluation.fire_lane.clips import ClipTruth, load_truth
from hub.clock import FakeClock
from hub.config import Camera
from hub.errors import HubError
from hub.model import Frame, alert_label

SLACK_S = 15.0
CLEARED = alert_label(KIND, cleared=True)  # events are alert labels: fire_lane, fire_lane_cleared


@dataclass
class ClipScore:
    """What happened on one clip."""

    name: str
    episodes: int
    detected: int = 0
    false_alerts: int = 0
    duplicates: int = 0
    false_clears: int = 0
    alert_delays: list[float] = field(default_factory=list)  # after start + dwell
    clear_delays: list[float] = field(default_factory=list)  # after the object left


def camera_for(truth: ClipTruth, settings: dict[str, Any], fps: float) -> Camera:
    return Camera.model_validate(
        {
            "id": "EVAL",
            "name": "evaluation",
            "url": f"file:///{truth.video}",
            "location": {"lat": 30.0, "lon": 120.0},
            "analysis_fps": fps,
            "zones": [{"id": "lane", "kind": "polygon", "points": [list(p) for p in truth.lane]}],
            "detectors": [{"kind": KIND, "zones": ["lane"], **settings}],
        }
    )


def run_clip(video: Path, settings: dict[str, Any], fps: float = 1.0) -> ClipScore:
    """Play one clip through the detector and score its alerts."""
    truth = load_truth(video.with_suffix(".json"))
    camera = camera_for(truth, settings, fps)
    detector = FireLanePlugin().build(camera, camera.detectors[0], FakeClock())
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise HubError(f"cannot open clip {video}")
    step = max(1, round(truth.fps / fps))
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    events: list[tuple[float, str]] = []
    index = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        if index % step == 0:
            t = index / truth.fps
            frame = Frame(
                "EVAL", index, t, origin + timedelta(seconds=t), np.asarray(image, np.uint8)
            )
            events += [(t, alert.label) for alert in detector.process(frame)]
        index += 1
    capture.release()
    return score(video.stem, truth, events, float(settings.get("dwell_s", 180)))


def score(
    name: str, truth: ClipTruth, events: list[tuple[float, str]], dwell_s: float
) -> ClipScore:
    """Match alerts to episodes. An episode shorter than `dwell_s` must not alert: it is
    not counted among the episodes, and an alert in it counts as false."""
    long_enough = [e.end - e.start >= dwell_s for e in truth.episodes]
    result = ClipScore(name, sum(long_enough))
    hits: dict[int, int] = {}
    for t, kind in events:
        owner = next(
            (i for i, e in enumerate(truth.episodes) if e.start <= t <= e.end + SLACK_S), None
        )
        if kind == KIND:
            if owner is None or not long_enough[owner]:
                result.false_alerts += 1
                continue
            hits[owner] = hits.get(owner, 0) + 1
            if hits[owner] == 1:
                result.alert_delays.append(t - (truth.episodes[owner].start + dwell_s))
        elif kind == CLEARED:
            if owner is None or t < truth.episodes[owner].end:
                result.false_clears += 1
            else:
                result.clear_delays.append(t - truth.episodes[owner].end)
    result.detected = len(hits)
    result.duplicates = sum(n - 1 for n in hits.values())
    return result


def table(scores: list[ClipScore]) -> str:
    """A Markdown table, one row per clip and a total."""
    lines = [
        "| clip | episodes | detected | false alerts | duplicates | false clears "
        "| alert after dwell (s) | clear after free (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in [*scores, _total(scores)]:
        lines.append(
            f"| {s.name} | {s.episodes} | {s.detected} | {s.false_alerts} | {s.duplicates} "
            f"| {s.false_clears} | {_span(s.alert_delays)} | {_span(s.clear_delays)} |"
        )
    return "\n".join(lines)


def _total(scores: list[ClipScore]) -> ClipScore:
    total = ClipScore("**total**", sum(s.episodes for s in scores))
    for s in scores:
        total.detected += s.detected
        total.false_alerts += s.false_alerts
        total.duplicates += s.duplicates
        total.false_clears += s.false_clears
        total.alert_delays += s.alert_delays
        total.clear_delays += s.clear_delays
    return total


def _span(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):.0f}..{max(values):.0f}"
