"""YAML loading that remembers where each key came from, and fills ``${ENV_VAR}`` placeholders.

pydantic reports an error at a path such as ``("cameras", "gate", "fps")``; :class:`LocatedYaml` turns
that path into the file's line number so that the message can point at it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Loc = tuple[str | int, ...]


class ConfigError(ValueError):
    """A configuration file is unreadable or invalid. The message names the file, line and key."""


@dataclass(slots=True)
class LocatedYaml:
    """Parsed YAML data with the line of every key and list item.

    Attributes:
        data: the plain Python value (placeholders filled).
        lines: path of keys/indices to 1-based line number.
        source: file name for messages.
    """

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    source: str = "<config>"

    def line_of(self, loc: Loc) -> int | None:
        """The line of the deepest known prefix of ``loc`` (a missing key points at its parent)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None


def placeholders(data: Any, loc: Loc = ()) -> list[str]:
    """The dotted keys of ``data`` (parsed YAML) whose strings hold a ``${VAR}`` placeholder.

    Example:
        >>> placeholders({"cameras": {"gate": {"url": "rtsp://${HOST}/1"}}, "site": {"id": "s"}})
        ['cameras.gate.url']
    """
    if isinstance(data, dict):
        return [found for key, value in data.items() for found in placeholders(value, (*loc, key))]
    if isinstance(data, list):
        return [found for i, value in enumerate(data) for found in placeholders(value, (*loc, i))]
    if isinstance(data, str) and _PLACEHOLDER.search(data):
        return [".".join(str(part) for part in loc)]
    return []


def _fill(value: str, where: str, env: Mapping[str, str]) -> str:
    def repl(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(f"{where}: environment variable {name} is not set")

    return _PLACEHOLDER.sub(repl, value)


def _convert(node: yaml.Node, loc: Loc, out: LocatedYaml, env: Mapping[str, str]) -> Any:
    out.lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            if key in result:
                raise ConfigError(f"{out.source}:{key_node.start_mark.line + 1}: key {key!r} appears twice")
            child = (*loc, key)
            result[key] = _convert(value_node, child, out, env)
            out.lines[child] = key_node.start_mark.line + 1  # the key's line, not its value's
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*loc, i), out, env) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    value = yaml.safe_load(yaml.serialize(node))
    if isinstance(value, str) and "${" in value:
        where = f"{out.source}:{node.start_mark.line + 1}: {'.'.join(map(str, loc))}"
        filled = _fill(value, where, env)
        # A placeholder that is the whole value takes the type YAML would give the filled text.
        return yaml.safe_load(filled) if node.style is None and _PLACEHOLDER.fullmatch(value) else filled
    return value


def load_yaml(text: str, source: str = "<config>", env: Mapping[str, str] | None = None) -> LocatedYaml:
    """Parse YAML ``text``, recording line numbers and filling ``${VAR}`` / ``${VAR:-default}``.

    Raises:
        ConfigError: invalid YAML, a duplicate key, or an unset variable without default.

    Example:
        >>> doc = load_yaml("site:\\n  id: ${SITE:-demo}\\n", env={})
        >>> doc.data, doc.line_of(("site", "id"))
        ({'site': {'id': 'demo'}}, 2)
    """
    out = LocatedYaml(data=None, source=source)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if node is None:
        out.data = {}
        return out
    out.data = _convert(node, (), out, os.environ if env is None else env)
    return out


def load_yaml_file(path: Path, env: Mapping[str, str] | None = None) -> LocatedYaml:
    """Read and parse a YAML file (see :func:`load_yaml`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from exc
    return load_yaml(text, str(path), env)
