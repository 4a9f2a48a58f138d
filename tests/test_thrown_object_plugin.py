"""The `thrown_object` plugin: registered by entry point, settings validated with field paths."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from detectors.thrown_object.detector import ThrownObjectDetector
from detectors.thrown_object.plugin import plugin
from hub.clock import FakeClock
from hub.config import Camera
from hub.errors import ConfigError
from hub.model import Frame
from hub.plugins import DETECTORS, load_registry

FACADE = [[0.2, 0.05], [0.8, 0.05], [0.8, 0.95]]
AT = "cameras[cam1].detectors[thrown_object]"
FLOORS = {"lines": [0.1, 0.3, 0.5, 0.7, 0.9], "top_floor": 8}


def camera(zone_kind: str = "polygon", **settings: Any) -> Camera:
    return Camera.model_validate(
        {
            "id": "cam1",
            "name": "Block 3 facade",
            "url": "file:///clips/block3.mp4",
            "location": {"lat": 31.2, "lon": 121.5},
            "zones": [
                {"id": "lawn", "kind": "polygon", "points": [[0, 0.9], [1, 0.9], [1, 1]]},
                {"id": "facade", "kind": zone_kind, "points": FACADE},
            ],
            "detectors": [
                {"kind": "fire_lane", "zones": ["lawn"]},
                {"kind": "thrown_object", "zones": ["facade"], **settings},
            ],
        }
    )


def build(cam: Camera) -> ThrownObjectDetector:
    return plugin.build(cam, cam.detectors[1], FakeClock())


def test_the_entry_point_names_the_plugin() -> None:
    assert load_registry([DETECTORS]).get(DETECTORS, "thrown_object") is plugin


def test_builds_a_detector_with_defaults() -> None:
    detector = build(camera(floors=FLOORS))
    assert detector.kind == "thrown_object"
    assert detector.zone.id == "facade"
    assert detector.settings.scale == 0.5
    assert detector.settings.floors.top_floor == 8


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"floors": FLOORS, "min_track_frames": 2},
            AT + ".min_track_frames: Input should be greater than or equal to 4",
        ),
        ({"floors": FLOORS, "scale": "big"}, AT + ".scale: Input should be a valid number"),
        (
            {"floors": FLOORS, "min_trak_frames": 9},
            AT + ".min_trak_frames: Extra inputs are not permitted",
        ),
        ({}, AT + ".floors: Field required"),
        (
            {"floors": {**FLOORS, "lines": [0.5, 0.2]}},
            AT + ".floors: Value error, lines must increase",
        ),
        (
            {"floors": {**FLOORS, "top_floor": "x"}},
            AT + ".floors.top_floor: Input should be a valid integer",
        ),
        (
            {"floors": FLOORS, "accel_ratio_min": 3.0},
            AT + ": Value error, accel_ratio_max must exceed",
        ),
    ],
)
def test_bad_settings_name_the_field(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build(camera(**settings))
    assert message in str(caught.value)


def test_the_facade_zone_must_exist_and_be_a_polygon() -> None:
    cam = camera(floors=FLOORS)
    spec = cam.detectors[1].model_copy(update={"zones": ["roof"]})
    with pytest.raises(
        ConfigError, match=r"detectors\[thrown_object\].zones: camera cam1 has no zone 'roof'"
    ):
        plugin.build(cam, spec, FakeClock())
    with pytest.raises(ConfigError, match="zone 'facade' is a line, not a polygon"):
        build(camera(zone_kind="line", floors=FLOORS))


def test_a_frame_that_is_not_bgr_is_counted_and_skipped() -> None:
    detector = build(camera(floors=FLOORS))
    grey = Frame("cam1", 1, 0.0, datetime(2026, 1, 1, tzinfo=UTC), np.zeros((90, 160), np.uint8))
    assert detector.process(grey) == []
    assert detector.rejected_frames == 1
