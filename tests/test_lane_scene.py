"""The generated fire-lane scene: its timeline, and the real detector scoring it."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.fire_lane.clips import load_truth
from evaluation.fire_lane.scene import (
    DRIVE_IN_S,
    PARK_V,
    WARMUP_S,
    SceneSettings,
    car_v,
    lane_point,
    truth_of,
    walkers,
)
from evaluation.fire_lane.scoring import run_clip
from hub.cli import main

SETTINGS = SceneSettings()
DEMO_DETECTOR = {"dwell_s": 10, "clear_s": 5, "cooldown_s": 10}


def test_the_lane_is_empty_while_the_detector_learns_it_and_when_the_clip_loops() -> None:
    assert car_v(0.0, SETTINGS) is None
    assert car_v(WARMUP_S - 0.1, SETTINGS) is None
    assert car_v(SETTINGS.duration_s - 0.1, SETTINGS) is None  # the loop joins on an empty lane


def test_the_car_drives_in_parks_and_leaves_towards_the_camera() -> None:
    parked = WARMUP_S + DRIVE_IN_S
    coming = [car_v(WARMUP_S + f * DRIVE_IN_S, SETTINGS) for f in (0.0, 0.3, 0.6, 0.9)]
    depths = [v for v in coming if v is not None]
    assert len(depths) == 4 and depths == sorted(depths)  # nearer every moment
    assert {car_v(parked + s, SETTINGS) for s in (0.0, 5.0, SETTINGS.park_s - 0.1)} == {PARK_V}
    leaving = car_v(parked + SETTINGS.park_s + 1.0, SETTINGS)
    assert leaving is not None and leaving > PARK_V


def test_the_sidecar_episode_spans_the_parked_car() -> None:
    truth = truth_of("x.mp4", 3, SETTINGS)
    (episode,) = truth.episodes
    assert episode.start == WARMUP_S + DRIVE_IN_S
    assert car_v(episode.start, SETTINGS) == PARK_V
    assert episode.end - episode.start > DEMO_DETECTOR["dwell_s"] + 5  # long enough to alert
    out = car_v(episode.end + 0.05, SETTINGS)
    assert out is None or out > 1.0  # past the near end of the lane
    assert truth.duration_s - episode.end > DEMO_DETECTOR["clear_s"] + 1  # clears before the loop
    assert lane_point(0.5, PARK_V) == pytest.approx((episode.x, episode.y), abs=1e-4)


def test_people_cross_at_the_same_times_for_the_same_seed() -> None:
    assert walkers(4, SETTINGS) == walkers(4, SETTINGS)
    assert walkers(4, SETTINGS) != walkers(5, SETTINGS)
    assert all(0 <= w.start < SETTINGS.duration_s for w in walkers(4, SETTINGS))


@pytest.mark.slow
def test_a_rendered_scene_alerts_once_and_clears_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rendered and scored by the CLI, played through the real fire_lane detector at 1 fps."""
    assert main(["eval", "make-clips", "fire-lane", "--generated", "--out", str(tmp_path),
                 "--seeds", "2"]) == 0  # fmt: skip
    video = tmp_path / "lane-scene-002.mp4"
    assert capsys.readouterr().out.strip() == str(video)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lane-scene-002.json", video.name]
    assert load_truth(video.with_suffix(".json")) == truth_of(video.name, 2, SETTINGS)

    assert main(["eval", "fire-lane", "--clips", str(tmp_path), "--dwell", "10"]) == 0
    assert "| lane-scene-002 | 1 | 1 | 0 | 0 | 0 |" in capsys.readouterr().out
    score = run_clip(video, DEMO_DETECTOR)
    assert (score.episodes, score.detected) == (1, 1)
    assert (score.false_alerts, score.duplicates, score.false_clears) == (0, 0, 0)
    assert all(-3 <= d <= 3 for d in score.alert_delays), score.alert_delays
    assert len(score.clear_delays) == 1 and 0 <= score.clear_delays[0] <= 10
