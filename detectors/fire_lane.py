"""Fire-lane occupancy (消防通道占用): one alert per blocking episode, and a clear signal.

The lane is one polygon zone. Two signals say since when the lane has been
blocked: tracked vehicles (classes `vehicle_classes`) whose anchor point stands
in the lane, and class-agnostic stationary foreground (`LaneOccupancy`), so boxes
and clutter count too while people (`person_classes`) never do. An
`EpisodeTimer` turns that into exactly one ``fire_lane`` alert when the occupant
has stayed `dwell_s`, and one cleared ``fire_lane`` alert (`Alert.cleared`, same
`region`; shown as ``fire_lane_cleared``) when the lane has been free for
`clear_s`: the case layer closes, or proposes to close, the open case on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from detectors.backends.base import ModelSettings, ObjectModel
from detectors.detections import Detections
from detectors.object_settings import class_ids, open_model
from detectors.occupancy import LaneOccupancy, OccupancyRules
from detectors.settings import normalised_box, parse_settings, spec_zones, wall_at
from detectors.tracking import ByteTracker
from detectors.zones.episodes import Continuity, EpisodeRules, EpisodeTimer, Event
from detectors.zones.geometry import Points, points_in_polygon, to_pixels
from hub.clock import Clock
from hub.config import Camera, DetectorSpec, Zone
from hub.model import Alert, Frame
from hub.seams import DetectorScenario

KIND = "fire_lane"


class OccupancySettings(BaseModel):
    """The class-agnostic empty-lane model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Count unknown objects (boxes, clutter) too.")
    diff_threshold: float = Field(
        default=25, gt=0, le=255, description="Grey levels from the empty lane that are foreground."
    )
    min_fraction: float = Field(
        default=0.02, gt=0, le=1, description="Share of the lane area that must be blocked."
    )
    settle_s: float = Field(
        default=5, ge=0, description="Seconds a region must stand still before it counts."
    )
    learn_s: float = Field(
        default=20, gt=0, description="Time constant (s) of learning the empty lane's look."
    )


