"""Plugin settings: validate a plugin's own settings, or a `ConfigError` naming each field.

Every detector and notifier that parses its settings does it here, so a bad value
reads the same whichever plugin it belongs to:
``cameras[CAM-1].detectors[fire_lane].dwell_s: Input should be greater than 0``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from hub.config import field_path
from hub.errors import ConfigError

SettingsT = TypeVar("SettingsT", bound=BaseModel)


def plugin_settings(model: type[SettingsT], raw: Mapping[str, object], where: str) -> SettingsT:
    """`raw` validated as `model`; every problem as ``{where}.{field path}: message``."""
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        problems = [
            f"{_join(where, field_path(error['loc']))}: {error['msg']}"
            for error in exc.errors(include_url=False)
        ]
        raise ConfigError("\n".join(problems)) from exc


def _join(where: str, path: str) -> str:
    if where and path:
        return f"{where}.{path}"
    return where or path or "(settings)"
