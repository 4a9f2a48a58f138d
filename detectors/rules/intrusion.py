"""Intrusion (区域入侵): a watched object inside a restricted zone for `min_s`.

One alert per zone per episode; the episode ends when the zone has been empty
for `clear_s`, and a new one may alert `cooldown_s` after that.
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

KIND = "intrusion"


class IntrusionSettings(ObjectRuleSettings):
    """Settings of an `intrusion` detector."""

    min_s: float = Field(default=1, ge=0, description="Seconds inside before it counts.")
    clear_s: float = Field(default=5, gt=0, description="Seconds empty that end the episode.")
    cooldown_s: float = Field(default=60, ge=0, description="Seconds between two episodes' alerts.")


@dataclass(frozen=True, slots=True)
class Intrusion:
    """Anyone in the zone."""

    def holds(self, inside: Detections) -> bool:
        return len(inside) > 0

    def finding(self, seen: Sighting, zone: Zone, inside: Detections, since: float) -> Finding:
        summary = f"{len(inside)} object(s) in {zone.label or zone.id}"
        # An episode that began at monotonic 0.0 has always been dated from the alert.
        started = since or seen.frame.mono
        return Finding(zone, started, inside, summary, {"count": len(inside)})


class IntrusionPlugin:
    kind = KIND
    scenario = DetectorScenario(KIND, "区域入侵", "Zone intrusion", severity=3)
    settings = IntrusionSettings

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> ZoneRuleDetector:
        s = parse_settings(IntrusionSettings, camera, spec)
        watches = [
            EpisodeWatch.of(zone, Intrusion(), s) for zone in spec_zones(camera, spec, "polygon")
        ]
        return ZoneRuleDetector(KIND, TrackedObjects.build(camera, spec, s), watches)


plugin = IntrusionPlugin()
