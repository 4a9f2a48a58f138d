"""What every zone rule shares: settings of the object model, tracking, and the alert.

A rule's plugin validates its settings (a subclass of `ObjectRuleSettings`),
opens the model, resolves class names and builds a `TrackedObjects`, which runs
detection and ByteTrack on each frame and keeps only the rule's classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from detectors.backends.base import ModelSettings, ObjectModel, load_model
from detectors.detections import Detections
from detectors.object_settings import class_ids
from detectors.settings import normalised_box, wall_at
from detectors.tracking import ByteTracker
from detectors.zones.geometry import Points, to_pixels
from hub.config import Camera, DetectorSpec, Zone
from hub.model import Alert, Frame


class ObjectRuleSettings(BaseModel):
    """Settings shared by the zone rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelSettings = Field(description="The object model the rule runs.")
    classes: list[str] = Field(
        default_factory=lambda: ["person"], min_length=1, description="Model classes it watches."
    )
    anchor: Literal["bottom_center", "center"] = Field(
        default="bottom_center", description="Point of a box that must be in the zone."
    )
    track_lost_s: float = Field(
        default=5, gt=0, description="Seconds a hidden object keeps its track id."
    )


@dataclass
class TrackedObjects:
    """Detection + tracking + class filter for one camera."""

    model: ObjectModel
    tracker: ByteTracker
    classes: frozenset[int]
    anchor: str = "bottom_center"

    @classmethod
    def build(
        cls, camera: Camera, spec: DetectorSpec, settings: ObjectRuleSettings
    ) -> TrackedObjects:
        model = load_model(settings.model)
        where = f"cameras[{camera.id}].detectors[{spec.kind}].classes"
        ids = class_ids(model, settings.classes, where)
        tracker = ByteTracker(camera.analysis_fps, settings.track_lost_s)
        return cls(model, tracker, ids, settings.anchor)

    def __call__(self, frame: Frame) -> Detections:
        tracked = self.tracker.update(self.model.detect([frame.image])[0])
        return tracked[tracked.of_classes(self.classes)]


@dataclass
class ZoneShape:
    """A configured zone and its pixel vertices (scaled on the first frame)."""

    zone: Zone
    pixels: Points | None = None

    def points(self, frame: Frame) -> Points:
        if self.pixels is None:
            self.pixels = to_pixels(self.zone.points, *frame.size)
        return self.pixels


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule saw: where, since when, which objects, in words and in numbers."""

    zone: Zone
    started: float
    objects: Detections
    summary: str
    details: Mapping[str, Any]


def rule_alert(kind: str, frame: Frame, finding: Finding) -> Alert:
    """An alert for the finding's zone with the zone and the objects' boxes as its overlay."""
    zone, objects = finding.zone, finding.objects
    outline = tuple((float(x), float(y)) for x, y in zone.points)
    if zone.kind == "polygon":
        outline = outline + outline[:1]
    boxes = tuple(normalised_box(_box(row), frame) for row in objects.boxes)
    return Alert(
        kind=kind,
        camera_id=frame.camera_id,
        region=zone.id,
        started_at=wall_at(frame, finding.started),
        confirmed_at=frame.wall,
        confidence=float(objects.scores.max()) if len(objects) else 1.0,
        summary=finding.summary,
        overlay=(outline, *boxes),
        details=dict(finding.details),
    )


def _box(row: Points) -> tuple[float, float, float, float]:
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
