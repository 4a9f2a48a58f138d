"""Settings of the thrown-object detector, one model per camera.

Every threshold has a description and a default that suits a 1080p facade view
at 25 fps; the floor calibration (image rows of the floor slabs) is the one
thing a site must measure for each camera.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

G = 9.81  # m/s²


class Strict(BaseModel):
    """Unknown keys are errors; values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnBoundary(Strict):
    """A line between two window columns, as drawn on the image (it leans with perspective)."""

    top: tuple[float, float] = Field(description="[x, y] of its upper end, normalised 0..1.")
    bottom: tuple[float, float] = Field(description="[x, y] of its lower end, normalised 0..1.")


class FloorCalibration(Strict):
    """Where the floor slabs lie on the image."""

    lines: list[float] = Field(
        min_length=2,
        description=(
            "Normalised image rows (0 = top) of the slab lines, top to bottom: the roof "
            "line first, then the floor level of each floor down to the lowest one in view."
        ),
    )
    top_floor: int = Field(description="Floor number of the storey just below the first line.")
    floor_height_m: float = Field(
        default=3.0, gt=1.5, le=8.0, description="Storey height in metres (slab to slab)."
    )
    window_columns: list[ColumnBoundary] = Field(
        default_factory=list,
        description="Boundaries between window columns, left to right; columns count from 1.",
    )

    @model_validator(mode="after")
    def _increasing(self) -> FloorCalibration:
        if any(b <= a for a, b in zip(self.lines, self.lines[1:], strict=False)):
            raise ValueError("lines must increase strictly from top to bottom")
        if not all(0.0 <= row <= 1.0 for row in self.lines):
            raise ValueError("lines must be normalised rows between 0 and 1")
        return self


class ThrownObjectConfig(Strict):
    """Per-camera settings of the `thrown_object` detector."""

    floors: FloorCalibration = Field(
        examples=[{"lines": [0.1, 0.3, 0.5, 0.7, 0.9], "top_floor": 8}],
        description="Floor calibration of this camera.",
    )
    scale: float = Field(
        default=0.5, gt=0.05, le=1.0, description="Downscale factor of the analysed facade crop."
    )
    diff_threshold: float = Field(
        default=10.0, gt=0, le=255, description="Smallest grey-level change that counts as motion."
    )
    noise_factor: float = Field(
        default=4.0,
        ge=0,
        description="Each pixel's threshold adds this many times its mean absolute deviation.",
    )
    background_alpha: float = Field(
        default=0.08, gt=0, lt=1, description="Background learning rate per frame."
    )
    min_blob_area: int = Field(
        default=2, ge=1, description="Smallest moving blob, in analysed pixels."
    )
    max_blob_area: int = Field(
        default=600, ge=1, description="Largest moving blob, in analysed pixels."
    )
    max_elongation: float = Field(
        default=3.0,
        gt=1,
        description="Blobs taller than this many times their width are streaks.",
    )
    rain_streaks: int = Field(
        default=6,
        ge=1,
        description="This many streaks in one frame is rain: the frame's streaks are dropped.",
    )
    max_blobs: int = Field(
        default=80, ge=1, description="More blobs than this in a frame: keep the largest."
    )
    max_foreground_fraction: float = Field(
        default=0.03,
        gt=0,
        le=1,
        description="Moving share of the region above which a frame is a global change.",
    )
    shake_check_fraction: float = Field(
        default=0.004,
        gt=0,
        le=1,
        description="Moving share above which the global (camera-shake) shift is estimated.",
    )
    gate_px: float = Field(
        default=4.0, gt=0, description="Base radius of a track's gate, in analysed pixels."
    )
    first_step_px: float = Field(
        default=20.0,
        gt=0,
        description="Gate of a one-point track (its speed is unknown), in analysed pixels.",
    )
    gate_speed_factor: float = Field(
        default=0.25, ge=0, description="Gate grows by this share of the track's step length."
    )
    max_missed_frames: int = Field(
        default=3, ge=0, description="Frames a track may go unseen before it ends."
    )
    rest_px: float = Field(
        default=1.0, gt=0, description="Steps shorter than this (analysed pixels) are at rest."
    )
    rest_frames: int = Field(
        default=3, ge=1, description="A track that fell and then rests this many frames landed."
    )
    max_tracks: int = Field(default=60, ge=1, description="Live tracks kept at most.")
    min_track_frames: int = Field(
        default=7, ge=4, description="Points a track needs before the free-fall test."
    )
    min_coverage: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description="Share of the frames from a track's first to its last point it is seen in.",
    )
    min_fall_fraction: float = Field(
        default=0.08, gt=0, le=1, description="Least drop of a track, as a share of image height."
    )
    min_down_fraction: float = Field(
        default=0.8, gt=0, le=1, description="Share of a track's steps that must go down."
    )
    accel_ratio_min: float = Field(
        default=0.3,
        gt=0,
        description="Least fitted acceleration (heights in metres), as a share of g.",
    )
    accel_ratio_max: float = Field(
        default=2.2,
        gt=0,
        description="Most fitted acceleration, as a multiple of g (nearing the lens adds some).",
    )
    min_end_speed_mps: float = Field(
        default=3.0,
        ge=0,
        description="Least fitted fall speed at a track's end, m/s (leaves, insects are slower).",
    )
    max_fit_residual_px: float = Field(
        default=1.5, gt=0, description="RMS residual of the vertical parabola, analysed pixels."
    )
    max_fit_residual_share: float = Field(
        default=0.012,
        ge=0,
        description="Long falls may miss the parabola by this share of their drop (depth "
        "changes bend the path a little); the larger allowance applies.",
    )
    max_x_residual_px: float = Field(
        default=2.0,
        gt=0,
        description="RMS residual of the sideways path from a smooth curve (zig-zag).",
    )
    max_drift_ratio: float = Field(
        default=0.6, ge=0, description="Most horizontal travel per unit of drop."
    )
    max_unseen_s: float = Field(
        default=1.0,
        gt=0,
        description="A fall must be seen within this long of where its fit says it began "
        "(rain and other fast constant-speed things began 'long before').",
    )
    max_backtrack_s: float = Field(
        default=0.8, ge=0, description="How far back a fall is extrapolated to its origin."
    )
    stitch_px: float = Field(
        default=3.0,
        gt=0,
        description="Earlier broken-off points within this distance of a fall's backward "
        "extension (analysed pixels) join it.",
    )
    stitch_px_per_s: float = Field(
        default=30.0,
        ge=0,
        description="Stitching tolerance added per second of gap (extrapolation error grows).",
    )
    stitch_gap_s: float = Field(
        default=0.6, ge=0, description="Longest gap in time bridged when stitching backwards."
    )
    max_fall_s: float = Field(
        default=6.0, gt=0, description="A track older than this is no fall and is dropped."
    )
    duplicate_window_s: float = Field(
        default=2.0, ge=0, description="A second fall this soon, in the same column, is the same."
    )
    duplicate_dx: float = Field(
        default=0.08, ge=0, description="Horizontal distance (normalised) that counts as the same."
    )

    @model_validator(mode="after")
    def _ranges(self) -> ThrownObjectConfig:
        if self.accel_ratio_max <= self.accel_ratio_min:
            raise ValueError("accel_ratio_max must exceed accel_ratio_min")
        if self.max_blob_area < self.min_blob_area:
            raise ValueError("max_blob_area must be at least min_blob_area")
        return self
