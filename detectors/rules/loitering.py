"""Loitering (徘徊逗留): one tracked object staying in a zone longer than `dwell_s`.

Each track has its own timer: one alert per track per zone, however long it stays;
a track hidden for less than `track_lost_s` keeps its time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
from detectors.zones.episodes import EpisodeRules, EpisodeTimer, Event
from hub.clock import Clock
from hub.config import Camera, DetectorSpec
from hub.seams import DetectorScenario

KIND = "loitering"


class LoiteringSettings(ObjectRuleSettings):
    """Settings of a `loitering` detector."""

    dwell_s: float = Field(default=120, gt=0, description="Seconds in the zone that are loitering.")


@dataclass
class LoiterWatch:
    """One zone's tracks: an episode timer each, counted from when the track entered."""

    shape: ZoneShape
    rules: EpisodeRules
    timers: dict[int, EpisodeTimer] = field(default_factory=dict)
    entered: dict[int, float] = field(default_factory=dict)

    def observe(self, seen: Sighting) -> list[Finding]:
        inside = seen.inside(self.shape)
        ids = set(inside.track_ids.tolist())
        found = []
        for track_id in ids | set(self.timers):
            timer = self.timers.setdefault(track_id, EpisodeTimer(self.rules))
            entered = self.entered.setdefault(track_id, seen.frame.mono)
            event = timer.update(seen.frame.mono, entered if track_id in ids else None)
            if event is Event.ALERT:
                who = inside[inside.track_ids == track_id]
                found.append(self._finding(seen, who, track_id, entered))
            if not timer.open:
                del self.timers[track_id], self.entered[track_id]
        return found

    def _finding(self, seen: Sighting, who: Detections, track_id: int, entered: float) -> Finding:
        zone, dwell_s = self.shape.zone, seen.frame.mono - entered
        summary = f"loitering in {zone.label or zone.id} for {dwell_s:.0f} s"
        details = {"track_id": track_id, "dwell_s": round(dwell_s, 1)}
        return Finding(zone, entered, who, summary, details)


class LoiteringPlugin:
    kind = KIND
    scenario = DetectorScenario(KIND, "徘徊逗留", "Loitering", severity=1)
    settings = LoiteringSettings

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> ZoneRuleDetector:
        s = parse_settings(LoiteringSettings, camera, spec)
        rules = EpisodeRules(dwell_s=s.dwell_s, clear_s=s.track_lost_s)
        watches = [
            LoiterWatch(ZoneShape(zone), rules) for zone in spec_zones(camera, spec, "polygon")
        ]
        return ZoneRuleDetector(KIND, TrackedObjects.build(camera, spec, s), watches)


plugin = LoiteringPlugin()
