"""Scalar-or-array plumbing so each rule is written once for the service (scalars) and simulator (arrays)."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

IntLike: TypeAlias = int | npt.NDArray[np.integer[Any]]
FloatLike: TypeAlias = float | npt.NDArray[np.floating[Any]]
BoolLike: TypeAlias = bool | npt.NDArray[np.bool_]


def unwrap_int(value: Any) -> Any:
    """Return a Python int for 0-d results so the service never stores NumPy scalars."""
    array = np.asarray(value)
    return int(array) if array.ndim == 0 else array


def unwrap_float(value: Any) -> Any:
    array = np.asarray(value)
    return float(array) if array.ndim == 0 else array


def unwrap_bool(value: Any) -> Any:
    array = np.asarray(value)
    return bool(array) if array.ndim == 0 else array
