"""Intrusion, crowding, loitering and line crossing, built by their plugins from a camera
config, with scripted people (our `ObjectModel` seam) through the real ByteTrack."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from detectors.detections import Detections
from hub.clock import FakeClock
from hub.config import Camera
from hub.errors import ConfigError
from hub.model import Alert, Frame
from hub.plugins import DETECTORS, load_registry
from hub.seams import Detector
from tests.detect_support import person_weights

ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)
BLANK = np.zeros((500, 1000, 3), np.uint8)
Box = tuple[float, float, float, float]
Script = Callable[[int], list[Box]]
YARD = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]]


@dataclass
class ScriptedModel:
    """Boxes scripted per analysed second, class 0 ("Normal": a person)."""

    script: Script
    names: Mapping[int, str]
    t: int = 0

    def detect(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[Detections]:
        boxes = self.script(self.t)
        self.t += 1
        return [Detections.of(boxes, [0.9] * len(boxes), [0] * len(boxes))]


def build(kind: str, settings: Mapping[str, Any], zones: Sequence[str], script: Script) -> Detector:
    camera = Camera.model_validate(
        {
            "id": "CAM-2",
            "name": "gate",
            "url": "rtsp://127.0.0.1/gate",
            "location": {"lat": 30.0, "lon": 120.0},
            "analysis_fps": 1,
            "zones": [
                {"id": "yard", "kind": "polygon", "points": YARD},
                {"id": "gate", "kind": "line", "points": [[0.0, 0.5], [1.0, 0.5]]},
            ],
            "detectors": [
                {
                    "kind": kind,
                    "zones": list(zones),
                    "model": {"weights": str(person_weights(".onnx"))},
                    "classes": ["Normal"],
                    **settings,
                }
            ],
        }
    )  # fmt: skip
    plugin = load_registry([DETECTORS]).get(DETECTORS, kind)
    assert plugin.kind == kind
    detector = plugin.build(camera, camera.detectors[0], FakeClock())
    objects = getattr(detector, "objects")  # noqa: B009 - every rule keeps its TrackedObjects there
    objects.model = ScriptedModel(script, objects.model.names)
    return detector


def run(detector: Detector, seconds: int) -> list[Alert]:
    alerts = []
    for t in range(seconds):
        alerts += detector.process(Frame("CAM-2", t, t, ORIGIN + timedelta(seconds=t), BLANK))
    return alerts


def person(x: float, y: float) -> Box:
    """A person whose feet stand at (x, y) pixels."""
    return (x - 20, y - 80, x + 20, y)


def at(alerts: list[Alert]) -> list[tuple[str, float]]:
    return [(a.kind, (a.confirmed_at - ORIGIN).total_seconds()) for a in alerts]


def test_intrusion_alerts_once_per_episode_with_cooldown() -> None:
    def script(t: int) -> list[Box]:
        inside = 5 <= t < 15 or 25 <= t < 30 or 100 <= t < 110
        return [person(500, 300)] if inside else [person(100, 450)]

    detector = build("intrusion", {"min_s": 2, "clear_s": 5, "cooldown_s": 60}, ["yard"], script)
    alerts = run(detector, 120)
    # Enters at 5 (confirmed as a track at 6: ByteTrack's second sighting), 2 s → 8.
    # The visit at 25-30 is within the cooldown after the first episode ended (~19);
    # the one at 100 is not: confirmed at 101, alert at 103.
    assert at(alerts) == [("intrusion", 8.0), ("intrusion", 103.0)]
    assert alerts[0].region == "yard" and alerts[0].details == {"count": 1}
    assert len(alerts[0].overlay) == 2  # the zone and the intruder's box


def test_crowding_needs_more_than_max_count_for_min_s() -> None:
    def script(t: int) -> list[Box]:
        crowd = 4 if 10 <= t < 40 else 2
        return [person(300 + 80 * i, 300) for i in range(crowd)]

    detector = build("crowding", {"max_count": 3, "min_s": 5, "clear_s": 5}, ["yard"], script)
    alerts = run(detector, 60)
    assert at(alerts) == [("crowding", 16.0)]
    assert alerts[0].details == {"count": 4, "max_count": 3}


def test_loitering_is_per_track_and_once() -> None:
    def script(t: int) -> list[Box]:
        boxes = [person(400, 300)] if 2 <= t < 40 else []  # stays 38 s
        if 10 <= t < 14:
            boxes.append(person(250 + 100 * (t - 10), 350))  # walks through in 4 s
        return boxes

    detector = build("loitering", {"dwell_s": 20}, ["yard"], script)
    alerts = run(detector, 50)
    assert at(alerts) == [("loitering", 23.0)]
    assert alerts[0].details["dwell_s"] == 20.0


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        # Feet cross y=250 between 3 and 4 s going down; coming back up the tracker's
        # Kalman-smoothed box lags the turn by a second (16-17 s → 18 s).
        ("any", [("line_crossing", 4.0, "right"), ("line_crossing", 18.0, "left")]),
        ("right", [("line_crossing", 4.0, "right")]),
        ("left", [("line_crossing", 18.0, "left")]),
    ],
)
def test_line_crossing_with_direction(
    direction: str, expected: list[tuple[str, float, str]]
) -> None:
    def script(t: int) -> list[Box]:
        y = 180 + 20 * t if t <= 10 else 380 - 20 * (t - 10)  # down across y=250, back up
        return [person(500, y)]

    detector = build("line_crossing", {"direction": direction, "cooldown_s": 5}, ["gate"], script)
    alerts = run(detector, 20)
    assert [
        (*hit, a.details["direction"]) for hit, a in zip(at(alerts), alerts, strict=True)
    ] == expected


@pytest.mark.parametrize(
    ("kind", "settings", "zones", "message"),
    [
        ("crowding", {}, ["yard"], r"detectors\[crowding\]\.max_count: Field required"),
        ("intrusion", {}, ["gate"], r"zone 'gate' is a line, need a polygon"),
        ("line_crossing", {"direction": "up"}, ["gate"], r"line_crossing\]\.direction: Input"),
        ("loitering", {"classes": ["cyclist"]}, ["yard"], r"classes: model has no class"),
    ],
)
def test_rule_settings_errors_name_the_field(
    kind: str, settings: dict[str, Any], zones: list[str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        build(kind, settings, zones, lambda t: [])
