"""The `gridhub.detectors` entry point `thrown_object`: validates settings, builds detectors."""

from __future__ import annotations

from pydantic import ValidationError

from detectors.thrown_object.config import ThrownObjectConfig
from detectors.thrown_object.detector import KIND, FacadeZone, ThrownObjectDetector
from hub.clock import Clock
from hub.config import Camera, DetectorSpec, field_path
from hub.errors import ConfigError


class ThrownObjectPlugin:
    """Builds a `ThrownObjectDetector` for a camera from its detector spec."""

    kind = KIND

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> ThrownObjectDetector:
        """Validate `spec` (its facade zone and extra settings) and build the detector."""
        where = _where(camera, spec)
        try:
            settings = ThrownObjectConfig.model_validate(spec.model_extra or {})
        except ValidationError as exc:
            problems = [
                f"{_join(where, field_path(error['loc']))}: {error['msg']}"
                for error in exc.errors(include_url=False)
            ]
            raise ConfigError("\n".join(problems)) from exc
        return ThrownObjectDetector(camera.id, _facade_zone(camera, spec, where), settings)


def _join(where: str, path: str) -> str:
    return f"{where}.{path}" if path else where


def _where(camera: Camera, spec: DetectorSpec) -> str:
    """The settings' path, in the form every detector plugin uses."""
    return f"cameras[{camera.id}].detectors[{spec.kind}]"


def _facade_zone(camera: Camera, spec: DetectorSpec, where: str) -> FacadeZone:
    if len(spec.zones) != 1:
        raise ConfigError(f"{where}.zones: name exactly one polygon zone: the facade")
    zone = next((z for z in camera.zones if z.id == spec.zones[0]), None)
    if zone is None:
        raise ConfigError(f"{where}.zones: camera {camera.id} has no zone '{spec.zones[0]}'")
    if zone.kind != "polygon":
        raise ConfigError(f"{where}.zones: zone '{zone.id}' is a {zone.kind}, not a polygon")
    return FacadeZone(zone.id, tuple(zone.points))


PLUGIN = ThrownObjectPlugin()
