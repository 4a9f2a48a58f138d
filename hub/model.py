"""Typed records that cross module seams. Frozen and slotted: no tuples or dicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt


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


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded camera image with both clocks.

    `mono` (monotonic seconds) paces analysis and measures dwell and fall times;
    `wall` (UTC) is what alerts and evidence report.
    """

    camera_id: str
    seq: int
    mono: float
    wall: datetime
    image: npt.NDArray[np.uint8]  # H x W x 3, BGR

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """A stored evidence file (snapshot or clip), relative to the data directory.

    `missing` says why the file was not written (e.g. "No space left on device");
    None when it was, or when it is still to be written (a clip).
    """

    kind: str  # "snapshot" | "clip"
    path: str
    media_type: str
    missing: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """Something a detector or sensor flagged, before it becomes (or updates) a case.

    `overlay` is what to draw on evidence: polylines in normalised image
    coordinates (0..1), e.g. a trajectory or the outline of an offending box.
    `region` names where it happened (a zone id) for de-duplication.
    `cleared` marks the end of what an earlier alert of the same kind, source and
    region reported (the lane is free again, the sensor reads normal): it notes
    the open case and never opens one. `ref` identifies the alert across
    deliveries (a sensor and alarm or clearing, with `confirmed_at`; a spooled
    camera alert's id): one stored twice is stored once.
    """

    kind: str
    started_at: datetime
    confirmed_at: datetime
    confidence: float
    camera_id: str | None = None
    sensor_id: str | None = None
    region: str | None = None
    summary: str = ""
    overlay: tuple[tuple[tuple[float, float], ...], ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    evidence: tuple[EvidenceRef, ...] = ()
    cleared: bool = False
    ref: str | None = None

    @property
    def label(self) -> str:
        """The kind as people see it: in audit lines, metrics, the API and file names."""
        return alert_label(self.kind, self.cleared)


CLEARED_SUFFIX = "_cleared"


def alert_label(kind: str, cleared: bool) -> str:
    """``fire_lane``, or ``fire_lane_cleared`` for its clearing: how a clearing has always
    been shown, so audit lines, metric labels and API output read as they did."""
    return kind + CLEARED_SUFFIX if cleared else kind


@dataclass(frozen=True, slots=True)
class PatrolFix:
    """One accepted position report of a patrol's device."""

    patrol_id: str
    lat: float
    lon: float
    ts: datetime
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    battery_pct: float | None = None
    source: str = "native"  # "native" | "owntracks"


@dataclass(frozen=True, slots=True)
class PatrolState:
    """What the live index knows about one patrol."""

    patrol_id: str
    grid_id: str
    enabled: bool
    duty_status: str  # "on_duty" | "off_duty" | "busy"
    fix: PatrolFix | None
    dispatch_id: int | None  # the live dispatch it is working on, if any


@dataclass(frozen=True, slots=True)
class Candidate:
    """A patrol that could take a case, with why it ranks where it does."""

    patrol_id: str
    tier: int  # 0 own grid, 1 neighbouring grid, 2 same community, 3 anywhere in range
    cost: float  # metres straight-line by default; seconds with a routing engine
    distance_m: float
