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
    Sighting,
    TrackedObjects,
    ZoneRuleDetector,
    ZoneShape,
)
from detectors.settings import parse_settings, spec_zones
from detectors.zones.geometry import crossings
from hub.clock import Clock
from hub.config import Camera, DetectorSpec
from hub.seams import DetectorScenario

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
    """One line: where each track's anchor was on the previous frame, and its last alert."""

    shape: ZoneShape
    settings: LineCrossingSettings
    previous: dict[int, tuple[float, float]] = field(default_factory=dict)
    last_alert: dict[int, float] = field(default_factory=dict)

    def observe(self, seen: Sighting) -> list[Finding]:
        ids = seen.objects.track_ids.tolist()
        known = np.array([i in self.previous for i in ids], dtype=bool)
        before = np.array([self.previous.get(i, (0.0, 0.0)) for i in ids], dtype=np.float32)
        crossed = crossings(before.reshape(-1, 2), seen.anchors, self.shape.points(seen.frame))
        found = []
        for row in np.flatnonzero(known & (crossed != 0)):
            finding = self._finding(seen, seen.objects[np.array([row])], int(crossed[row]))
            if finding is not None:
                found.append(finding)
        self.previous = {
            i: (float(x), float(y)) for i, (x, y) in zip(ids, seen.anchors, strict=True)
        }
        return found

    def _finding(self, seen: Sighting, who: Detections, sign: int) -> Finding | None:
        direction, now = DIRECTION[sign], seen.frame.mono
        track_id = int(who.track_ids[0])
        last = self.last_alert.get(track_id)
        if self.settings.direction not in ("any", direction) or (
            last is not None and now - last < self.settings.cooldown_s
        ):
            return None
        self.last_alert[track_id] = now
        zone = self.shape.zone
        summary = f"crossed {zone.label or zone.id} to the {direction}"
        details = {"track_id": track_id, "direction": direction}
        return Finding(zone, now, who, summary, details)


class LineCrossingPlugin:
    kind = KIND
    scenario = DetectorScenario(KIND, "越线", "Line crossing", severity=2)
    settings = LineCrossingSettings

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> ZoneRuleDetector:
        s = parse_settings(LineCrossingSettings, camera, spec)
        watches = [LineWatch(ZoneShape(zone), s) for zone in spec_zones(camera, spec, "line")]
        return ZoneRuleDetector(KIND, TrackedObjects.build(camera, spec, s), watches)


plugin = LineCrossingPlugin()
