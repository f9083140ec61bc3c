"""Strict TOML-backed models: a bad key or value is refused with its dotted path and the reason.

Shared by the credit policy and by other TOML inputs (simulator scenarios) so every file the project reads
reports errors the same way.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    """Immutable, unknown keys refused: a typo in a policy must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(ValueError):
    """A configuration file could not be read or failed validation; the message names each bad key."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


M = TypeVar("M", bound=BaseModel)


def describe_validation_error(error: ValidationError) -> list[str]:
    """One line per problem: `section.key: reason` (the reason from pydantic, in plain words)."""
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        reason = item["msg"]
        if item["type"] == "extra_forbidden":
            reason = "unknown key"
        elif item["type"] == "missing":
            reason = "missing required key"
        lines.append(f"{key}: {reason}")
    return lines


def validate_mapping(data: dict[str, Any], model: type[M], source: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(source, describe_validation_error(error)) from None


def load_toml(path: str | Path, model: type[M]) -> M:
    """Read a TOML file into `model`, raising ConfigError with a precise message on any problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(str(path), [f"cannot read file ({error.strerror})"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), [f"not valid TOML ({error})"]) from None
    return validate_mapping(data, model, str(path))


def load_document(path: str | Path, model: type[M]) -> M:
    """Read a `.json` file, or TOML for any other suffix, into `model` with the same precise errors."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        return load_toml(path, model)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(str(path), [f"cannot read file ({error.strerror})"]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), [f"not valid JSON ({error})"]) from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["the top level must be an object"])
    return validate_mapping(data, model, str(path))
