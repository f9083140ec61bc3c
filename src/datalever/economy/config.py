"""Strict models: a bad key or value is refused with its dotted path and the reason.

The vocabulary every document the project reads shares (the policy here; scenarios, catalogs and
preferences through `datalever.documents`, the general TOML/JSON loader, which builds on these), so every
file reports errors the same way. Economy reads only its own policy file, with `read_file` + `parse_toml`.
"""

from __future__ import annotations

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


def read_file(path: str | Path) -> bytes:
    """A file's bytes, or ConfigError naming the file and why it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ConfigError(str(path), [f"cannot read file ({error.strerror})"]) from None


def parse_toml(raw: bytes, model: type[M], source: str) -> M:
    """UTF-8 TOML into `model`, raising ConfigError (naming `source`) with a precise message on any problem."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(source, [f"not valid TOML ({error})"]) from None
    return validate_mapping(data, model, source)
