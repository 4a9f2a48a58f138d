"""Case search over HTTP on a 10,000-case history: filters, pages, totals, CSV, bad input."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.hub import Hub
from tests.conftest import HubFactory, auth_headers

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]
N = 10_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = ("fire_lane", "thrown_object", "intrusion", "loitering")
STATES = ("closed", "rejected", "evaluated", "reported", "resolved")
CAMERAS = ("CAM-QH-L01", "CAM-QH-L02", "CAM-QH-F01", None)
SEED_SQL = """
INSERT INTO cases (kind, state, severity, grid_id, camera_id, title, details, opened_at,
                   updated_at)
SELECT (%(kinds)s::text[])[1 + i %% 4], (%(states)s::text[])[1 + i %% 5], 2,
       (SELECT id FROM grids ORDER BY id LIMIT 1 OFFSET i %% 2),
       (%(cameras)s::text[])[1 + i %% 4],
       CASE WHEN i = 4321 THEN '南门 电动车堵塞' ELSE 'case ' || i END,
       jsonb_build_object('n', i), %(t0)s + make_interval(mins => i),
       %(t0)s + make_interval(mins => i)
FROM generate_series(1, %(n)s) AS i
"""


@pytest.fixture
def hub(hub_factory: HubFactory) -> Hub:
    hub = hub_factory()
    with hub.pool.connection() as conn:
        conn.execute(SEED_SQL, {"kinds": list(KINDS), "states": list(STATES),
                                "cameras": list(CAMERAS), "t0": T0, "n": N})  # fmt: skip
        conn.execute("ANALYZE cases")
    return hub


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def _search(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = client.get("/api/search/cases", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_filters_pages_and_totals_over_ten_thousand_cases(hub: Hub, client: TestClient) -> None:
    operator = auth_headers(hub, "operator")
    every = _search(client, operator, limit=100)
    assert every["total"] == N and len(every["items"]) == 100
    assert [c["id"] for c in every["items"]] == sorted((c["id"] for c in every["items"]),
                                                        reverse=True)  # fmt: skip
    one = {"state": ["rejected"], "kind": "fire_lane", "camera": "CAM-QH-L01"}
    # i % 5 == 2 (rejected), i % 4 == 0 (fire_lane, CAM-QH-L01): i % 20 == 12
    assert _search(client, operator, **one)["total"] == N // 20
    window = {"since": (T0 + timedelta(minutes=101)).isoformat(),
              "until": (T0 + timedelta(minutes=201)).isoformat()}  # fmt: skip
    assert _search(client, operator, **window)["total"] == 100
    seen: list[int] = []
    cursor = None
    while True:
        page = _search(client, operator, **one, limit=200, **({"cursor": cursor} if cursor else {}))
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == N // 20
    text = _search(client, operator, q="电动车")
    assert [c["title"] for c in text["items"]] == ["南门 电动车堵塞"]
    by_scenario = _search(client, operator, q="高空抛物", limit=1)  # the scenario's name
    assert by_scenario["total"] == N // 4
    assert _search(client, operator, q="100%")["total"] == 0  # % is literal, not a wildcard


def test_a_page_is_quick_on_the_indexes(hub: Hub, client: TestClient) -> None:
    operator = auth_headers(hub, "operator")
    _search(client, operator, camera="CAM-QH-F01")  # warm
    started = time.perf_counter()
    for _ in range(10):
        _search(client, operator, camera="CAM-QH-F01", state=["reported"], limit=50)
    per_page_s = (time.perf_counter() - started) / 10
    assert per_page_s < 0.5, per_page_s
    for where in ("camera_id = 'CAM-QH-F01'", "state = 'rejected' AND kind = 'fire_lane'",
                  "opened_at >= '2026-01-03' AND opened_at < '2026-01-04'"):  # fmt: skip
        with hub.pool.connection() as conn:
            query = f"EXPLAIN SELECT id FROM cases WHERE {where} ORDER BY id DESC LIMIT 50"
            plan = " ".join(str(r[0]) for r in conn.execute(query))
        assert "Index" in plan and "Seq Scan" not in plan, plan


def test_csv_is_the_filtered_view(hub: Hub, client: TestClient) -> None:
    answer = client.get("/api/search/cases.csv", params={"kind": "intrusion", "state": "closed"},
                        headers=auth_headers(hub, "operator"))  # fmt: skip
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert len(rows) == N // 20  # i % 4 == 2 and i % 5 == 0
    assert {(r["kind"], r["state"]) for r in rows} == {("intrusion", "closed")}


@pytest.mark.parametrize("params, field", [
    ({"state": "open"}, "state"),
    ({"since": "2026-01-01T00:00:00"}, "since"),
    ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
    ({"camera": "CAM 1; DROP TABLE"}, "camera"),
    ({"limit": "0"}, "limit"),
    ({"q": "x" * 101}, "q"),
    ({"colour": "red"}, "colour"),
])  # fmt: skip
def test_bad_parameters_are_a_422_naming_the_field(
    hub: Hub, client: TestClient, params: dict[str, str], field: str
) -> None:
    answer = client.get("/api/search/cases", params=params, headers=auth_headers(hub, "operator"))
    assert answer.status_code == 422
    assert field in answer.text
    assert client.get("/api/search/cases").status_code == 401
