"""The ground-truth sidecar of an evaluation clip (``clip_0001.json`` beside ``clip_0001.mp4``).

Written by the clip generator, read by the evaluation; the format is documented
in docs/thrown-object.md. Times are seconds from the first frame.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from detectors.thrown_object.config import FloorCalibration
from hub.errors import ClipError

FORMAT = "gridhub.thrown_object.clip/1"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThrowEvent(Record):
    """One object thrown from the facade."""

    start_s: float = Field(description="Release time.")
    end_s: float = Field(description="When it hit the ground or left the facade region.")
    floor: int = Field(description="Floor it was thrown from.")
    window_column: int | None = Field(default=None, description="Window column, from 1.")
    origin: tuple[float, float] = Field(description="Release point, normalised image [x, y].")
    shape: str = Field(description="ball, box, bottle or bag.")
    size_m: float = Field(description="Largest extent in metres.")
    size_px: float = Field(description="Largest extent in pixels at release.")
    fall_fraction: float = Field(description="Drop in view as a share of the image height.")
    terminal_velocity_mps: float | None = Field(default=None, description="With drag; else none.")
    qualifying: bool = Field(description="At least 6 px and a drop of at least 15% of the height.")


class Distractor(Record):
    """Something in the clip that must not raise an alert."""

    kind: str = Field(description="bird, insect, leaf, rain, lights, illumination, shake, ...")
    start_s: float
    end_s: float
    details: dict[str, Any] = Field(default_factory=dict)


class ClipTruth(Record):
    """Everything the evaluation needs to know about one clip."""

    format: str = Field(default=FORMAT)
    clip: str = Field(description="Video file name, relative to the sidecar.")
    source: str = Field(description="'generated' or 'real:<file>' for real footage.")
    seed: int | None = Field(default=None, description="Generator seed of this clip.")
    width: int
    height: int
    fps: float
    frames: int
    bitrate_kbps: int | None = None
    start_wall: datetime = Field(description="Wall-clock time of the first frame (UTC).")
    lighting: str = Field(default="day", description="day, overcast, dusk or night.")
    facade: list[tuple[float, float]] = Field(description="Facade polygon, normalised.")
    calibration: FloorCalibration
    events: list[ThrowEvent] = Field(default_factory=list)
    distractors: list[Distractor] = Field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps


def write_truth(path: Path, truth: ClipTruth) -> None:
    path.write_text(json.dumps(truth.model_dump(mode="json"), indent=1, ensure_ascii=False))


def read_truth(path: Path) -> ClipTruth:
    """Read a sidecar; a missing, unreadable or invalid one is a `ClipError` naming it."""
    try:
        return ClipTruth.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ClipError(f"{path}: cannot read sidecar: {exc.strerror or exc}") from exc
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ClipError(f"{path}: invalid sidecar: {where}: {first['msg']}") from exc
