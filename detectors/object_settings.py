"""Settings and class-name resolution shared by detectors that run an object model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from detectors.backends.base import ModelSettings, ObjectModel, load_model
from hub.errors import ConfigError


def class_ids(model: ObjectModel, names: Sequence[str], where: str) -> frozenset[int]:
    """Ids of the model's classes called `names` (case-insensitive); unknown names fail."""
    by_name: Mapping[str, int] = {name.lower(): i for i, name in model.names.items()}
    missing = [name for name in names if name.lower() not in by_name]
    if missing:
        known = ", ".join(model.names.values())
        raise ConfigError(f"{where}: model has no class {missing} (it knows: {known})")
    return frozenset(by_name[name.lower()] for name in names)


def open_model(settings: ModelSettings | None) -> ObjectModel | None:
    return None if settings is None else load_model(settings)
