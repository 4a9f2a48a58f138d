"""End to end: generated H.264 clips through the detector, the evaluation and the CLI.

Clips are small (640x360, 4 s) and analysed at full scale, which gives the
detector about the pixels a 1080p camera gives it at the default scale of 0.5.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.thrown_object.clips import render_clip
from evaluation.thrown_object.plan import ClipSettings
from evaluation.thrown_object.scoring import run_clip, run_directory
from evaluation.thrown_object.sidecar import ClipTruth, read_truth, write_truth
from hub.cli import main

SMALL = ClipSettings(width=640, height=360, fps=25.0, duration_s=4.0)
FULL_SCALE = {"scale": 1.0}
THROW_SEED = 14  # a bottle from floor 6, with a bird and an insect about
DISTRACTOR_SEEDS = (21, 22, 23)  # insect+leaf+light jump, bird+leaf, bird+camera shake


def clip(tmp_path: Path, seed: int, with_throw: bool) -> tuple[Path, ClipTruth]:
    video = tmp_path / f"clip_{seed:04d}.mp4"
    truth = render_clip(video, seed, with_throw, SMALL)
    write_truth(video.with_suffix(".json"), truth)
    return video, truth


@pytest.mark.slow
def test_a_throw_raises_exactly_one_alert_naming_the_floor(tmp_path: Path) -> None:
    video, truth = clip(tmp_path, THROW_SEED, True)
    assert read_truth(video.with_suffix(".json")) == truth
    (event,) = truth.events
    result = run_clip(video, truth, FULL_SCALE)
    (hit,) = result.alerts
    assert hit.event == 0
    assert hit.floor == event.floor == 6
    assert 0.0 <= hit.confirmed_s - event.end_s <= 1.0  # within a second of the fall's end
    assert result.frames == 100


@pytest.mark.slow
def test_the_alert_carries_trajectory_floor_and_column(tmp_path: Path) -> None:
    from datetime import timedelta

    import cv2
    import numpy as np

    from evaluation.thrown_object.scoring import build_detector
    from hub.model import Frame

    video, truth = clip(tmp_path, THROW_SEED, True)
    detector = build_detector(truth, FULL_SCALE)
    capture = cv2.VideoCapture(str(video))
    alerts = []
    for index in range(truth.frames):
        ok, image = capture.read()
        assert ok
        wall = truth.start_wall + timedelta(seconds=index / truth.fps)
        frame = Frame("cam1", index, index / truth.fps, wall, np.asarray(image, np.uint8))
        alerts.extend(detector.process(frame))
    (alert,) = alerts
    assert (alert.kind, alert.camera_id, alert.region) == ("thrown_object", "eval", "facade")
    assert alert.details["floor"] == 6
    assert alert.details["window_column"] == truth.events[0].window_column
    assert 0.5 <= alert.details["floor_confidence"] <= 1.0
    (line,) = alert.overlay
    assert len(line) >= 8 and all(0 <= x <= 1 and 0 <= y <= 1 for x, y in line)
    assert alert.started_at < alert.confirmed_at
    assert len(alert.details["trajectory"]) >= 7


@pytest.mark.slow
@pytest.mark.parametrize("seed", DISTRACTOR_SEEDS)
def test_distractors_raise_no_alert(tmp_path: Path, seed: int) -> None:
    video, truth = clip(tmp_path, seed, False)
    assert truth.events == [] and len(truth.distractors) >= 2
    assert run_clip(video, truth, FULL_SCALE).alerts == []


@pytest.mark.slow
def test_corrupt_clips_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    video, truth = clip(tmp_path, THROW_SEED, True)
    garbage = tmp_path / "clip_9001.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    write_truth(garbage.with_suffix(".json"), truth.model_copy(update={"clip": garbage.name}))
    damaged = bytearray(video.read_bytes())
    middle = len(damaged) // 2
    damaged[middle : middle + 3000] = bytes(range(250)) * 12  # smashed frames mid-stream
    broken = tmp_path / "clip_9002.mp4"
    broken.write_bytes(bytes(damaged))
    write_truth(broken.with_suffix(".json"), truth.model_copy(update={"clip": broken.name}))
    (tmp_path / "clip_9003.json").write_text('{"clip": "clip_9003.mp4", "fps": "fast"}')
    run = run_directory(tmp_path, FULL_SCALE)
    assert sorted(run.errors) == ["clip_9001", "clip_9003"]
    assert "clip_9001.mp4: cannot open video" in run.errors["clip_9001"]
    assert "clip_9003.json: invalid sidecar: source: Field required" in run.errors["clip_9003"]
    evaluated = {result.clip: result for result in run.clips}
    assert evaluated["clip_9002.mp4"].frames > 0  # what decodes is analysed; nothing crashes
    assert len(evaluated["clip_0014.mp4"].alerts) == 1


@pytest.mark.slow
def test_cli_makes_clips_and_evaluates_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "clips"
    argv = ["eval", "make-clips", "thrown-object", "--out", str(out), "--count", "2"]
    assert main([*argv, "--width", "320", "--height", "180", "--duration", "2", "--seed", "5"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "clip_0000.json", "clip_0000.mp4", "clip_0001.json", "clip_0001.mp4",
    ]  # fmt: skip
    settings = tmp_path / "settings.yaml"
    settings.write_text("scale: 1.0\nmin_track_frames: 6\n")
    assert main(["eval", "thrown-object", "--clips", str(out), "--settings", str(settings)]) == 0
    printed = capsys.readouterr()
    assert "recall_qualifying" in printed.out and "2/2" in printed.err
    report = json.loads((out / "evaluation.json").read_text())
    assert report["summary"]["clips"] == 2 and report["settings"]["scale"] == 1.0
    assert (out / "evaluation.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_rejects_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "clips"
    out.mkdir()
    write_truth(out / "clip_0000.json", _tiny_truth())
    settings = tmp_path / "settings.yaml"
    settings.write_text("min_track_frames: 1\n")
    assert main(["eval", "thrown-object", "--clips", str(out), "--settings", str(settings)]) == 0
    report = json.loads((out / "evaluation.json").read_text())
    assert "min_track_frames" in report["errors"]["clip_0000"]
    assert main(["eval", "thrown-object", "--clips", str(tmp_path / "none")]) == 2
    assert "no clip sidecars" in capsys.readouterr().err


def _tiny_truth() -> ClipTruth:
    from detectors.thrown_object.config import FloorCalibration
    from evaluation.thrown_object.clips import EPOCH

    return ClipTruth(
        clip="clip_0000.mp4", source="generated", width=64, height=36, fps=25.0, frames=1,
        start_wall=EPOCH, facade=[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)],
        calibration=FloorCalibration(lines=[0.1, 0.9], top_floor=2),
    )  # fmt: skip
