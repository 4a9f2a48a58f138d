"""The monitoring room's case panel, review queue, search and the patrol page, in Chromium.

Each test serves a real hub (PostgreSQL, MQTT) over HTTP with evidence files made
by the hub's own encoders, logs in through the login page and checks what the
operator and the patrol see. Screenshots land in test-output/.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, expect

from hub.hub import Hub
from hub.model import EvidenceRef
from tests.browser import add_login, screenshot_path, serve_hub
from tests.camera_support import RtspServer, rtsp_server  # noqa: F401 (fixture)
from tests.conftest import PATROL_POSITIONS, Device, HubFactory
from tests.room_support import case_with_evidence, repeat_alert
from tests.test_alerts import _alert
from tests.test_dashboard import Login, _card, browser, login  # noqa: F401 (fixtures)
from tests.test_dispatch import _report_for_duty
from tests.test_photos_api import phone_jpeg

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
        room.evaluate("document.querySelector('#evidence video').dataset.mark = 'kept'")
        room.evaluate("(v => { v.loop = true; return v.play(); })"
                      "(document.querySelector('#evidence video'))")  # fmt: skip
        assert room.evaluate("document.querySelector('#evidence video').paused") is False
        repeat_alert(hub, case_id)  # a looping scene repeats while the operator watches
        expect(room.locator("#evidence .repeats summary")).to_contain_text("重复告警 ×4")
        expect(room.locator("#evidence video")).to_have_attribute("data-mark", "kept")
        assert room.evaluate("document.querySelector('#evidence video').paused") is False
        room.screenshot(path=screenshot_path("room-evidence"))
        room.click("#evidence img")
        expect(room.locator("#lightbox")).to_be_visible()
        room.click("#lightbox")
        expect(room.locator("#lightbox")).to_be_hidden()

        assert missing is not None
        _card(room, missing).click()
        expect(room.locator("#evidence .missing")).to_contain_text("No space left on device")


def test_review_queue_rejects_with_a_reason_and_counts_it(hub: Hub, login: Login) -> None:  # noqa: F811
    thrown = case_with_evidence(hub, kind="thrown_object", region="facade",
                                details={"floor": 13, "window_column": 1},
                                summary="object thrown from floor 13, window column 1")  # fmt: skip
    english = "fire lane lane-2 blocked for 11 s"
    lane = hub.cases.record(_alert(hub, region="lane-2", summary=english,
                                   details={"blocked_s": 11.2})).case_id  # fmt: skip
    assert lane is not None
    with serve_hub(hub) as base:
        room = login(base, add_login(hub, "duty-op", "operator"), **WIDE)
        expect(_card(room, thrown)).to_contain_text("13楼 第1列窗口 高空抛物")
        expect(_card(room, lane)).to_contain_text("被占用 11 秒")
        room.click("#tab-review")
        items = room.locator("#review-list .review-item")
        expect(items).to_have_count(2)
        expect(items.first).to_have_attribute("data-id", str(lane))  # newest first
        room.wait_for_function(
            "() => document.querySelector('#review-list img.review-snap')?.naturalWidth > 0"
        )
        room.screenshot(path=screenshot_path("room-review"))
        _no_english_titles(room)
        room.click("#tab-board")
        _card(room, thrown).click()
        expect(room.locator("#evidence .alert-line").first).to_contain_text("13楼 · 第1列窗口")
        _no_english_titles(room)
        room.click("#tab-review")
        item = room.locator(f"#review-list .review-item[data-id='{lane}']")
        item.locator("select.reject-reason").select_option("animal")
        item.locator("button[data-verdict=reject]").click()
        expect(items).to_have_count(1)
        expect(_card(room, lane)).to_have_count(0)
        with hub.pool.connection() as conn:
            row = conn.execute("SELECT state, details->>'reject_reason' FROM cases WHERE id = %s",
                               (lane,)).fetchone()  # fmt: skip
        assert row == ("rejected", "animal")
        items.first.focus()
        room.keyboard.press("a")  # keyboard: accept
        expect(items).to_have_count(0)
        expect(_card(room, thrown, "accepted")).to_be_attached()  # on the board (hidden tab)
        room.click("#tab-stats")
        source = room.locator(
            "#false-alarm-table tr[data-source='CAM-QH-L01'][data-kind=fire_lane]"
        )
        expect(source).to_contain_text("动物或飞鸟 ×1")
        room.click("#lang")
        expect(source).to_contain_text("Animal or bird ×1")
        room.click("#tab-board")
        expect(_card(room, thrown)).to_contain_text("Object thrown from floor 13, window column 1")


ENGLISH_TITLE = re.compile(r"\b(object thrown|fire lane|blocked for|window column)\b", re.I)


def _no_english_titles(page: Page) -> None:
    """Not one English scenario sentence anywhere on the page in zh-CN."""
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    text = page.evaluate("document.body.innerText")
    assert not ENGLISH_TITLE.search(text), ENGLISH_TITLE.search(text)


def test_history_search_filters_and_exports(hub: Hub, login: Login) -> None:  # noqa: F811
    lane = hub.cases.record(_alert(hub, details={"blocked_s": 30})).case_id
    gate = hub.cases.record(_alert(hub, kind="intrusion", region="gate", camera="CAM-LS-G01",
                                   details={"count": 2}, summary="2 object(s) in gate")
                            ).case_id  # fmt: skip
    with serve_hub(hub) as base:
        room = login(base, add_login(hub, "duty-op", "operator"), **WIDE)
        room.click("#tab-history")
        rows = room.locator("#search-table tbody tr")
        expect(rows).to_have_count(2)
        expect(room.locator("#search-total")).to_have_text("共 2 件")
        room.select_option("#search select[name=camera]", "CAM-LS-G01")
        room.click("#search button[type=submit]")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("data-id", str(gate))
        room.select_option("#search select[name=camera]", "")
        room.fill("#search input[name=q]", "消防通道")  # the scenario's name
        room.press("#search input[name=q]", "Enter")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("data-id", str(lane))
        expect(rows.first).to_contain_text("消防通道 被占用 30 秒")
        room.screenshot(path=screenshot_path("room-history"))
        href = room.locator("#export").get_attribute("href")
        assert href is not None and "q=" in href
        exported = room.request.get(href)
        assert exported.ok and exported.text().count("\n") == 2  # the header and one case
        rows.first.click()
        expect(room.locator("#board-view")).to_be_visible()
        expect(room.locator("#detail h2")).to_contain_text(f"#{lane}")


def test_patrol_sees_snapshot_and_map_links_and_resolves_with_a_photo(
    hub: Hub,
    login: Login,  # noqa: F811
    mqtt_url: str,
) -> None:
    tx = Device(mqtt_url, f"room-test-tx-{uuid.uuid4().hex[:8]}")
    try:
        _report_for_duty(hub, tx, {"P01": PATROL_POSITIONS["P01"]})
    finally:
        tx.close()
    case_id = case_with_evidence(hub, details={"blocked_s": 40})
    with serve_hub(hub) as base:
        room = login(base, add_login(hub, "duty-op", "operator"), **WIDE)
        phone = login(base, add_login(hub, "p01", "patrol", "P01"),
                      viewport={"width": 390, "height": 844}, is_mobile=True)  # fmt: skip
        room.click("#tab-review")
        room.click(f"#review-list [data-id='{case_id}'] button[data-verdict=dispatch]")
        expect(room.locator(f"#review-list [data-id='{case_id}']")).to_have_count(0)

        expect(phone.locator("#dispatch h3")).to_contain_text("被占用 40 秒", timeout=8000)
        phone.wait_for_function("() => document.querySelector('.dispatch-snap')?.naturalWidth > 0")
        expect(phone.locator("#dispatch .distance")).to_contain_text("米")
        amap = phone.locator("#dispatch a.route-amap").get_attribute("href") or ""
        baidu = phone.locator("#dispatch a.route-baidu").get_attribute("href") or ""
        assert amap.startswith("https://uri.amap.com/marker?position=")
        assert "coord_type=bd09ll" in baidu
        expect(phone.locator("#dispatch a.route-geoApp")).to_have_attribute(
            "href", re.compile("^geo:")
        )
        phone.click("#dispatch button[data-action=accept]")
        expect(phone.locator("#reply-photos")).to_be_attached()
        phone.screenshot(path=screenshot_path("patrol-navigation"))
        phone.fill("#reply-note", "已清理通道")
        bad = FilePayload(name="x.txt", mimeType="image/jpeg", buffer=b"not a picture")
        phone.set_input_files("#reply-photos", files=[bad])
        phone.click("#dispatch button[data-action=resolve]")
        expect(phone.locator("#reply-error")).to_contain_text("not a picture")
        scene = phone_jpeg(640, 360)
        good = FilePayload(name="scene.jpg", mimeType="image/jpeg", buffer=scene)
        phone.set_input_files("#reply-photos", files=[good])
        phone.click("#dispatch button[data-action=resolve]")
        expect(phone.locator("#dispatch .empty")).to_be_visible()

        room.click("#tab-board")
        _card(room, case_id, "resolved").click()
        photo = room.locator("#evidence .photos img")
        expect(photo).to_have_count(1)
        room.wait_for_function(
            "() => document.querySelector('#evidence .photos img')?.naturalHeight === 640"
        )
        expect(room.locator("#evidence .photo-note")).to_contain_text("已清理通道")
        expect(room.locator("#detail .audit")).to_contain_text("巡逻员 P01，")  # the hub's note
        expect(room.locator("#detail .audit")).to_contain_text("照片 ×1")
        room.screenshot(path=screenshot_path("room-photo"))


def test_camera_wall_shows_live_frames_health_and_open_cases(
    hub_factory: HubFactory,
    demo_raw: dict[str, Any],
    tmp_path: Path,
    login: Login,  # noqa: F811
    rtsp_server: RtspServer,  # noqa: F811
) -> None:
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    live = {"id": "CAM-WALL-1", "name": "北门", "url": rtsp_server.url, "analysis_fps": 5,
            "location": {"lat": 30.2768, "lon": 120.1443}}  # fmt: skip
    demo_raw["cameras"] = [live, {**live, "id": "CAM-WALL-2", "name": "南门"}]
    hub = hub_factory(raw=demo_raw)
    case_id = hub.cases.record(_alert(hub, camera="CAM-WALL-2")).case_id
    with serve_hub(hub) as base:
        wall = login(base, add_login(hub, "duty-op", "operator"), **WIDE)
        wall.goto("/wall")
        tiles = wall.locator(".tile")
        expect(tiles).to_have_count(2)
        wall.wait_for_function("() => [...document.querySelectorAll('.tile img')]"
                               ".every((img) => img.naturalWidth > 0)", timeout=15000)  # fmt: skip
        expect(wall.locator(".tile[data-camera='CAM-WALL-1']")).to_have_attribute(
            "data-state", "online", timeout=12000)  # fmt: skip
        expect(wall.locator(".tile[data-camera='CAM-WALL-1'] .tile-health")).to_contain_text("在线")
        expect(wall.locator(".tile[data-camera='CAM-WALL-2']")).to_have_attribute("data-open", "1")
        expect(wall.locator(".tile[data-camera='CAM-WALL-1']")).to_have_attribute("data-open", "0")
        wall.screenshot(path=screenshot_path("wall"))
        wall.fill("#wall-filter", "南门")
        expect(tiles).to_have_count(1)
        assert "snapshot.jpg?width=480" in wall.evaluate("document.querySelector('.tile img').src")
        tiles.first.click()
        expect(wall.locator("#wall-big")).to_be_visible()
        expect(wall.locator("#wall-big-cases li")).to_contain_text(f"#{case_id}")
