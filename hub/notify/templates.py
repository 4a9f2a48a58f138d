"""Chat messages from case events: one template per event type, in Chinese or English.

The six event types a chat group hears about, and the audit-log events they come
from: case opened (`report`), camera offline (`report` of a `camera_offline`
case), dispatched (`dispatch`, `redispatch`), escalated (`escalate`, `handoff`),
SLA missed (`sla_escalate`) and resolved (`resolve`). Every other event (a
comment, a repeated alert, a patrol's accept) has no template and no robot hears
of it. A message names the scenario, the grid path (街道 / 社区 / 网格), the
place, the time in the site's time zone, the note, and, when `notify.public_url`
is set, a link to the case and the evidence snapshot of a camera case.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hub.cases.feed import CaseEvent
from hub.config import Camera, Sensor, SiteConfig
from hub.seams import Message

LANGUAGES = ("zh", "en")
EVENT_TYPES = ("opened", "dispatched", "escalated", "sla_missed", "resolved", "camera_offline")
ACTION_TYPES = {
    "report": "opened", "dispatch": "dispatched", "redispatch": "dispatched",
    "escalate": "escalated", "handoff": "escalated", "sla_escalate": "sla_missed",
    "resolve": "resolved",
}  # fmt: skip

# event type -> language -> title ({scenario} is filled in)
TITLES: dict[str, dict[str, str]] = {
    "opened": {"zh": "【新事件】{scenario}", "en": "[New case] {scenario}"},
    "dispatched": {"zh": "【已派遣】{scenario}", "en": "[Dispatched] {scenario}"},
    "escalated": {"zh": "【已提级】{scenario}", "en": "[Escalated] {scenario}"},
    "sla_missed": {"zh": "【超时未处置】{scenario}", "en": "[SLA missed] {scenario}"},
    "resolved": {"zh": "【已处置】{scenario}", "en": "[Resolved] {scenario}"},
    "camera_offline": {"zh": "【摄像机离线】{scenario}", "en": "[Camera offline] {scenario}"},
}
LABELS: dict[str, dict[str, str]] = {
    "case": {"zh": "事件编号", "en": "Case"},
    "grid": {"zh": "网格", "en": "Grid"},
    "place": {"zh": "地点", "en": "Place"},
    "time": {"zh": "时间", "en": "Time"},
    "severity": {"zh": "等级", "en": "Severity"},
    "note": {"zh": "说明", "en": "Note"},
    "for": {"zh": "请处理", "en": "For"},
    "unknown": {"zh": "未知", "en": "unknown"},
}


def event_type(event: CaseEvent) -> str | None:
    """The template an event is told with, or None when chat groups do not hear of it."""
    kind = ACTION_TYPES.get(event.action)
    if kind == "opened" and event.kind == "camera_offline":
        return "camera_offline"
    return kind


def compose(
    event: CaseEvent, site: SiteConfig, language: str, people: tuple[str, ...] = ()
) -> Message | None:
    """The message for `event` in `language`, naming `people` ("张建国 (网格长)") when given."""
    kind = event_type(event)
    if kind is None:
        return None
    lang = language if language in LANGUAGES else "zh"
    scenario = event.title if lang == "zh" else event.kind.replace("_", " ")
    lines = [
        f"{_label('case', lang)}: #{event.case_id}",
        f"{_label('grid', lang)}: {grid_path(site, event.grid_id) or _label('unknown', lang)}",
        f"{_label('place', lang)}: {place(site, event) or _label('unknown', lang)}",
        f"{_label('time', lang)}: {local_time(site, event)}",
        f"{_label('severity', lang)}: {event.severity}",
    ]
    if event.note:
        lines.append(f"{_label('note', lang)}: {event.note}")
    if people:
        lines.append(f"{_label('for', lang)}: {', '.join(people)}")
    base = site.notify.public_url.rstrip("/") if site.notify.public_url else None
    return Message(
        title=TITLES[kind][lang].format(scenario=scenario),
        lines=tuple(lines),
        link=f"{base}/?case={event.case_id}" if base else None,
        image_url=f"{base}/api/cases/{event.case_id}/evidence/0"
        if base and event.camera_id and kind != "camera_offline"
        else None,
    )


def _label(key: str, lang: str) -> str:
    return LABELS[key][lang]


def grid_path(site: SiteConfig, grid_id: str | None) -> str:
    """街道 / 社区 / 网格 names from the top down, or "" for no (or an unknown) grid."""
    grids = {g.id: g for g in site.grids}
    names: list[str] = []
    while grid_id is not None and grid_id in grids and len(names) < len(grids):
        names.append(grids[grid_id].name)
        grid_id = grids[grid_id].parent
    return " / ".join(reversed(names))


def place(site: SiteConfig, event: CaseEvent) -> str:
    """The camera's or sensor's name and position, or "" for a case reported by hand."""
    found: list[Camera | Sensor] = [c for c in site.cameras if c.id == event.camera_id]
    found += [s for s in site.sensors if s.id == event.sensor_id]
    if not found:
        return ""
    where = found[0].location
    return f"{found[0].name} ({where.lat:.5f}, {where.lon:.5f})"


def local_time(site: SiteConfig, event: CaseEvent) -> str:
    return event.at.astimezone(ZoneInfo(site.site.timezone)).strftime("%Y-%m-%d %H:%M:%S")
