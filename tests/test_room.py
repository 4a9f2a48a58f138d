"""The monitoring room's case panel, review queue, search and the patrol page, in Chromium.

Each test serves a real hub (PostgreSQL, MQTT) over HTTP with evidence files made
by the hub's own encoders, logs in through the login page and checks what the
operator and the patrol see. Screenshots land in test-output/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from hub.hub import Hub
from hub.model import EvidenceRef
from tests.browser import add_login, screenshot_path, serve_hub
from tests.conftest import HubFactory
from tests.room_support import case_with_evidence
from tests.test_alerts import _alert
from tests.test_dashboard import Login, _card, browser, login  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]
WIDE = {"viewport": {"width": 1600, "height": 900}}


@pytest.fixture
def hub(hub_factory: HubFactory, demo_raw: dict[str, Any], tmp_path: Path) -> Hub:
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    return hub_factory(raw=demo_raw)


def _media_ready(page: Page) -> tuple[int, float]:
    """The snapshot's natural width and the clip's duration once both have loaded."""
    page.wait_for_function("() => document.querySelector('#evidence img')?.naturalWidth > 0")
    page.wait_for_function("() => document.querySelector('#evidence video')?.duration > 0")
    width = page.evaluate("document.querySelector('#evidence img').naturalWidth")
    duration = page.evaluate("document.querySelector('#evidence video').duration")
    return int(width), float(duration)


def _seek(page: Page, to_s: float) -> float:
    return float(page.evaluate("""async (to) => {
        const v = document.querySelector('#evidence video');
        const done = new Promise((r) => v.addEventListener('seeked', r, { once: true }));
        v.currentTime = to;
        await done;
        return v.currentTime;
    }""", to_s))  # fmt: skip


def test_case_panel_shows_evidence_and_groups_repeats(hub: Hub, login: Login) -> None:  # noqa: F811
    case_id = case_with_evidence(hub, repeats=3)
    missing = hub.cases.record(_alert(hub, region="lane-2", evidence=(
        EvidenceRef("snapshot", "evidence/x.jpg", "image/jpeg", "No space left on device"),
    ))).case_id  # fmt: skip
    with serve_hub(hub) as base:
        room = login(base, add_login(hub, "duty-op", "operator"), **WIDE)
        _card(room, case_id).click()
        width, duration = _media_ready(room)
        assert width == 1280 and duration > 1.0
        assert _seek(room, 1.0) == pytest.approx(1.0, abs=0.2)
        expect(room.locator("#evidence .repeats summary")).to_contain_text("重复告警 ×3")
        expect(room.locator("#detail .audit li.repeat")).to_have_count(1)
        expect(room.locator("#detail .audit li.repeat")).to_contain_text("重复告警 ×3，最近")
        room.screenshot(path=screenshot_path("room-evidence"))
        room.click("#evidence img")
        expect(room.locator("#lightbox")).to_be_visible()
        room.click("#lightbox")
        expect(room.locator("#lightbox")).to_be_hidden()

        assert missing is not None
        _card(room, missing).click()
        expect(room.locator("#evidence .missing")).to_contain_text("No space left on device")
