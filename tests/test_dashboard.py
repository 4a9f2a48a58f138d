"""The dashboard in a real browser (Debian's Chromium via Playwright) against a real hub.

Each test serves a hub on real PostgreSQL and MQTT over HTTP, logs in through the
login page, and checks what the people on duty see and what their clicks change
in the database. Screenshots of each page land in test-output/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

from hub.hub import Hub
from tests.browser import (
    CHROMIUM_ARGS,
    PASSWORD,
    add_login,
    chromium_path,
    screenshot_path,
    serve_hub,
)
from tests.conftest import PATROL_POSITIONS, Device, HubFactory, wait_until
from tests.test_alerts import _alert
from tests.test_dispatch import _report_for_duty

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]
LIVE_S = 2.0  # an alert must be on the board this soon, without a reload


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


Login = Callable[..., Page]


@pytest.fixture
def login(browser: Browser) -> Iterator[Login]:
    """`login(base, name, **context)`: a page logged in through the login form."""
    contexts: list[BrowserContext] = []

    def open_page(base: str, name: str, **context: Any) -> Page:
        contexts.append(browser.new_context(base_url=base, **context))
        return _login(contexts[-1].new_page(), name)

    yield open_page
    for context in contexts:
        context.close()


def _login(page: Page, name: str) -> Page:
    page.on("pageerror", lambda exc: print("page error:", exc))  # noqa: T201 (shown on failure)
    page.on("console", lambda msg: print("console:", msg.type, msg.text))  # noqa: T201
    page.goto("/")  # no session yet: the room sends the browser to the login form
    page.wait_for_url(re.compile(r"/login\?next=(/|%2F)$"))
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/(patrol|zones)?$"))
    return page


def _state(hub: Hub, case_id: int) -> str:
    with hub.pool.connection() as conn:
        row = conn.execute("SELECT state FROM cases WHERE id = %s", (case_id,)).fetchone()
    assert row is not None
    return str(row[0])


def _open(hub: Hub, **alert: Any) -> int:
    """A new case from an alert through the hub's alert sink (as a detector would)."""
    case_id = hub.cases.record(_alert(hub, **alert)).case_id
    assert case_id is not None
    return case_id


def _card(page: Page, case_id: int, state: str | None = None) -> Locator:
    column = f".column[data-state={state}] " if state else ""
    return page.locator(f"{column}.card[data-id='{case_id}']")


def test_room_live_board_accept_reject_and_language(hub_factory: HubFactory, login: Login
                                                    ) -> None:  # fmt: skip
    hub = hub_factory()
    with serve_hub(hub) as base:
        room = login(base, add_login(hub, "duty-op", "operator"),
                      viewport={"width": 1600, "height": 900})  # fmt: skip
        expect(room.locator("#conn")).to_have_attribute("data-state", "open")
        expect(room.locator("h1")).to_contain_text("指挥中心")
        first = _open(hub)
        expect(_card(room, first, "reported")).to_be_visible(timeout=LIVE_S * 1000)
        expect(room.locator(f"#feed [data-case='{first}']").first).to_be_visible()
        expect(room.locator(".grid[data-open='1']")).to_have_count(1)
        expect(room.locator("#map .camera")).to_have_count(len(hub.site.cameras))

        _card(room, first).click()
        room.click("#detail button[data-action=accept]")
        wait_until(lambda: _state(hub, first) == "accepted", timeout=5)
        expect(_card(room, first, "accepted")).to_be_visible()
        expect(room.locator("#detail .audit li")).to_have_count(2)

        second = _open(hub, kind="intrusion", region="gate")
        expect(_card(room, second, "reported")).to_be_visible(timeout=LIVE_S * 1000)
        _card(room, second).focus()
        room.keyboard.press("Enter")  # keyboard-usable: a card is a button
        room.fill("#action-note", "树影晃动")
        room.click("#detail button[data-action=reject]")
        wait_until(lambda: _state(hub, second) == "rejected", timeout=5)
        expect(_card(room, second)).to_have_count(0)

        room.click("#lang")
        expect(room.locator("h1")).to_contain_text("Monitoring room")
        expect(room.locator("html")).to_have_attribute("lang", "en")
        expect(room.locator(".column[data-state=accepted] h3")).to_contain_text("Accepted")
        room.screenshot(path=screenshot_path("room-en"))
        room.click("#lang")
        expect(room.locator("h1")).to_contain_text("指挥中心")
        room.screenshot(path=screenshot_path("room"))

        room.click("#tab-stats")
        expect(room.locator("#board-view")).to_be_hidden()
        expect(room.locator("#stats-table tbody tr")).to_have_count(1)
        expect(room.locator("#stats-table tbody td").nth(2)).to_have_text("1")  # 1 false alarm
        room.select_option("#stats-group", "kind")
        expect(room.locator("#stats-table tbody tr")).to_have_count(2)  # fire_lane, intrusion
        room.screenshot(path=screenshot_path("stats"))


