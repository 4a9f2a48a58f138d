"""Loitering (徘徊逗留): one tracked object staying in a zone longer than `dwell_s`.

Each track has its own timer: one alert per track per zone, however long it stays;
a track hidden for less than `track_lost_s` keeps its time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field

from detectors.rules.common import (
    Finding,
    ObjectRuleSettings,
    TrackedObjects,
    ZoneShape,
    rule_alert,
)
from detectors.settings import parse_settings, spec_zones
from detectors.zones.episodes import EpisodeRules, EpisodeTimer, Event
from detectors.zones.geometry import points_in_polygon
from hub.clock import Clock
from hub.config import Camera, DetectorSpec
from hub.model import Alert, Frame

KIND = "loitering"


class LoiteringSettings(ObjectRuleSettings):
    """Settings of a `loitering` detector."""

    dwell_s: float = Field(default=120, gt=0, description="Seconds in the zone that are loitering.")


@dataclass
class LoiterWatch:
    shape: ZoneShape
    timers: dict[int, EpisodeTimer] = field(default_factory=dict)
    entered: dict[int, float] = field(default_factory=dict)


@dataclass
class LoiteringDetector:
    objects: TrackedObjects
    watches: list[LoiterWatch]
    rules: EpisodeRules
    kind: str = KIND

    def process(self, frame: Frame) -> list[Alert]:
        tracked = self.objects(frame)
        anchors = tracked.anchors(self.objects.anchor)
        out = []
        for watch in self.watches:
            inside = tracked[points_in_polygon(anchors, watch.shape.points(frame))]
            ids = set(inside.track_ids.tolist())
            for track_id in ids | set(watch.timers):
                timer = watch.timers.setdefault(track_id, EpisodeTimer(self.rules))
                entered = watch.entered.setdefault(track_id, frame.mono)
                event = timer.update(frame.mono, entered if track_id in ids else None)
                if event is Event.ALERT:
                    who = inside[inside.track_ids == track_id]
                    zone = watch.shape.zone
                    summary = (
                        f"loitering in {zone.label or zone.id} for {frame.mono - entered:.0f} s"
                    )
                    details = {"track_id": track_id, "dwell_s": round(frame.mono - entered, 1)}
                    out.append(
                        rule_alert(KIND, frame, Finding(zone, entered, who, summary, details))
                    )
                if not timer.open:
                    del watch.timers[track_id], watch.entered[track_id]
        return out


class LoiteringPlugin:
    kind = KIND

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> LoiteringDetector:
        s = parse_settings(LoiteringSettings, camera, spec)
        rules = EpisodeRules(dwell_s=s.dwell_s, clear_s=s.track_lost_s)
        watches = [LoiterWatch(ZoneShape(zone)) for zone in spec_zones(camera, spec, "polygon")]
        return LoiteringDetector(TrackedObjects.build(camera, spec, s), watches, rules)


plugin = LoiteringPlugin()
