"""Reading a site file's YAML safely: every way it can be wrong is one clear `ConfigError`.

A site file is text a person edits, and sometimes the wrong file: binary, huge,
endless (``/dev/zero``), nested thousands deep, or an alias bomb ("billion
laughs": a few lines whose anchors expand to billions of items). So the file
is read up to `MAX_SITE_FILE_BYTES`, must be UTF-8 YAML with a mapping at the
top, may not repeat a key within one mapping (YAML forbids it; PyYAML would
silently keep the last), and its data — aliases expanded — may hold at most
`MAX_NODES` values. Errors name the file and, where YAML knows it, the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hub.errors import ConfigError

MAX_SITE_FILE_BYTES = 16 * 1024 * 1024
MAX_NODES = 5_000_000  # values once aliases are expanded; a large city needs ~100,000


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key repeated within one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base` may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_site_yaml(path: Path) -> dict[str, Any]:
    """The site file's top-level mapping, or `ConfigError` saying what is wrong."""
    text = _read_text(path)
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {_describe(exc)}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not a usable site file: nested too deeply") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping with site:, grids:, …")
    _check_size(path, raw)
    return raw


def _describe(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):  # a control character, say
        char = exc.character
        code = char if isinstance(char, int) else ord(char)
        return f"offset {exc.position}: not valid YAML: character U+{code:04X} is not allowed"
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{where}not valid YAML: {reason}"


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_SITE_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_SITE_FILE_BYTES:
        raise ConfigError(
            f"{path}: larger than {MAX_SITE_FILE_BYTES // (1024 * 1024)} MiB; "
            "is this the site file?"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); "
            "a site file is YAML"
        ) from None


def _check_size(path: Path, raw: dict[str, Any]) -> None:
    """Refuse data whose aliases expand past `MAX_NODES` values; walked without recursion
    and stopping at the limit, so a bomb costs no more than the limit."""
    pending: list[dict[Any, Any] | list[Any]] = [raw]
    seen = 0
    while pending:
        container = pending.pop()
        seen += len(container)
        if seen > MAX_NODES:
            raise ConfigError(
                f"{path}: more than {MAX_NODES:,} values once YAML aliases are expanded "
                "(an alias bomb?)"
            )
        values = container.values() if isinstance(container, dict) else container
        pending.extend(v for v in values if isinstance(v, dict | list))
