"""Which scenario an alert belongs to: camera alerts by their detector plugin, the rest by config.

A camera alert's kind is the kind of the detector that raised it, so its
scenario (title, severity, auto-dispatch rule) is the `DetectorScenario` that
detector's plugin declares: a third-party detector's cases carry its own zh
title, and a camera detector named ``smoke`` never takes the smoke-sensor
rules. Sensor alerts and the hub's own kinds (``camera_offline``, ``manual``)
take the site's table (`SiteConfig.scenario`). A site's ``scenarios:`` entry for
a kind overrides both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.config import Scenario, SiteConfig, default_scenarios
from hub.model import Alert
from hub.plugins import DETECTORS, Registry
from hub.seams import DetectorScenario


@dataclass(frozen=True, slots=True)
class CaseTitle:
    """The titles a new case gets from its first alert."""

    zh: str
    en: str | None  # the declared English title, when a detector declares one


class ScenarioBook:
    """Scenario rules by kind and source, from the site file and the detector plugins."""

    def __init__(self, site: SiteConfig, declared: Mapping[str, DetectorScenario]) -> None:
        self._site = site
        self._declared = dict(declared)

    @classmethod
    def of(cls, site: SiteConfig, registry: Registry) -> ScenarioBook:
        """The book for `site` with the scenarios of every installed detector plugin."""
        plugins = registry.all(DETECTORS).values()
        return cls(site, {p.scenario.kind: p.scenario for p in plugins})

    def rules(self, kind: str, camera: bool | None = None) -> Scenario:
        """The rules for `kind` from a camera (True), a sensor (False) or either (None)."""
        given = self._site.scenarios.get(kind)
        declared = self._declared.get(kind)
        if given is not None:
            return given
        if declared is not None and (camera or (camera is None and not self._site.has(kind))):
            return Scenario(
                title=declared.title_zh,
                severity=declared.severity,
                auto_dispatch_confidence=declared.auto_dispatch_confidence,
            )
        return self._site.scenario(kind)

    def kinds_named(self, text: str) -> tuple[str, ...]:
        """The kinds whose title (the site's, or a detector's zh or en template) holds `text`."""
        titles: dict[str, list[str]] = {k: [s.title] for k, s in self._site.scenarios.items()}
        for kind, declared in self._declared.items():
            titles.setdefault(kind, []).extend((declared.title_zh, declared.title_en))
        for kind, scenario in default_scenarios().items():
            titles.setdefault(kind, []).append(scenario.title)
        lowered = text.lower()
        return tuple(sorted(k for k, ts in titles.items() if any(lowered in t.lower() for t in ts)))

    def for_alert(self, alert: Alert) -> Scenario:
        return self.rules(alert.kind, camera=alert.camera_id is not None)

    def title(self, alert: Alert) -> CaseTitle:
        """The alert's own summary, else the zh title (declared template or site's)."""
        declared = self._declared.get(alert.kind) if alert.camera_id else None
        if declared is None or alert.kind in self._site.scenarios:
            return CaseTitle(alert.summary or self.for_alert(alert).title, None)
        return CaseTitle(alert.summary or declared.title(alert), declared.title(alert, "en"))
