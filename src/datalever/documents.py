"""The general document loader: a TOML or JSON file into a strict pydantic model, with precise errors.

Used by every part that reads a file (scenarios, flow catalogs, preferences, alignment inputs). The
vocabulary (`StrictModel`, `ConfigError`, `validate_mapping`) is economy's, re-exported here, because the
policy is read with the same rules and `economy` may import nothing else from datalever.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from datalever.economy.config import (
    ConfigError,
    StrictModel,
    describe_validation_error,
    parse_toml,
    read_file,
    validate_mapping,
)

__all__ = [
    "ConfigError",
    "StrictModel",
    "describe_validation_error",
    "load_document",
    "load_toml",
    "validate_mapping",
]

M = TypeVar("M", bound=BaseModel)


def load_toml(path: str | Path, model: type[M]) -> M:
    """Read a TOML file into `model`, raising ConfigError with a precise message on any problem."""
    return parse_toml(read_file(path), model, str(path))


def load_document(path: str | Path, model: type[M]) -> M:
    """Read a `.json` file, or TOML for any other suffix, into `model` with the same precise errors."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        return load_toml(path, model)
    raw = read_file(path)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), [f"not valid JSON ({error})"]) from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["the top level must be an object"])
    return validate_mapping(data, model, str(path))
