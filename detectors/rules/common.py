"""The core every zone rule runs on: settings, model and tracking, the zones, the alert.

A rule's plugin validates its settings (a subclass of `ObjectRuleSettings`),
builds a `TrackedObjects` (opens the model, resolves class names, runs
detection and ByteTrack on each frame and keeps only the rule's classes) and
one `ZoneWatch` per configured zone, and returns a `ZoneRuleDetector`. On each
frame the detector tracks the objects once, shows the `Sighting` to every watch
and turns what they found (`Finding`) into alerts with the zone and the boxes
drawn. A rule is then only its watch: what it looks for in a zone.

Rules whose condition holds for a while per zone (intrusion, crowding) share
`EpisodeWatch`: the condition, forgiven short gaps (`Continuity`), must last
`min_s`; one alert per episode, `cooldown_s` between episodes
(`detectors.zones.episodes`). The rule supplies an `EpisodeRule`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from detectors.backends.base import ModelSettings, ObjectModel, load_model
from detectors.detections import Detections
from detectors.object_settings import class_ids
from detectors.settings import normalised_box, wall_at
from detectors.tracking import ByteTracker
from detectors.zones.episodes import Continuity, EpisodeRules, EpisodeTimer, Event
from detectors.zones.geometry import Points, points_in_polygon, to_pixels
from hub.config import Camera, DetectorSpec, Zone
from hub.model import Alert, Frame


class ObjectRuleSettings(BaseModel):
    """Settings shared by the zone rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelSettings = Field(
        examples=[{"weights": "/srv/gridhub/models/yolov8s.onnx"}],
        description="The object model the rule runs.",
    )
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


@dataclass(frozen=True, slots=True)
class Sighting:
    """One analysed frame as the rules see it: the tracked objects and their anchors."""

    frame: Frame
    objects: Detections
    anchors: Points

    def inside(self, shape: ZoneShape) -> Detections:
        """The objects whose anchor lies in the (polygon) zone."""
        return self.objects[points_in_polygon(self.anchors, shape.points(self.frame))]


class ZoneWatch(Protocol):
    """One zone of one rule, with its state across frames."""

    def observe(self, seen: Sighting) -> list[Finding]:
        """What this frame confirmed in the zone (usually nothing)."""
        ...


@dataclass
class ZoneRuleDetector:
    """A zone rule on one camera: track once per frame, let each zone's watch judge."""

    kind: str
    objects: TrackedObjects
    watches: Sequence[ZoneWatch]

    def process(self, frame: Frame) -> list[Alert]:
        tracked = self.objects(frame)
        seen = Sighting(frame, tracked, tracked.anchors(self.objects.anchor))
        return [
            rule_alert(self.kind, frame, finding)
            for watch in self.watches
            for finding in watch.observe(seen)
        ]


class EpisodeTimings(Protocol):
    """The settings of an episode rule (seconds)."""

    @property
    def min_s(self) -> float: ...
    @property
    def clear_s(self) -> float: ...
    @property
    def cooldown_s(self) -> float: ...
    @property
    def track_lost_s(self) -> float: ...


class EpisodeRule(Protocol):
    """What an episode rule looks for in a zone, and how it reports it."""

    def holds(self, inside: Detections) -> bool:
        """Whether the objects in the zone meet the rule's condition."""
        ...

    def finding(self, seen: Sighting, zone: Zone, inside: Detections, since: float) -> Finding:
        """The finding of an episode whose condition has held since `since`."""
        ...


@dataclass
class EpisodeWatch:
    """A zone where the rule's condition, held `min_s`, alerts once per episode."""

    shape: ZoneShape
    rule: EpisodeRule
    timer: EpisodeTimer
    condition: Continuity

    @classmethod
    def of(cls, zone: Zone, rule: EpisodeRule, timings: EpisodeTimings) -> EpisodeWatch:
        rules = EpisodeRules(
            dwell_s=timings.min_s, clear_s=timings.clear_s, cooldown_s=timings.cooldown_s
        )
        return cls(ZoneShape(zone), rule, EpisodeTimer(rules), Continuity(timings.track_lost_s))

    def observe(self, seen: Sighting) -> list[Finding]:
        inside = seen.inside(self.shape)
        since = self.condition.update(seen.frame.mono, self.rule.holds(inside))
        if self.timer.update(seen.frame.mono, since) is not Event.ALERT or since is None:
            return []
        return [self.rule.finding(seen, self.shape.zone, inside, since)]


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
