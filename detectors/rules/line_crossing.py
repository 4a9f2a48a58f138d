"""Line crossing (越线) with direction: a tracked object's anchor crossing a line zone.

Direction is named by the side the object crosses *into*, seen walking along the
line from its first point to its last: for a line drawn left to right across
the picture, ``left`` is upwards (away from the camera) and ``right`` downwards.
A track alerts at most once per `cooldown_s` per line (jitter on the line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import Field

from detectors.detections import Detections
from detectors.rules.common import (
    Finding,
    ObjectRuleSettings,
    TrackedObjects,
    ZoneShape,
    rule_alert,
)
from detectors.settings import parse_settings, spec_zones
from detectors.zones.geometry import crossings
from hub.clock import Clock
from hub.config import Camera, DetectorSpec
from hub.model import Alert, Frame

KIND = "line_crossing"
DIRECTION = {1: "left", -1: "right"}


class LineCrossingSettings(ObjectRuleSettings):
    """Settings of a `line_crossing` detector."""

    direction: Literal["any", "left", "right"] = Field(
        default="any", description="Side crossed into that alerts (see the module docs)."
    )
    cooldown_s: float = Field(default=10, ge=0, description="Seconds before a track alerts again.")


@dataclass
class LineWatch:
    shape: ZoneShape
    last_alert: dict[int, float] = field(default_factory=dict)


@dataclass
class LineCrossingDetector:
    objects: TrackedObjects
    watches: list[LineWatch]
    settings: LineCrossingSettings
    kind: str = KIND
    previous: dict[int, tuple[float, float]] = field(default_factory=dict)

    def process(self, frame: Frame) -> list[Alert]:
        tracked = self.objects(frame)
        anchors = tracked.anchors(self.objects.anchor)
        ids = tracked.track_ids.tolist()
        known = np.array([i in self.previous for i in ids], dtype=bool)
        before = np.array([self.previous.get(i, (0.0, 0.0)) for i in ids], dtype=np.float32)
        out = []
        for watch in self.watches:
            crossed = crossings(before.reshape(-1, 2), anchors, watch.shape.points(frame))
            for row in np.flatnonzero(known & (crossed != 0)):
                alert = self._alert(frame, watch, tracked[np.array([row])], int(crossed[row]))
                if alert is not None:
                    out.append(alert)
        self.previous = {i: (float(x), float(y)) for i, (x, y) in zip(ids, anchors, strict=True)}
        return out

    def _alert(self, frame: Frame, watch: LineWatch, who: Detections, sign: int) -> Alert | None:
        direction = DIRECTION[sign]
        track_id = int(who.track_ids[0])
        last = watch.last_alert.get(track_id)
        if self.settings.direction not in ("any", direction) or (
            last is not None and frame.mono - last < self.settings.cooldown_s
        ):
            return None
        watch.last_alert[track_id] = frame.mono
        zone = watch.shape.zone
        summary = f"crossed {zone.label or zone.id} to the {direction}"
        details = {"track_id": track_id, "direction": direction}
        return rule_alert(KIND, frame, Finding(zone, frame.mono, who, summary, details))


class LineCrossingPlugin:
    kind = KIND

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> LineCrossingDetector:
        s = parse_settings(LineCrossingSettings, camera, spec)
        watches = [LineWatch(ZoneShape(zone)) for zone in spec_zones(camera, spec, "line")]
        return LineCrossingDetector(TrackedObjects.build(camera, spec, s), watches, s)


plugin = LineCrossingPlugin()
