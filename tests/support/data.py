"""Where test inputs live: the repository, the packaged default policy, and the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_POLICY = REPO_ROOT / "policies" / "default.toml"


def require_shared_data(*parts: str) -> Path:
    """A file from ../shared/data, or a clear skip when the shared folder is not beside the checkout."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing in CI: {path}")
        pytest.skip(f"shared data not found: {path}")
    return path
