"""Scoring of the fire-lane evaluation: episodes, false and duplicate alerts, delays."""

from __future__ import annotations

import pytest

from evaluation.fire_lane.cli import parse_seeds
from evaluation.fire_lane.clips import LANE, ClipTruth, Episode, plan
from evaluation.fire_lane.scoring import score, table
from hub.errors import HubError

A, C = "fire_lane", "fire_lane_cleared"
TRUTH = ClipTruth(
    video="x.avi",
    fps=10,
    duration_s=159,
    lane=LANE,
    episodes=(
        Episode(20, 60, "car", 0.7, 0.5, (1, 2, 3)),
        Episode(80, 90, "boxes", 0.7, 0.5, (1, 2, 3)),  # shorter than the dwell
        Episode(100, 150, "ebike", 0.7, 0.5, (1, 2, 3)),
    ),
)


def test_score_counts_detections_false_alerts_duplicates_and_delays() -> None:
    events = [
        (5.0, A),  # before any episode: false
        (41.0, A),  # episode 1, 1 s after the dwell threshold
        (50.0, A),  # episode 1 again: a duplicate
        (64.0, C),  # 4 s after episode 1 ended
        (88.0, A),  # in the short episode: false
        (119.0, A),  # episode 3, 1 s early
        (130.0, C),  # while episode 3's object is still there: a false clear
    ]
    result = score("x", TRUTH, events, dwell_s=20)
    assert (result.episodes, result.detected) == (2, 2)
    assert (result.false_alerts, result.duplicates, result.false_clears) == (2, 1, 1)
    assert result.alert_delays == [1.0, -1.0]
    assert result.clear_delays == [4.0]
    assert "| **total** | 2 | 2 | 2 | 1 | 1 | -1..1 | 4..4 |" in table([result])


def test_plans_are_reproducible_and_start_after_the_warm_up() -> None:
    assert plan(5, 159) == plan(5, 159)
    assert plan(3, 159) == plan(7, 159) == ()  # every fourth seed: people only
    assert len(plan(2, 159)) == 2
    assert all(e.start >= 12 and e.end - e.start >= 30 for s in range(8) for e in plan(s, 159))


@pytest.mark.parametrize(("text", "seeds"), [("0-3", [0, 1, 2, 3]), ("4,7", [4, 7]), ("5", [5])])
def test_parse_seeds(text: str, seeds: list[int]) -> None:
    assert parse_seeds(text) == seeds


def test_bad_seeds_are_one_clear_error() -> None:
    with pytest.raises(HubError, match="--seeds: expected A-B"):
        parse_seeds("a-b")
