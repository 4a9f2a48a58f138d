"""The clip generator: facade scenes with throws and distractors, encoded to H.264.

Every clip is drawn from its own seed (``seed * 1000 + index``), so a clip set
is reproducible and two seeds give disjoint sets (tune on one, report on the
other). Clips alternate between throws (one object from a known floor, with a
few distractors around it) and distractor-only clips. Encoding goes through
PyAV's libx264 at a security camera's bitrate, so compression smears small
objects just as it does on site. Each ``clip_NNNN.mp4`` gets a
``clip_NNNN.json`` sidecar (`sidecar.ClipTruth`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from evaluation.encode import H264Writer
from evaluation.thrown_object.distractors import Sprite, random_sprite
from evaluation.thrown_object.fall import EXPOSURE_SUBSTEPS, Look, draw_object, position_at
from evaluation.thrown_object.plan import (
    LIGHTING,
    ClipSettings,
    Scene,
    Thrown,
    build_scene,
    plan_throw,
)
from evaluation.thrown_object.scene import FacadeImages, calibration, facade_polygon
from evaluation.thrown_object.sidecar import ClipTruth, Distractor, write_truth

SPRITE_KINDS = ("bird", "insect", "leaf", "rain")
SCENE_KINDS = ("lights", "illumination", "shake")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
Progress = Callable[[int, int, str], None]


@dataclass
class SceneState:
    """What changes over a clip besides sprites: brightness, lit windows, shake."""

    brightness: float
    lit: set[int]
    switches: list[tuple[float, int]] = field(default_factory=list)
    jump: tuple[float, float] | None = None
    shake: tuple[float, float, float] | None = None  # start, end, amplitude px


def make_clips(
    out: Path, count: int, seed: int, settings: ClipSettings, progress: Progress | None = None
) -> list[ClipTruth]:
    """Render `count` clips into `out`; three in five carry a throw."""
    out.mkdir(parents=True, exist_ok=True)
    truths = []
    for index in range(count):
        name = f"clip_{index:04d}"
        if progress:
            progress(index, count, name)
        truth = render_clip(
            out / f"{name}.mp4", seed * 1000 + index, index % 5 in (0, 1, 3), settings
        )
        write_truth(out / f"{name}.json", truth)
        truths.append(truth)
    if progress:
        progress(count, count, "done")
    return truths


def render_clip(path: Path, clip_seed: int, with_throw: bool, settings: ClipSettings) -> ClipTruth:
    """Render and encode one clip; returns its ground truth.

    OpenCV runs single-threaded meanwhile: some of its drawing and blending
    rounds differently across threads, and a seed must give the same clip.
    """
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return _render_clip(path, clip_seed, with_throw, settings)
    finally:
        cv2.setNumThreads(threads)


def _render_clip(path: Path, clip_seed: int, with_throw: bool, settings: ClipSettings) -> ClipTruth:
    rng = np.random.default_rng(clip_seed)
    scene = build_scene(rng, settings)
    frames = int(round(settings.duration_s * settings.fps))
    thrown = plan_throw(rng, scene, settings) if with_throw else None
    kinds = _distractor_kinds(rng, with_throw)
    sprites = [
        random_sprite(k, rng, (settings.width, settings.height), settings.duration_s)
        for k in kinds
        if k in SPRITE_KINDS
    ]
    state, scene_truth = _scene_events(
        rng, scene, [k for k in kinds if k in SCENE_KINDS], settings.duration_s
    )
    bitrate = settings.bitrate_kbps or _realistic_bitrate(rng, settings)
    with H264Writer(path, (settings.width, settings.height), settings.fps, bitrate) as writer:
        _render_frames(writer, Plan(scene, state, sprites, thrown), settings, rng, frames)
    calib = calibration(scene.view, scene.facade)
    return ClipTruth(
        clip=path.name,
        source="generated",
        seed=clip_seed,
        width=settings.width,
        height=settings.height,
        fps=settings.fps,
        frames=frames,
        bitrate_kbps=bitrate,
        start_wall=EPOCH + timedelta(hours=clip_seed % 8760),
        lighting=scene.lighting,
        facade=facade_polygon(scene.view, scene.facade),
        calibration=calib,
        events=[thrown.event] if thrown else [],
        distractors=[_sprite_truth(s) for s in sprites] + scene_truth,
    )


def _sprite_truth(sprite: Sprite) -> Distractor:
    return Distractor(
        kind=sprite.kind, start_s=sprite.start_s, end_s=sprite.end_s, details=sprite.details()
    )


def _realistic_bitrate(rng: np.random.Generator, settings: ClipSettings) -> int:
    """1.5-4 Mbit/s at 1080p 25 fps, scaled by pixel rate."""
    share = settings.width * settings.height * settings.fps / (1920 * 1080 * 25)
    return max(int(rng.uniform(1500, 4000) * share), 150)


def _distractor_kinds(rng: np.random.Generator, with_throw: bool) -> list[str]:
    kinds = [*SPRITE_KINDS, "bird", *SCENE_KINDS]
    if with_throw:
        return [k for k in kinds if rng.random() < 0.15]
    return [str(k) for k in rng.choice(kinds, size=int(rng.integers(2, 4)), replace=False)]


def _scene_events(
    rng: np.random.Generator, scene: Scene, kinds: list[str], duration: float
) -> tuple[SceneState, list[Distractor]]:
    """Lit windows, and the scene-wide distractors: switching lights, a light jump, shake."""
    _factor, _sigma, lit_share = LIGHTING[scene.lighting]
    windows = np.unique(scene.images.window_id[scene.images.window_id >= 0])
    lit = {int(w) for w in windows if rng.random() < lit_share}
    state = SceneState(LIGHTING[scene.lighting][0], lit)
    truth = []
    for kind in kinds:
        at = float(rng.uniform(0.5, duration - 1.0))
        if kind == "lights" and len(windows):
            truth.append(_lights(rng, state, windows, duration))
        elif kind == "illumination":
            state.jump = (at, float(rng.choice([rng.uniform(0.5, 0.75), rng.uniform(1.3, 1.7)])))
            details = {"factor": round(state.jump[1], 2)}
            truth.append(Distractor(kind=kind, start_s=at, end_s=at, details=details))
        elif kind == "shake":
            lasts = float(rng.uniform(0.4, 1.5))
            amplitude = float(rng.uniform(1.0, 4.0)) * scene.view.height / 1080
            state.shake = (at, at + lasts, amplitude)
            details = {"amplitude_px": round(state.shake[2], 1)}
            truth.append(Distractor(kind=kind, start_s=at, end_s=state.shake[1], details=details))
    return state, truth


def _lights(
    rng: np.random.Generator, state: SceneState, windows: np.ndarray, duration: float
) -> Distractor:
    chosen = rng.choice(windows, size=min(len(windows), int(rng.integers(2, 7))), replace=False)
    state.switches = sorted((float(rng.uniform(0.5, duration - 0.5)), int(w)) for w in chosen)
    return Distractor(
        kind="lights",
        start_s=state.switches[0][0],
        end_s=state.switches[-1][0],
        details={"windows": len(chosen)},
    )


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything that moves in one clip."""

    scene: Scene
    state: SceneState
    sprites: list[Sprite]
    thrown: Thrown | None


