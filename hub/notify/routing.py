"""Routing rules: which case events go to which chat robot.

A robot's settings may hold ``routes:``, a list of rules; an event goes to the
robot when it has a template (hub/notify/templates.py) and matches any rule
(no rules: every templated event). A rule matches when each field it sets does:
`events` (event types), `scenarios` (case kinds), `min_severity`, `grids` (the
case's grid is one of these or lies below one: a subtree), and `hours` (the
hour of day in the site's time zone, e.g. ``"22-6"`` for a night-shift group,
wrapping past midnight).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from hub.cases.feed import CaseEvent
from hub.config import NotifierSpec, SiteConfig, field_path
from hub.errors import ConfigError
from hub.notify.templates import EVENT_TYPES, event_type


class Route(BaseModel):
    """One routing rule; unset fields match everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    events: list[str] | None = Field(default=None, description=f"Of {', '.join(EVENT_TYPES)}.")
    scenarios: list[str] | None = Field(default=None, description="Case kinds, e.g. fire_lane.")
    min_severity: int = Field(default=1, ge=1, le=4, description="Lowest severity sent.")
    grids: list[str] | None = Field(default=None, description="Grid ids: these subtrees only.")
    hours: str | None = Field(
        default=None, pattern=r"^\d{1,2}-\d{1,2}$",
        description="START-END hours of day, local time, END exclusive; 22-6 wraps midnight.",
    )  # fmt: skip

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str] | None) -> list[str] | None:
        for name in events or []:
            if name not in EVENT_TYPES:
                raise ValueError(f"unknown event type '{name}' (one of {', '.join(EVENT_TYPES)})")
        return events

    @field_validator("hours")
    @classmethod
    def _hours_in_day(cls, hours: str | None) -> str | None:
        if hours is not None and any(int(h) > 24 for h in hours.split("-")):
            raise ValueError("hours are 0..24")
        return hours


ROUTES = TypeAdapter(list[Route])


@dataclass(frozen=True)
class Routing:
    """A robot's rules, against one site's grid tree and time zone."""

    routes: tuple[Route, ...]
    site: SiteConfig

    @classmethod
    def of(cls, spec: NotifierSpec, site: SiteConfig) -> Routing:
        """The rules in `spec` (its ``routes`` key); `ConfigError` naming a bad field."""
        raw: Any = (spec.model_extra or {}).get("routes") or []
        try:
            routes = ROUTES.validate_python(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            raise ConfigError(f"routes{field_path(['', *error['loc']])}: {error['msg']}") from None
        return cls(tuple(routes), site)

    def wants(self, event: CaseEvent) -> bool:
        kind = event_type(event)
        if kind is None:
            return False
        return not self.routes or any(self._matches(r, event, kind) for r in self.routes)

    def _matches(self, route: Route, event: CaseEvent, kind: str) -> bool:
        return (
            (route.events is None or kind in route.events)
            and (route.scenarios is None or event.kind in route.scenarios)
            and event.severity >= route.min_severity
            and (route.grids is None or self._within(event.grid_id, route.grids))
            and (route.hours is None or self._in_hours(event, route.hours))
        )

    def _within(self, grid_id: str | None, roots: list[str]) -> bool:
        parents = {g.id: g.parent for g in self.site.grids}
        seen = 0
        while grid_id is not None and seen <= len(parents):
            if grid_id in roots:
                return True
            grid_id, seen = parents.get(grid_id), seen + 1
        return False

    def _in_hours(self, event: CaseEvent, hours: str) -> bool:
        start, end = (int(h) for h in hours.split("-"))
        hour = event.at.astimezone(ZoneInfo(self.site.site.timezone)).hour
        return start <= hour < end if start <= end else hour >= start or hour < end
