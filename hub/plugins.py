"""The plugin registry: detectors, frame sources and notifiers found through entry points.

An integrator's package plugs in exactly as the built-in ones do, by declaring
``[project.entry-points."gridhub.detectors"] name = "package.module:factory"``.
Nothing is discovered by scanning subclasses or importing everything: a group is
read, each entry is loaded and registered under its name, and an entry that fails
to load stops start-up with a `PluginError` naming it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

from hub.errors import PluginError

log = logging.getLogger(__name__)

GROUPS = ("gridhub.detectors", "gridhub.sources", "gridhub.notifiers", "gridhub.cli")


@dataclass
class Registry:
    """Loaded plugins by group and name."""

    plugins: dict[str, dict[str, object]] = field(default_factory=dict)

    def get(self, group: str, name: str) -> object:
        """The plugin `name` of `group`, or a `PluginError` listing the known names."""
        known = self.plugins.get(group, {})
        if name not in known:
            names = ", ".join(sorted(known)) or "none"
            raise PluginError(f"no {group} plugin named '{name}' (installed: {names})")
        return known[name]

    def names(self, group: str) -> list[str]:
        return sorted(self.plugins.get(group, {}))


def load_registry(groups: Iterable[str] = GROUPS) -> Registry:
    """Load every entry point of the given groups, failing on the first broken one."""
    registry = Registry()
    for group in groups:
        registry.plugins[group] = {ep.name: _load(group, ep) for ep in entry_points(group=group)}
        log.debug("loaded %s plugins: %s", group, registry.names(group))
    return registry


def _load(group: str, ep: EntryPoint) -> object:
    try:
        return ep.load()
    except Exception as exc:  # any import-time failure of third-party code
        raise PluginError(
            f"plugin '{ep.name}' ({group} = {ep.value}) failed to load: {type(exc).__name__}: {exc}"
        ) from exc
