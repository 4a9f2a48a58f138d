"""Crowding (人员聚集): more than `max_count` watched objects in a zone for `min_s`.

One alert per episode; the episode ends when the count has stayed at or under
the limit for `clear_s`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from detectors.detections import Detections
from detectors.rules.common import (
    EpisodeWatch,
    Finding,
    ObjectRuleSettings,
    Sighting,
    TrackedObjects,
    ZoneRuleDetector,
)
from detectors.settings import parse_settings, spec_zones
from hub.clock import Clock
from hub.config import Camera, DetectorSpec, Zone
from hub.seams import DetectorScenario

KIND = "crowding"


class CrowdingSettings(ObjectRuleSettings):
    """Settings of a `crowding` detector."""

    max_count: int = Field(
        ge=1, examples=[5], description="More objects than this in the zone is a crowd."
    )
    min_s: float = Field(default=10, ge=0, description="Seconds the crowd must last.")
    clear_s: float = Field(default=10, gt=0, description="Seconds under the limit that end it.")
    cooldown_s: float = Field(default=300, ge=0, description="Seconds between two alerts.")


@dataclass(frozen=True, slots=True)
class Crowd:
    """More than `max_count` in the zone."""

    max_count: int

    def holds(self, inside: Detections) -> bool:
        return len(inside) > self.max_count

    def finding(self, seen: Sighting, zone: Zone, inside: Detections, since: float) -> Finding:
        summary = f"{len(inside)} people gathered in {zone.label or zone.id}"
        details = {"count": len(inside), "max_count": self.max_count}
        return Finding(zone, since, inside, summary, details)


class CrowdingPlugin:
    kind = KIND
    scenario = DetectorScenario(KIND, "人员聚集", "Crowd gathering", severity=2)
    settings = CrowdingSettings

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> ZoneRuleDetector:
        s = parse_settings(CrowdingSettings, camera, spec)
        crowd = Crowd(s.max_count)
        watches = [EpisodeWatch.of(zone, crowd, s) for zone in spec_zones(camera, spec, "polygon")]
        return ZoneRuleDetector(KIND, TrackedObjects.build(camera, spec, s), watches)


plugin = CrowdingPlugin()