def test_live_feed_resumes_after_a_dropped_connection(hub_factory: HubFactory, login: Login
                                                      ) -> None:  # fmt: skip
    hub = hub_factory()
    with serve_hub(hub) as base:
        room = login(base, add_login(hub, "duty-op", "operator"))
        expect(room.locator("#conn")).to_have_attribute("data-state", "open")
        seen = _open(hub)
        expect(_card(room, seen)).to_be_visible(timeout=LIVE_S * 1000)
        # Drop the socket and open a case while it is down: the reconnect asks for the
        # events after the last token, so the case still arrives.
        room.evaluate("gridhubLive.drop()")
        expect(room.locator("#conn")).to_have_attribute("data-state", "lost")
        expect(room.locator("#conn")).to_contain_text("连接中断")
        missed = _open(hub, kind="intrusion", region="gate")
        expect(room.locator("#conn")).to_have_attribute("data-state", "open", timeout=5000)
        expect(_card(room, missed)).to_be_visible(timeout=LIVE_S * 1000)


def test_sound_on_a_high_severity_case_and_mute(hub_factory: HubFactory, login: Login) -> None:
    hub = hub_factory()
    with serve_hub(hub) as base:
        room = login(base, add_login(hub, "duty-op", "operator"))
        expect(room.locator("#conn")).to_have_attribute("data-state", "open")
        beeps = "window.gridhubBeeps ?? 0"
        low = _open(hub)  # fire_lane: severity 2, no sound
        expect(_card(room, low)).to_be_visible(timeout=LIVE_S * 1000)
        assert room.evaluate(beeps) == 0
        high = _open(hub, kind="intrusion", region="gate")  # severity 3
        expect(_card(room, high)).to_be_visible(timeout=LIVE_S * 1000)
        assert room.evaluate(beeps) == 1
        room.click("#mute")
        expect(room.locator("#mute")).to_have_attribute("aria-pressed", "true")
        muted = _open(hub, kind="intrusion", region="door")
        expect(_card(room, muted)).to_be_visible(timeout=LIVE_S * 1000)
        assert room.evaluate(beeps) == 1


def test_sla_countdown_turns_amber_then_red(hub_factory: HubFactory, login: Login,
                                            demo_raw: dict[str, Any]) -> None:  # fmt: skip
    demo_raw["sla"]["accept_s"] = 3
    hub = hub_factory(raw=demo_raw)
    with serve_hub(hub) as base:
        room = login(base, add_login(hub, "duty-op", "operator"),
                     viewport={"width": 1600, "height": 900})  # fmt: skip
        expect(room.locator("#conn")).to_have_attribute("data-state", "open")
        case_id = _open(hub)
        card = _card(room, case_id)
        expect(card).to_have_attribute("data-sla", "amber", timeout=LIVE_S * 1000)
        expect(card).to_have_attribute("data-sla", "red", timeout=6000)
        expect(card.locator(".countdown")).to_contain_text(re.compile("已超时|↑1"))
        room.screenshot(path=screenshot_path("room-sla"))


