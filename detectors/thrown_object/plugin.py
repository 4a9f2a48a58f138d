"""The `gridhub.detectors` entry point `thrown_object`: validates settings, builds detectors."""

from __future__ import annotations

from detectors.settings import parse_settings, settings_path
from detectors.thrown_object.config import ThrownObjectConfig
from detectors.thrown_object.detector import KIND, FacadeZone, ThrownObjectDetector
from hub.clock import Clock
from hub.config import Camera, DetectorSpec
from hub.errors import ConfigError
from hub.seams import DetectorScenario


class ThrownObjectPlugin:
    """Builds a `ThrownObjectDetector` for a camera from its detector spec."""

    kind = KIND
    scenario = DetectorScenario(
        KIND, "高空抛物", "Object thrown from height", severity=3, auto_dispatch_confidence=0.9
    )
    settings = ThrownObjectConfig

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> ThrownObjectDetector:
        """Validate `spec` (its facade zone and extra settings) and build the detector."""
        settings = parse_settings(ThrownObjectConfig, camera, spec)
        zone = _facade_zone(camera, spec, settings_path(camera, spec))
        return ThrownObjectDetector(camera.id, zone, settings)


def _facade_zone(camera: Camera, spec: DetectorSpec, where: str) -> FacadeZone:
    if len(spec.zones) != 1:
        raise ConfigError(f"{where}.zones: name exactly one polygon zone: the facade")
    zone = next((z for z in camera.zones if z.id == spec.zones[0]), None)
    if zone is None:
        raise ConfigError(f"{where}.zones: camera {camera.id} has no zone '{spec.zones[0]}'")
    if zone.kind != "polygon":
        raise ConfigError(f"{where}.zones: zone '{zone.id}' is a {zone.kind}, not a polygon")
    return FacadeZone(zone.id, tuple(zone.points))


plugin = ThrownObjectPlugin()