def _render_frames(
    writer: H264Writer, plan: Plan, settings: ClipSettings, rng: np.random.Generator, frames: int
) -> None:
    scene, state, sprites, thrown = plan.scene, plan.state, plan.sprites, plan.thrown
    noise = _noise_bank(rng, scene.noise_sigma, (settings.height, settings.width))
    lit_key: tuple[float, frozenset[int]] | None = None
    background = scene.images.day
    for index in range(frames):
        t = index / settings.fps
        brightness, lit = _state_at(state, t)
        if (brightness, lit) != lit_key:
            background = _compose(scene.images, brightness, lit)
            lit_key = (brightness, lit)
        frame = background.copy()
        for sprite in sprites:
            sprite.draw(frame, t)
        if thrown is not None and t >= thrown.release_s:
            exposure = [
                t - thrown.release_s - k / (2 * settings.fps * EXPOSURE_SUBSTEPS)
                for k in range(EXPOSURE_SUBSTEPS)
            ]
            samples = [(e, position_at(thrown.path, max(e, 0.0))) for e in exposure]
            draw_object(frame, scene.view, _dimmed(thrown.look, brightness), samples)
        frame = _shaken(frame, state, t)
        positive, negative = noise[int(rng.integers(len(noise)))]
        writer.write(np.asarray(cv2.subtract(cv2.add(frame, positive), negative), np.uint8))


def _state_at(state: SceneState, t: float) -> tuple[float, frozenset[int]]:
    brightness = state.brightness
    if state.jump and t >= state.jump[0]:
        brightness *= state.jump[1]
    lit = set(state.lit)
    for at, window in state.switches:
        if t >= at:
            lit ^= {window}
    return round(brightness, 4), frozenset(lit)


def _compose(images: FacadeImages, brightness: float, lit: frozenset[int]) -> np.ndarray:
    frame = cv2.convertScaleAbs(images.day, alpha=brightness)
    if lit:
        mask = np.isin(images.window_id, list(lit))
        frame[mask] = images.lit[mask]
    return frame


def _dimmed(look: Look, brightness: float) -> Look:
    scale = min(max(brightness, 0.6), 1.0)  # at night the IR lamp lights what falls past
    bgr = (int(look.bgr[0] * scale), int(look.bgr[1] * scale), int(look.bgr[2] * scale))
    return Look(look.outline, look.size_m, bgr, look.spin_rad_s)


def _shaken(frame: np.ndarray, state: SceneState, t: float) -> np.ndarray:
    if state.shake is None or not state.shake[0] <= t <= state.shake[1]:
        return frame
    amplitude = state.shake[2]
    dx, dy = amplitude * np.sin(2 * np.pi * 7 * t), amplitude * np.cos(2 * np.pi * 5 * t)
    shift = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    return cv2.warpAffine(
        frame, shift, (frame.shape[1], frame.shape[0]), borderMode=cv2.BORDER_REFLECT
    )


def _noise_bank(
    rng: np.random.Generator, sigma: float, shape: tuple[int, int]
) -> list[tuple[np.ndarray, np.ndarray]]:
    bank = []
    for _ in range(6):
        noise = rng.normal(0, sigma, (*shape, 1)).astype(np.float32)
        positive = np.repeat(np.clip(noise, 0, 255).astype(np.uint8), 3, axis=2)
        negative = np.repeat(np.clip(-noise, 0, 255).astype(np.uint8), 3, axis=2)
        bank.append((positive, negative))
    return bank
