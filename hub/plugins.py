"""The plugin registry: detectors, frame sources, notifiers and commands found through entry points.

An integrator's package plugs in exactly as the built-in ones do, by declaring
``[project.entry-points."gridhub.detectors"] name = "package.module:plugin"``:
every entry point names an object called ``plugin``. Nothing is discovered by
scanning subclasses or importing everything: a group is read, each entry is
loaded, checked against its group's Protocol (hub.seams) and registered under
its name. An entry that fails to load, or lacks what its Protocol asks for,
stops start-up with a `PluginError` naming it and what is wrong.

Callers ask by `PluginGroup`, which carries the group's Protocol, and get the
plugin typed: ``registry.get(DETECTORS, "fire_lane")`` is a `DetectorPlugin`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar, cast

from hub.errors import PluginError
from hub.seams import CommandPlugin, DetectorPlugin, NotifierPlugin, SourcePlugin

log = logging.getLogger(__name__)
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
ENTRY_POINT_OBJECT = "plugin"  # the one name every entry point's object has


@dataclass(frozen=True, slots=True)
class PluginGroup(Generic[T_co]):
    """An entry-point group and the runtime-checkable Protocol (`T_co`) its plugins keep."""

    name: str
    protocol: type[object]  # the Protocol class T_co (mypy cannot take a Protocol as type[T])


DETECTORS: PluginGroup[DetectorPlugin] = PluginGroup("gridhub.detectors", DetectorPlugin)
SOURCES: PluginGroup[SourcePlugin] = PluginGroup("gridhub.sources", SourcePlugin)
NOTIFIERS: PluginGroup[NotifierPlugin] = PluginGroup("gridhub.notifiers", NotifierPlugin)
COMMANDS: PluginGroup[CommandPlugin] = PluginGroup("gridhub.cli", CommandPlugin)
GROUPS: dict[str, PluginGroup[object]] = {
    g.name: g for g in (DETECTORS, SOURCES, NOTIFIERS, COMMANDS)
}


@dataclass
class Registry:
    """Loaded plugins by group name and entry-point name, each checked against its Protocol."""

    plugins: dict[str, dict[str, object]] = field(default_factory=dict)

    def get(self, group: PluginGroup[T], name: str) -> T:
        """The plugin `name` of `group`, typed; a `PluginError` listing the installed names."""
        known = self.plugins.get(group.name, {})
        if name not in known:
            names = ", ".join(sorted(known)) or "none"
            raise PluginError(f"no {group.name} plugin named '{name}' (installed: {names})")
        return _checked(group, name, known[name])

    def all(self, group: PluginGroup[T]) -> dict[str, T]:
        """Every plugin of `group` by name, typed."""
        known = self.plugins.get(group.name, {})
        return {name: _checked(group, name, known[name]) for name in sorted(known)}

    def names(self, group: str | PluginGroup[object]) -> list[str]:
        key = group if isinstance(group, str) else group.name
        return sorted(self.plugins.get(key, {}))


def load_registry(groups: Iterable[str | PluginGroup[object]] = GROUPS.values()) -> Registry:
    """Load and check every entry point of the given groups, failing on the first bad one."""
    registry = Registry()
    for wanted in groups:
        group = GROUPS[wanted] if isinstance(wanted, str) else wanted
        registry.plugins[group.name] = {
            ep.name: _checked(group, ep.name, _load(group.name, ep))
            for ep in entry_points(group=group.name)
        }
        log.debug("loaded %s plugins: %s", group.name, registry.names(group))
    return registry


def _load(group: str, ep: EntryPoint) -> object:
    try:
        return ep.load()
    except Exception as exc:  # any import-time failure of third-party code
        raise PluginError(
            f"plugin '{ep.name}' ({group} = {ep.value}) failed to load: {type(exc).__name__}: {exc}"
        ) from exc


def _checked(group: PluginGroup[T], name: str, plugin: object) -> T:
    """`plugin` as its group's Protocol, or a `PluginError` saying what it lacks."""
    if isinstance(plugin, group.protocol):
        return cast(T, plugin)  # the isinstance check above is the Protocol check
    missing = ", ".join(m for m in protocol_members(group.protocol) if not hasattr(plugin, m))
    raise PluginError(
        f"plugin '{name}' ({group.name}) is not a {group.protocol.__name__}: "
        f"it lacks {missing or 'nothing by name, yet fails the check'} "
        f"(an entry point names an object called '{ENTRY_POINT_OBJECT}')"
    )


def protocol_members(protocol: type[object]) -> list[str]:
    """The attributes and methods a Protocol asks for, in declaration order."""
    names = list(inspect.get_annotations(protocol))
    names += [
        n
        for n, v in vars(protocol).items()
        if (inspect.isfunction(v) or isinstance(v, property)) and n[0] != "_"
    ]
    return names