class FireLaneSettings(BaseModel):
    """Settings of a `fire_lane` detector (beside `kind`, `zones` and `enabled`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelSettings | None = Field(
        default=None, description="Object model; unset runs the class-agnostic signal alone."
    )
    vehicle_classes: list[str] = Field(
        default_factory=lambda: ["car", "truck", "bus", "motorcycle", "bicycle"],
        description="Model classes that block the lane (tricycles, e-bikes: name their class).",
    )
    person_classes: list[str] = Field(
        default_factory=lambda: ["person"], description="Model classes that never block it."
    )
    anchor: Literal["bottom_center", "center"] = Field(
        default="bottom_center", description="Point of a box that must be in the lane."
    )
    dwell_s: float = Field(default=180, gt=0, description="Seconds blocked before the alert.")
    clear_s: float = Field(
        default=10, gt=0, description="Seconds free before the episode ends (tolerates occlusion)."
    )
    cooldown_s: float = Field(
        default=60, ge=0, description="Seconds after an episode ends before a new one may alert."
    )
    track_lost_s: float = Field(
        default=10, gt=0, description="Seconds a hidden vehicle keeps its track and dwell."
    )
    occupancy: OccupancySettings = Field(
        default_factory=OccupancySettings, description="Class-agnostic empty-lane model."
    )


@dataclass
class FireLaneDetector:
    """Watches one lane on one camera."""

    camera_id: str
    zone: Zone
    settings: FireLaneSettings
    model: ObjectModel | None
    vehicles: frozenset[int]
    people: frozenset[int]
    tracker: ByteTracker | None
    kind: str = KIND
    timer: EpisodeTimer = field(init=False)
    polygon: Points | None = None
    occupancy: LaneOccupancy | None = None
    presence: dict[int, Continuity] = field(default_factory=dict)
    offenders: list[tuple[float, float, float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.settings
        self.timer = EpisodeTimer(EpisodeRules(s.dwell_s, s.clear_s, s.cooldown_s))

    def process(self, frame: Frame) -> list[Alert]:
        polygon = self._polygon(frame)
        tracked = self._detect(frame)
        self.offenders = []
        since_vehicle = self._vehicle_since(frame.mono, tracked, polygon)
        since_clutter = self._clutter_since(frame, tracked)
        candidates = [t for t in (since_vehicle, since_clutter) if t is not None]
        started = self.timer.started
        event = self.timer.update(frame.mono, min(candidates) if candidates else None)
        if event is Event.ALERT:
            return [self._alert(frame, KIND)]
        if event is Event.CLEARED:
            return [self._cleared(frame, started)]
        return []

    def _polygon(self, frame: Frame) -> Points:
        if self.polygon is None:
            self.polygon = to_pixels(self.zone.points, *frame.size)
            if self.settings.occupancy.enabled:
                o = self.settings.occupancy
                rules = OccupancyRules(
                    diff_threshold=o.diff_threshold,
                    min_fraction=o.min_fraction,
                    settle_s=o.settle_s,
                    learn_s=o.learn_s,
                    gap_s=self.settings.clear_s,
                )
                self.occupancy = LaneOccupancy(self.polygon, rules)
        return self.polygon

    def _detect(self, frame: Frame) -> Detections:
        if self.model is None or self.tracker is None:
            return Detections.empty()
        return self.tracker.update(self.model.detect([frame.image])[0])

    def _vehicle_since(self, now: float, tracked: Detections, polygon: Points) -> float | None:
        vehicles = tracked[tracked.of_classes(self.vehicles)] if self.vehicles else tracked[:0]
        inside = vehicles[points_in_polygon(vehicles.anchors(self.settings.anchor), polygon)]
        starts = []
        for track_id, box in zip(inside.track_ids.tolist(), inside.boxes, strict=True):
            memory = self.presence.setdefault(track_id, Continuity(self.settings.track_lost_s))
            since = memory.update(now, True)
            if since is not None:
                starts.append(since)
            x1, y1, x2, y2 = (float(v) for v in box)
            self.offenders.append((x1, y1, x2, y2))
        for track_id in set(self.presence) - set(inside.track_ids.tolist()):
            self.presence[track_id].update(now, False)
            if self.presence[track_id].since is None:
                del self.presence[track_id]
        return min(starts) if starts else None

    def _clutter_since(self, frame: Frame, tracked: Detections) -> float | None:
        if self.occupancy is None:
            return None
        people = tracked[tracked.of_classes(self.people)] if self.people else tracked[:0]
        since = self.occupancy.update(frame.mono, frame.image, people.boxes)
        box = self.occupancy.occupied_box() if since is not None else None
        if box is not None:
            self.offenders.append(box)
        return since

    def _overlay(self, frame: Frame) -> tuple[tuple[tuple[float, float], ...], ...]:
        lane = tuple((float(x), float(y)) for x, y in self.zone.points)
        boxes = tuple(normalised_box(box, frame) for box in self.offenders)
        return (lane + lane[:1], *boxes)

    def _alert(self, frame: Frame, kind: str) -> Alert:
        started = self.timer.started if self.timer.started is not None else frame.mono
        blocked_s = frame.mono - started
        return Alert(
            kind=kind,
            camera_id=self.camera_id,
            region=self.zone.id,
            started_at=wall_at(frame, started),
            confirmed_at=frame.wall,
            confidence=1.0,
            summary=f"fire lane {self.zone.label or self.zone.id} blocked for {blocked_s:.0f} s",
            overlay=self._overlay(frame),
            details={"blocked_s": round(blocked_s, 1), "objects": len(self.offenders)},
        )

    def _cleared(self, frame: Frame, started: float | None) -> Alert:
        start = started if started is not None else frame.mono
        return Alert(
            kind=KIND,
            cleared=True,
            camera_id=self.camera_id,
            region=self.zone.id,
            started_at=wall_at(frame, start),
            confirmed_at=frame.wall,
            confidence=1.0,
            summary=f"fire lane {self.zone.label or self.zone.id} is clear again",
            overlay=self._overlay(frame),
            details={"episode_s": round(frame.mono - start, 1)},
        )


class FireLanePlugin:
    """The `gridhub.detectors` entry point ``fire_lane``."""

    kind = KIND
    scenario = DetectorScenario(KIND, "消防通道占用", "Fire lane blocked", severity=2)
    settings = FireLaneSettings

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> FireLaneDetector:
        settings = parse_settings(FireLaneSettings, camera, spec)
        (zone,) = spec_zones(camera, spec, "polygon", count=1)
        model = open_model(settings.model)
        where = f"cameras[{camera.id}].detectors[{spec.kind}]"
        vehicles = people = frozenset[int]()
        tracker = None
        if model is not None:
            vehicles = class_ids(model, settings.vehicle_classes, f"{where}.vehicle_classes")
            people = class_ids(model, settings.person_classes, f"{where}.person_classes")
            tracker = ByteTracker(camera.analysis_fps, settings.track_lost_s)
        return FireLaneDetector(camera.id, zone, settings, model, vehicles, people, tracker)


plugin = FireLanePlugin()
