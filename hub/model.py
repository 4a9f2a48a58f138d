"""Typed records that cross module seams. Frozen and slotted: no tuples or dicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class GridInfo:
    """One grid of the hierarchy, with its GeoJSON boundary."""

    id: str
    name: str
    level: str
    parent_id: str | None
    geometry: dict[str, Any]
    leader: str | None


@dataclass(frozen=True, slots=True)
class PatrolInfo:
    """A patrol as registered (its live position is the patrol index's business)."""

    id: str
    name: str
    grid_id: str
    enabled: bool
    duty_status: str
    owntracks_user: str | None
    owntracks_device: str | None


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """A camera as the API shows it: everything but the (secret) source URL."""

    id: str
    name: str
    source_kind: str
    lat: float
    lon: float
    grid_id: str | None
    enabled: bool
    analysis_fps: float
    zones: list[dict[str, Any]]
    detectors: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """An IoT sensor as registered."""

    id: str
    name: str
    type: str
    lat: float
    lon: float
    grid_id: str | None
