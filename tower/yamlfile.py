"""YAML files validated by pydantic models, with errors that name the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tower.exceptions import TowerError

__all__ = ["ConfigFileError", "load_yaml_model"]

M = TypeVar("M", bound=BaseModel)


class ConfigFileError(TowerError):
    """A configuration file is unreadable or invalid; the message says where and why."""

    status_code = 500
    code = "config_error"

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


def load_yaml_model(path: Path, model: type[M]) -> M:
    """Parse `path` and validate it as `model`; any problem raises ConfigFileError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(path, None, f"cannot read: {exc.strerror}") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigFileError(
            path, line, f"not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigFileError(path, 1, "expected a mapping at the top of the file")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        line = _line_of(node, first["loc"])
        reason = f"{location}: {first['msg']}" if location else first["msg"]
        raise ConfigFileError(path, line, reason) from exc


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest YAML node the error location reaches."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            if match is None:
                continue  # not a key: a union's tag in pydantic's location, or a missing field
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line
