"""Helpers every detector plugin shares: its settings, its zones, the alert clock.

`parse_settings` validates a `DetectorSpec`'s extra fields with the plugin's own
pydantic model (through `hub.plugin_settings`) and turns each problem into a
`ConfigError` line naming the camera, the detector and the field path
(``cameras[CAM].detectors[fire_lane].dwell_s``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from hub.config import Camera, DetectorSpec, Zone
from hub.errors import ConfigError
from hub.model import Frame
from hub.plugin_settings import SettingsT, plugin_settings


def settings_path(camera: Camera, spec: DetectorSpec) -> str:
    """Where a detector's settings are, as every detector's messages name it."""
    return f"cameras[{camera.id}].detectors[{spec.kind}]"


def parse_settings(model: type[SettingsT], camera: Camera, spec: DetectorSpec) -> SettingsT:
    """The spec's own settings (everything but kind/zones/enabled) as `model`."""
    return plugin_settings(model, spec.model_extra or {}, settings_path(camera, spec))


def spec_zones(
    camera: Camera, spec: DetectorSpec, kind: str, count: int | None = None
) -> list[Zone]:
    """The camera zones `spec.zones` names, all of `kind`; `count` of them if given."""
    where = f"{settings_path(camera, spec)}.zones"
    known: Mapping[str, Zone] = {zone.id: zone for zone in camera.zones}
    zones = []
    for zone_id in spec.zones:
        if zone_id not in known:
            raise ConfigError(f"{where}: camera has no zone '{zone_id}'")
        if known[zone_id].kind != kind:
            raise ConfigError(
                f"{where}: zone '{zone_id}' is a {known[zone_id].kind}, need a {kind}"
            )
        zones.append(known[zone_id])
    if not zones or (count is not None and len(zones) != count):
        need = f"exactly {count}" if count is not None else "at least one"
        raise ConfigError(f"{where}: needs {need} {kind} zone(s), got {len(zones)}")
    return zones


def wall_at(frame: Frame, mono: float) -> datetime:
    """The wall-clock time of monotonic instant `mono`, through this frame's two clocks."""
    return frame.wall - timedelta(seconds=frame.mono - mono)


def normalised_box(
    box: tuple[float, float, float, float], frame: Frame
) -> tuple[tuple[float, float], ...]:
    """An xyxy pixel box as a closed outline in 0..1 coordinates (for `Alert.overlay`)."""
    w, h = frame.size
    x1, y1, x2, y2 = (float(box[0]) / w, float(box[1]) / h, float(box[2]) / w, float(box[3]) / h)
    return ((x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1))
