"""Crowding (人员聚集): more than `max_count` watched objects in a zone for `min_s`.

One alert per episode; the episode ends when the count has stayed at or under
the limit for `clear_s`.
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

KIND = "crowding"


class CrowdingSettings(ObjectRuleSettings):
    """Settings of a `crowding` detector."""

    max_count: int = Field(ge=1, description="More objects than this in the zone is a crowd.")
    min_s: float = Field(default=10, ge=0, description="Seconds the crowd must last.")
    clear_s: float = Field(default=10, gt=0, description="Seconds under the limit that end it.")
    cooldown_s: float = Field(default=300, ge=0, description="Seconds between two alerts.")


@dataclass
class CrowdWatch:
    shape: ZoneShape
    timer: EpisodeTimer
    crowded: Continuity


@dataclass
class CrowdingDetector:
    objects: TrackedObjects
    watches: list[CrowdWatch]
    max_count: int
    kind: str = KIND

    def process(self, frame: Frame) -> list[Alert]:
        tracked = self.objects(frame)
        anchors = tracked.anchors(self.objects.anchor)
        out = []
        for watch in self.watches:
            inside = tracked[points_in_polygon(anchors, watch.shape.points(frame))]
            since = watch.crowded.update(frame.mono, len(inside) > self.max_count)
            if watch.timer.update(frame.mono, since) is Event.ALERT:
                zone = watch.shape.zone
                summary = f"{len(inside)} people gathered in {zone.label or zone.id}"
                details = {"count": len(inside), "max_count": self.max_count}
                out.append(
                    rule_alert(KIND, frame, Finding(zone, since or 0.0, inside, summary, details))
                )
        return out


class CrowdingPlugin:
    kind = KIND

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> CrowdingDetector:
        s = parse_settings(CrowdingSettings, camera, spec)
        rules = EpisodeRules(dwell_s=s.min_s, clear_s=s.clear_s, cooldown_s=s.cooldown_s)
        watches = [
            CrowdWatch(ZoneShape(zone), EpisodeTimer(rules), Continuity(s.track_lost_s))
            for zone in spec_zones(camera, spec, "polygon")
        ]
        return CrowdingDetector(TrackedObjects.build(camera, spec, s), watches, s.max_count)


plugin = CrowdingPlugin()
