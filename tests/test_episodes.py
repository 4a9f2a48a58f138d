"""The dwell / tolerance / cooldown / one-alert-per-episode state machine, as tables."""

from __future__ import annotations

import pytest

from detectors.zones.episodes import Continuity, EpisodeRules, EpisodeTimer, Event

A, C = Event.ALERT, Event.CLEARED
RULES = EpisodeRules(dwell_s=10, clear_s=3, cooldown_s=20)

# Each step: (time, since-or-None, expected event).
PARKED_ONCE = [(0, 0, None), (5, 0, None), (9, 0, None), (10, 0, A), (30, 0, None),
               (31, None, None), (33, None, C), (34, None, None), (40, None, None)]  # fmt: skip
OCCLUDED = [(0, 0, None), (10, 0, A), (11, None, None), (12, 0, None), (13, None, None),
            (15, 0, None), (20, 0, None), (21, None, None), (24, None, C)]  # fmt: skip
PASSING = [(0, 0, None), (3, 0, None), (4, None, None), (6, 6, None), (9, 6, None),
           (10, None, None), (14, None, None), (15, 15, None), (24, 15, None)]  # fmt: skip
COOLDOWN = [(0, 0, None), (10, 0, A), (11, None, None), (14, None, C), (15, 15, None),
            (25, 15, None), (32, 15, None), (33, 15, A), (34, None, None),
            (37, None, C)]  # fmt: skip
BACKDATED = [(0, None, None), (8, 2, None), (12, 2, A)]


@pytest.mark.parametrize(
    "steps",
    [PARKED_ONCE, OCCLUDED, PASSING, COOLDOWN, BACKDATED],
    ids=["parked-once", "occlusion-tolerated", "passing-never", "cooldown", "backdated-since"],
)
def test_episode_timer(steps: list[tuple[float, float | None, Event | None]]) -> None:
    timer = EpisodeTimer(RULES)
    got = [timer.update(t, since) for t, since, _ in steps]
    assert got == [event for _, _, event in steps]


def test_an_episode_that_never_alerted_ends_silently() -> None:
    timer = EpisodeTimer(RULES)
    assert timer.update(0, 0) is None
    assert timer.update(5, None) is None
    assert not timer.open


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([(0, True), (1, True), (2, True)], [0, 0, 0]),
        ([(0, True), (1, False), (2, True)], [0, None, 0]),  # gap of 2 s forgiven
        ([(0, True), (1, False), (5, True)], [0, None, 5]),  # gap of 5 s restarts
    ],
)
def test_continuity(steps: list[tuple[float, bool]], expected: list[float | None]) -> None:
    memory = Continuity(gap_s=2)
    assert [memory.update(t, holds) for t, holds in steps] == expected
