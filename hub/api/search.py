"""Case search for the history view: filters, a page, the total, and CSV of the filtered view.

`GET /api/search/cases` narrows by state (repeatable), scenario kind, grid, camera,
opening time (`since` ≤ opened_at < `until`, ISO 8601 with a zone) and free text
(in the title or details, a case id, or a scenario's name such as 高空抛物), newest
first with a cursor. Every parameter is checked: an unknown state, a malformed id,
a time without a zone or a `since` after `until` is a 422 naming the field.
`GET /api/search/cases.csv` is the same view as CSV (up to `CSV_MAX` rows).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from hub.api.cases import CaseView
from hub.api.contract import IsoTime
from hub.api.deps import HubDep, Staff
from hub.cases.queries import CaseFilter, count_cases, list_cases
from hub.cases.store import CaseRow
from hub.hub import Hub

router = APIRouter(tags=["cases"])
CSV_MAX = 100_000
State = Literal["reported", "accepted", "dispatched", "arrived", "resolved", "closed",
                "evaluated", "rejected", "escalated"]  # fmt: skip
ID = r"^[A-Za-z0-9_.:-]{1,64}$"
CSV_COLUMNS = ("id", "kind", "state", "severity", "title", "grid_id", "camera_id", "sensor_id",
               "lat", "lon", "escalation_level", "opened_at", "updated_at")  # fmt: skip


class SearchQuery(BaseModel):
    """The history view's filters."""

    model_config = {"extra": "forbid"}

    state: list[State] | None = Field(default=None, description="Repeat for several states.")
    kind: str | None = Field(default=None, pattern=ID, description="Scenario, e.g. fire_lane.")
    grid: str | None = Field(default=None, pattern=ID, description="Grid id.")
    camera: str | None = Field(default=None, pattern=ID, description="Camera id.")
    since: IsoTime | None = Field(default=None, description="Opened at or after (with a zone).")
    until: IsoTime | None = Field(default=None, description="Opened before (with a zone).")
    q: str | None = Field(default=None, min_length=1, max_length=100, description="Free text.")
    cursor: int | None = Field(default=None, ge=1, description="next_cursor of the last page.")
    limit: int = Field(default=50, ge=1, le=500, description="Page size.")


class SearchPage(BaseModel):
    items: list[CaseView]
    total: int = Field(description="Cases matching the filters (all pages).")
    next_cursor: int | None = Field(description="Pass as `cursor` for the next (older) page.")


Search = Annotated[SearchQuery, Query()]


def _filter(hub: Hub, q: SearchQuery) -> CaseFilter:
    if q.since and q.until and q.since >= q.until:
        raise HTTPException(422, {"loc": ["query", "since"], "msg": "must be before until",
                                  "type": "value_error"})  # fmt: skip
    text = q.q.strip() if q.q and q.q.strip() else None
    kinds = hub.cases.scenarios.kinds_named(text) if text else ()
    return CaseFilter(
        states=tuple(q.state or ()), grid_id=q.grid, kind=q.kind, since=q.since, until=q.until,
        before_id=q.cursor, camera_id=q.camera, text=text, text_kinds=kinds,
    )  # fmt: skip


@router.get("/api/search/cases", summary="Search the case history, newest first")
def search_cases(hub: HubDep, _user: Staff, q: Search) -> SearchPage:
    f = _filter(hub, q)
    with hub.pool.connection() as conn:
        found = list_cases(conn, f, q.limit)
        total = count_cases(conn, f)
    next_cursor = found[-1].id if len(found) == q.limit else None
    items = [CaseView.model_validate(r, from_attributes=True) for r in found]
    return SearchPage(items=items, total=total, next_cursor=next_cursor)


@router.get(
    "/api/search/cases.csv",
    summary="The searched cases as CSV",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def search_csv(hub: HubDep, _user: Staff, q: Search) -> StreamingResponse:
    f = replace(_filter(hub, q), before_id=None)
    with hub.pool.connection() as conn:
        found = list_cases(conn, f, CSV_MAX)
    return StreamingResponse(
        _csv(found), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cases.csv"'},
    )  # fmt: skip


def _csv(found: list[CaseRow], chunk: int = 1000) -> Iterator[str]:
    yield "\ufeff"  # a BOM, so spreadsheet programs read the Chinese right
    yield _lines([CSV_COLUMNS])
    for start in range(0, len(found), chunk):
        yield _lines([getattr(r, c) for c in CSV_COLUMNS] for r in found[start : start + chunk])


def _lines(values: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(values)
    return out.getvalue()
