"""Intrusion (区域入侵): a watched object inside a restricted zone for `min_s`.

One alert per zone per episode; the episode ends when the zone has been empty
for `clear_s`, and a new one may alert `cooldown_s` after that.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from detectors.rules.common import (
    Finding,
    ObjectRuleSettings,
    TrackedObjects,
    ZoneShape,
    rule_alert,
)
from detectors.settings import parse_settings, spec_zones
from detectors.zones.episodes import Continuity, EpisodeRules, EpisodeTimer, Event
from detectors.zones.geometry import points_in_polygon
from hub.clock import Clock
from hub.config import Camera, DetectorSpec
from hub.model import Alert, Frame

KIND = "intrusion"


class IntrusionSettings(ObjectRuleSettings):
    """Settings of an `intrusion` detector."""

    min_s: float = Field(default=1, ge=0, description="Seconds inside before it counts.")
    clear_s: float = Field(default=5, gt=0, description="Seconds empty that end the episode.")
    cooldown_s: float = Field(default=60, ge=0, description="Seconds between two episodes' alerts.")


@dataclass
class ZoneWatch:
    shape: ZoneShape
    timer: EpisodeTimer
    presence: Continuity


@dataclass
class IntrusionDetector:
    objects: TrackedObjects
    watches: list[ZoneWatch]
    kind: str = KIND

    def process(self, frame: Frame) -> list[Alert]:
        tracked = self.objects(frame)
        out = []
        for watch in self.watches:
            inside = tracked[
                points_in_polygon(tracked.anchors(self.objects.anchor), watch.shape.points(frame))
            ]
            since = watch.presence.update(frame.mono, len(inside) > 0)
            if watch.timer.update(frame.mono, since) is Event.ALERT:
                zone = watch.shape.zone
                summary = f"{len(inside)} object(s) in {zone.label or zone.id}"
                finding = Finding(
                    zone, since or frame.mono, inside, summary, {"count": len(inside)}
                )
                out.append(rule_alert(KIND, frame, finding))
        return out


class IntrusionPlugin:
    kind = KIND

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> IntrusionDetector:
        s = parse_settings(IntrusionSettings, camera, spec)
        rules = EpisodeRules(dwell_s=s.min_s, clear_s=s.clear_s, cooldown_s=s.cooldown_s)
        watches = [
            ZoneWatch(ZoneShape(zone), EpisodeTimer(rules), Continuity(s.track_lost_s))
            for zone in spec_zones(camera, spec, "polygon")
        ]
        return IntrusionDetector(TrackedObjects.build(camera, spec, s), watches)


plugin = IntrusionPlugin()
