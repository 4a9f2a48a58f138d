"""The site model built from the installed plugins: each detector's settings in the schema.

`hub.config.SiteConfig` knows no plugin, so a detector's own settings ride on
its `DetectorSpec` unchecked. Here the site model is rebuilt with
``cameras[].detectors[]`` as a discriminated union on ``kind``: one model per
installed detector plugin (its settings model plus ``kind``, ``zones`` and
``enabled``, unknown keys forbidden). `gridhub config schema` prints its JSON
schema, and `load_checked_site` (``config check``, ``run``) rejects a misspelt
setting naming the field (``cameras[0].detectors[1].fire_lane.dwel_s``) and an
unknown kind listing the installed ones.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.config import Camera, DetectorSpec, SiteConfig, describe_validation, load_site
from hub.errors import ConfigError
from hub.infra.site_yaml import read_site_yaml
from hub.plugins import DETECTORS, Registry, load_registry
from hub.seams import DetectorPlugin


def detector_model(plugin: DetectorPlugin) -> type[BaseModel]:
    """`plugin`'s settings model plus the common fields, ``kind`` fixed to its kind."""
    common = DetectorSpec.model_fields
    scenario = plugin.scenario
    namespace: dict[str, object] = {
        "__doc__": f"{plugin.kind}: {scenario.title_zh} ({scenario.title_en}).",
        "__module__": __name__,
        "__annotations__": {
            "kind": Literal.__getitem__(plugin.kind),
            "zones": list[str],
            "enabled": bool,
        },  # fmt: skip
        "model_config": ConfigDict(extra="forbid", frozen=True),
        "kind": Field(description=common["kind"].description),
        "zones": Field(default_factory=list, description=common["zones"].description),
        "enabled": Field(default=True, description=common["enabled"].description),
    }
    made = types.new_class(
        f"{plugin.kind}_detector", (plugin.settings,), exec_body=lambda ns: ns.update(namespace)
    )
    assert issubclass(made, BaseModel)  # a subclass of the plugin's pydantic model
    return made


def site_model(plugins: Iterable[DetectorPlugin]) -> type[SiteConfig]:
    """`SiteConfig` with each camera's detectors as a union of the plugins' models."""
    models = tuple(detector_model(p) for p in sorted(plugins, key=lambda p: p.kind))
    if not models:
        spec: object = DetectorSpec
    elif len(models) == 1:
        spec = models[0]
    else:
        spec = Annotated[Union.__getitem__(models), Field(discriminator="kind")]  # noqa: UP007
    camera = _subclass(
        Camera, "detectors", list.__class_getitem__(spec), "Detectors that watch this camera."
    )
    site = _subclass(SiteConfig, "cameras", list.__class_getitem__(camera), "Cameras.")
    assert issubclass(site, SiteConfig)
    return site


def _subclass(base: type[BaseModel], name: str, annotation: object, doc: str) -> type[BaseModel]:
    """`base` with field `name` re-typed as `annotation` (an empty list by default)."""
    namespace: dict[str, object] = {
        "__doc__": base.__doc__,
        "__module__": __name__,
        "__annotations__": {name: annotation},
        name: Field(default_factory=list, description=doc),
    }
    made = types.new_class(base.__name__, (base,), exec_body=lambda ns: ns.update(namespace))
    assert issubclass(made, BaseModel)
    return made


def load_checked_site(path: Path, registry: Registry | None = None) -> SiteConfig:
    """`load_site`, with every detector's settings checked against its installed plugin."""
    registry = registry or load_registry([DETECTORS])
    model = site_model(registry.all(DETECTORS).values())
    try:
        model.model_validate(read_site_yaml(path))
    except ValidationError as exc:
        raise ConfigError(describe_validation(path, exc)) from None
    return load_site(path)


def site_json_schema(registry: Registry | None = None) -> str:
    """The JSON schema of a site file with the installed detectors' settings."""
    registry = registry or load_registry([DETECTORS])
    model = site_model(registry.all(DETECTORS).values())
    return json.dumps(model.model_json_schema(), ensure_ascii=False, indent=2)