def test_patrol_accepts_and_resolves_and_the_board_follows(
    hub_factory: HubFactory, login: Login, mqtt_url: str
) -> None:
    hub = hub_factory()
    tx = Device(mqtt_url, "browser-test-tx")
    try:
        _report_for_duty(hub, tx, {"P01": PATROL_POSITIONS["P01"]})
    finally:
        tx.close()
    with serve_hub(hub) as base:
        room = login(base, add_login(hub, "duty-op", "operator"))
        phone = login(base, add_login(hub, "p01", "patrol", "P01"),
                       viewport={"width": 390, "height": 844}, is_mobile=True)  # fmt: skip
        expect(phone.locator("#dispatch .empty")).to_be_visible()
        phone.goto("/")  # the room is not for a patrol: it is sent to its own page
        expect(phone).to_have_url(re.compile("/patrol$"))
        case_id = _open(hub)  # CAM-QH-L01: in P01's grid
        _card(room, case_id).click()
        room.click("#detail button[data-action=accept]")
        room.click("#detail button[data-action=dispatch]")
        expect(_card(room, case_id, "dispatched")).to_be_visible()

        expect(phone.locator("#dispatch h3")).to_contain_text(f"#{case_id}", timeout=8000)
        phone.click("#dispatch button[data-action=accept]")
        expect(phone.locator("#dispatch button[data-action=resolve]")).to_be_visible()
        phone.screenshot(path=screenshot_path("patrol"))
        phone.fill("#reply-note", "已清理通道")
        phone.click("#dispatch button[data-action=resolve]")
        wait_until(lambda: _state(hub, case_id) == "resolved", timeout=5)
        expect(phone.locator("#dispatch .empty")).to_be_visible()
        expect(_card(room, case_id, "resolved")).to_be_visible(timeout=LIVE_S * 1000)
        expect(room.locator("#detail .audit")).to_contain_text("已清理通道")


def _draw_triangle(page: Page) -> None:
    expect(page.locator("#finish")).to_be_enabled()  # the camera list has loaded
    overlay = page.locator("#overlay")
    box = overlay.bounding_box()
    assert box is not None
    for fx, fy in ((0.2, 0.3), (0.7, 0.3), (0.5, 0.8)):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    page.fill("#zone-label", "消防通道")
    page.click("#finish")


def test_zone_editor_draws_on_the_cameras_picture(hub_factory: HubFactory, login: Login
                                                  ) -> None:  # fmt: skip
    hub = hub_factory()
    with serve_hub(hub) as base:
        page = login(base, add_login(hub, "integ", "integrator"),
                      viewport={"width": 1400, "height": 800})  # fmt: skip
        expect(page).to_have_url(re.compile("/zones$"))
        expect(page.locator("#camera option").first).to_be_attached()
        before = page.locator("#zone-list li").count()
        _draw_triangle(page)
        expect(page.locator("#zone-list li")).to_have_count(before + 1)
        expect(page.locator("#overlay polygon")).to_have_count(before + 1)
        page.screenshot(path=screenshot_path("zones"))


def test_zone_editor_saves_a_polygon_to_the_camera(hub_factory: HubFactory, login: Login
                                                   ) -> None:  # fmt: skip
    hub = hub_factory()
    with serve_hub(hub) as base:
        page = login(base, add_login(hub, "integ", "integrator"))
        _draw_triangle(page)
        page.click("#save")
        expect(page.locator("#status")).to_have_text("已保存")
        camera = page.locator("#camera").input_value()  # the list has loaded by now
        assert camera
        saved = page.request.get(f"/api/cameras/{camera}").json()
        labels = [z.get("label") for z in saved["zones"] if z["kind"] == "polygon"]
        assert "消防通道" in labels
        zone = next(z for z in saved["zones"] if z.get("label") == "消防通道")
        assert len(zone["points"]) == 3
        assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in zone["points"])
