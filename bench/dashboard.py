"""The monitoring room in Debian's Chromium with 1,000 open cases and 500 patrols.

    python -m bench.dashboard [--cases 1000] [--patrols 500] [--alerts 20]

A full hub (`open_hub`, demo site) on a fresh database and a private Mosquitto,
served over HTTP by uvicorn in a thread; the browser logs in as an operator.
Figures: time from opening `/` to all open cases on the board; live latency from
an alert committed by the sink to its card on that board (with the 1,000 cases
there); the per-second countdown pass over every card; and one update of the
map's patrol layer with `--patrols` synthetic patrols fed to the page's map in
the browser (the demo site has 6 real ones, so these do not come through the API).
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import uvicorn
from playwright.sync_api import Page, sync_playwright

from bench.common import fresh_database, percentile, private_broker
from hub.api.app import create_app
from hub.auth import add_user
from hub.cli import DEMO_CONFIG
from hub.config import load_site
from hub.hub import Hub, open_hub
from hub.model import Alert
from hub.services import Endpoints

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
PORT = 18765


def store_open_cases(hub: Hub, count: int) -> None:
    """`count` open cases over the demo grids, deadlines from past to 10 minutes ahead."""
    with hub.pool.connection() as conn:
        conn.execute(
            """INSERT INTO cases (kind, state, severity, grid_id, lat, lon, title, opened_at,
                   updated_at, accept_deadline, arrive_deadline)
               SELECT 'fire_lane',
                      (ARRAY['reported','accepted','dispatched','arrived','resolved',
                             'escalated'])[1 + i %% 6],
                      1 + i %% 4,
                      (ARRAY['WT-QH-01','WT-QH-02','WT-QH-03','WT-LS-01','WT-LS-02','WT-LS-03'])
                          [1 + i %% 6],
                      30.27 + (i %% 37) * 0.0003, 120.14 + (i %% 41) * 0.0003,
                      '压测案件 ' || i, now() - interval '5 minutes', now(),
                      now() + make_interval(secs => (i %% 20) * 30 - 60),
                      now() + make_interval(secs => (i %% 20) * 30 - 60)
               FROM generate_series(1, %s) AS i""",
            (count,),
        )
        conn.execute(
            """INSERT INTO case_events (case_id, at, actor, action, to_state)
               SELECT id, opened_at, 'bench', 'report', state FROM cases"""
        )


@contextmanager
def serving(hub: Hub) -> Iterator[str]:
    config = uvicorn.Config(
        create_app(hub),
        host="127.0.0.1",
        port=PORT,
        log_level="warning",
        ws="websockets-sansio",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )  # the pages' sockets hold it open
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{PORT}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def log_in(page: Page) -> float:
    """Log in and return seconds from opening `/` to every open case on the board."""
    page.goto("/login")
    page.fill("input[name=name]", "bench-op")
    page.fill("input[name=password]", "bench-pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    t0 = time.perf_counter()
    page.goto("/")
    page.wait_for_function("window.gridhubRoom && window.gridhubRoom.board.cards.size >= "
                           "Number(document.body.dataset.expect)", timeout=60_000)  # fmt: skip
    return time.perf_counter() - t0


def live_latencies(hub: Hub, page: Page, alerts: int) -> list[float]:
    times = []
    for i in range(alerts):
        now = datetime.now(UTC)
        alert = Alert(kind="intrusion", started_at=now, confirmed_at=now, confidence=0.7,
                      camera_id="CAM-QH-L01", region=f"bench-{i}")  # fmt: skip
        t0 = time.perf_counter()
        case_id = hub.cases.record(alert).case_id
        page.wait_for_selector(f".card[data-id='{case_id}']", state="attached")
        times.append((time.perf_counter() - t0) * 1000)
    return times


IN_PAGE = """([what, n]) => {
  const { board, map } = window.gridhubRoom;
  const times = [];
  const box = map.root.viewBox.baseVal;
  const frac = (x) => x - Math.floor(x);
  for (let run = 0; run < 20; run++) {
    const patrols = Array.from({ length: n }, (_, i) => ({ id: `X${i}`, name: `P${i}`,
      last_fix: { lat: map.origin[1] - frac(i * 0.618 + run * 0.01) * (box.height - 20) / map.scale,
                  lon: map.origin[0] + frac(i * 0.754 + run * 0.01) * (box.width - 20)
                       / (map.scale * map.k) },
      fix_age_s: i % 50, dispatch_id: i % 5 === 0 ? i : null, available: i % 3 === 0,
      duty_status: "on_duty" }));
    const t0 = performance.now();
    if (what === "tick") board.tick(); else map.setPatrols(patrols);
    times.push(performance.now() - t0);
  }
  return times;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--patrols", type=int, default=500)
    parser.add_argument("--alerts", type=int, default=20)
    parser.add_argument("--screenshot", help="save the loaded room as this PNG")
    args = parser.parse_args()
    site = load_site(DEMO_CONFIG)
    with (
        fresh_database() as db_url,
        private_broker() as broker,
        open_hub(site, Endpoints(db_url, False, broker, False)) as hub,
        serving(hub) as base,
        sync_playwright() as pw,
    ):
        store_open_cases(hub, args.cases)
        with hub.pool.connection() as conn:
            add_user(conn, "bench-op", "operator", password="bench-pw")
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=base, viewport={"width": 1600, "height": 900})
        page.add_init_script(f"document.addEventListener('DOMContentLoaded', () => "
                             f"document.body.dataset.expect = '{args.cases}')")  # fmt: skip
        load_s = log_in(page)
        live = live_latencies(hub, page, args.alerts)
        tick = page.evaluate(IN_PAGE, ["tick", 0])
        patrols = page.evaluate(IN_PAGE, ["patrols", args.patrols])
        if args.screenshot:
            page.locator(".card").nth(3).click()
            page.wait_for_selector("#detail h2")
            page.screenshot(path=args.screenshot)
        browser.close()
    print(f"dashboard benchmark, {datetime.now(UTC):%Y-%m-%d}, Debian chromium headless")
    print(f"  board load, {args.cases:,} open cases: {load_s * 1000:.0f} ms (open / to all cards)")
    print(
        f"  alert committed → card on the board ({args.cases:,} cases there): "
        f"p50 {percentile(live, 50):.0f} ms, max {max(live):.0f} ms ({args.alerts} alerts)"
    )
    print(
        f"  countdown pass over {args.cases:,} cards: p50 {percentile(tick, 50):.1f} ms, "
        f"max {max(tick):.1f} ms"
    )
    print(
        f"  patrol layer update, {args.patrols} patrols: p50 {percentile(patrols, 50):.1f} ms, "
        f"max {max(patrols):.1f} ms (first run creates the dots: {patrols[0]:.1f} ms)"
    )


if __name__ == "__main__":
    main()
