"""A rendered residential facade seen by a camera on the ground, tilted up.

`View` is a pinhole camera (no roll) at `distance_m` from the facade plane;
`Facade` is the building (storeys, window columns, balconies, wall texture).
`render_facade` ray-casts every pixel once per clip into a day image, a night
image, and a map of which window each pixel belongs to (so lights can switch).
The floor calibration and the facade polygon of a clip come from the same
projection the falling objects use, so the ground truth is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.thrown_object.config import ColumnBoundary, FloorCalibration

CAMERA_HEIGHT_M = 1.5
ZONE_MARGIN_M = 3.0  # air beside the facade inside the zone
ZONE_GROUND_M = 6.0  # ground in front of the facade inside the zone
Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Facade:
    """The building: `floors` storeys of `storey_m`, `columns` window bays of `bay_m`."""

    floors: int
    storey_m: float
    columns: int
    bay_m: float
    wall_bgr: tuple[int, int, int]
    balcony_columns: tuple[int, ...]

    @property
    def height_m(self) -> float:
        return self.floors * self.storey_m

    @property
    def width_m(self) -> float:
        return self.columns * self.bay_m


@dataclass(frozen=True, slots=True)
class View:
    """A pinhole camera looking at the facade plane Z = distance_m, pitched up."""

    width: int
    height: int
    focal_px: float
    pitch_rad: float
    distance_m: float
    offset_m: float  # camera X relative to the facade centre

    def project(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        """World (x right, y up, z towards the facade) -> (u, v, depth) in pixels."""
        px, py, pz = x - self.offset_m, y - CAMERA_HEIGHT_M, z
        sin, cos = math.sin(self.pitch_rad), math.cos(self.pitch_rad)
        depth = py * sin + pz * cos
        up = py * cos - pz * sin
        u = self.width / 2 + self.focal_px * px / depth
        v = self.height / 2 - self.focal_px * up / depth
        return u, v, depth

    def row_of_height(self, y: float) -> float:
        """Normalised image row of height `y` on the facade plane."""
        return self.project(0.0, y, self.distance_m)[1] / self.height


def fit_view(facade: Facade, size: tuple[int, int], distance_m: float, offset_m: float) -> View:
    """A view that shows the whole facade from its foot to a little sky above the roof."""
    width, height = size
    top = math.atan2(facade.height_m - CAMERA_HEIGHT_M, distance_m)
    bottom = math.atan2(-CAMERA_HEIGHT_M, distance_m) - 0.04
    span = (top - bottom) * 1.12
    pitch = (top + bottom) / 2 + 0.02
    focal = (height / 2) / math.tan(span / 2)
    return View(width, height, focal, pitch, distance_m, offset_m)


def calibration(view: View, facade: Facade) -> FloorCalibration:
    """Slab rows (roof first) and window-column boundaries of the facade in `view`."""
    heights = [facade.storey_m * k for k in range(facade.floors, -1, -1)]
    lines = [view.row_of_height(h) for h in heights]
    visible = [(k, row) for k, row in enumerate(lines) if 0.0 <= row <= 1.0]
    first = visible[0][0]
    boundaries = []
    for column in range(1, facade.columns):
        x = -facade.width_m / 2 + column * facade.bay_m
        top = view.project(x, facade.height_m, view.distance_m)
        foot = view.project(x, 0.0, view.distance_m)
        boundaries.append(
            ColumnBoundary(
                top=(top[0] / view.width, max(top[1] / view.height, 0.0)),
                bottom=(foot[0] / view.width, min(foot[1] / view.height, 1.0)),
            )
        )
    return FloorCalibration(
        lines=[row for _k, row in visible],
        top_floor=facade.floors - first,
        floor_height_m=facade.storey_m,
        window_columns=boundaries,
    )


def facade_polygon(view: View, facade: Facade) -> list[tuple[float, float]]:
    """The zone an installer draws: the facade, the air beside it where things fall past,
    and the ground in front of it; clipped to the image."""
    half = facade.width_m / 2 + ZONE_MARGIN_M
    front = view.distance_m - ZONE_GROUND_M
    corners = [
        (-half, facade.height_m, view.distance_m),
        (half, facade.height_m, view.distance_m),
        (half, 0.0, front),
        (-half, 0.0, front),
    ]
    points = []
    for x, y, z in corners:
        u, v, _depth = view.project(x, y, z)
        points.append((min(max(u / view.width, 0.0), 1.0), min(max(v / view.height, 0.0), 1.0)))
    return points


def inside(polygon: list[tuple[float, float]], x: float, y: float) -> bool:
    """Is the normalised point inside the (convex or not) polygon? (even-odd rule)"""
    result = False
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            result = not result
    return result


@dataclass(frozen=True, slots=True)
class FacadeImages:
    """What `render_facade` produces: unlit and lit window versions and the window map."""

    day: Image
    lit: Image
    window_id: npt.NDArray[np.int32]  # -1 outside windows


def render_facade(view: View, facade: Facade, rng: np.random.Generator) -> FacadeImages:
    """Ray-cast the facade, sky and ground for every pixel."""
    u, v = np.meshgrid(
        np.arange(view.width, dtype=np.float32), np.arange(view.height, dtype=np.float32)
    )
    a = (u - view.width / 2) / view.focal_px
    b = -(v - view.height / 2) / view.focal_px
    sin, cos = math.sin(view.pitch_rad), math.cos(view.pitch_rad)
    dz = cos - b * sin
    t = np.where(dz > 1e-6, view.distance_m / np.maximum(dz, 1e-6), np.inf)
    x = view.offset_m + t * a
    y = CAMERA_HEIGHT_M + t * (b * cos + sin)
    on_wall = (np.abs(x) <= facade.width_m / 2) & (y >= 0) & (y <= facade.height_m)
    day = _sky_and_ground(view, y, rng)
    wall, window_id = _wall(facade, x, y, rng)
    day[on_wall] = wall[on_wall]
    window_id[~on_wall] = -1
    lit = day.copy()
    glow = np.array([120, 205, 245], np.uint8)
    lit[window_id >= 0] = glow
    return FacadeImages(day, lit, window_id)


def _sky_and_ground(view: View, y: npt.NDArray[np.float32], rng: np.random.Generator) -> Image:
    rows = np.linspace(0, 1, view.height, dtype=np.float32)[:, None, None]
    sky = np.array([235, 205, 170], np.float32) * (1 - 0.25 * rows) + rng.normal(0, 2, 3)
    image = np.broadcast_to(sky, (view.height, view.width, 3)).astype(np.uint8)
    image[y < 0] = (95, 100, 105)
    return image


def _wall(
    facade: Facade, x: npt.NDArray[np.float32], y: npt.NDArray[np.float32], rng: np.random.Generator
) -> tuple[Image, npt.NDArray[np.int32]]:
    """Wall texture, slab lines, windows and balconies as functions of facade position."""
    column = np.floor((x + facade.width_m / 2) / facade.bay_m).astype(np.int32)
    floor = np.floor(y / facade.storey_m).astype(np.int32)
    fx = (x + facade.width_m / 2) / facade.bay_m - column
    fy = y / facade.storey_m - floor
    texture = rng.normal(0, 1, (64, 64)).astype(np.float32)
    tex = texture[(np.abs(y) * 20).astype(np.int32) % 64, (np.abs(x) * 20).astype(np.int32) % 64]
    wall = np.array(facade.wall_bgr, np.float32)[None, None, :] * (1 + 0.05 * tex[..., None])
    image = wall.copy()
    image[fy < 0.04] *= 0.7  # slab line
    window = (fx > 0.22) & (fx < 0.78) & (fy > 0.3) & (fy < 0.82)
    glass = np.array([90, 70, 55], np.float32) * (0.8 + 0.4 * fy[..., None])
    image = np.where(window[..., None], glass, image)
    frame = (fx > 0.2) & (fx < 0.8) & (fy > 0.28) & (fy < 0.84) & ~window
    image[frame] = (200, 200, 200)
    balcony = np.isin(column, facade.balcony_columns) & (fy < 0.32) & (fx > 0.12) & (fx < 0.88)
    bars = (np.floor(fx * 40) % 2 == 0) & (fy > 0.06)
    image[balcony & (fy <= 0.06)] *= 0.55
    image[balcony & bars] = image[balcony & bars] * 0.6 + 40
    window_id = np.where(window, floor * facade.columns + column, -1).astype(np.int32)
    return np.clip(image, 0, 255).astype(np.uint8), window_id
