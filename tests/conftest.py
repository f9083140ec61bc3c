"""Shared fixtures. PostgreSQL tests read DATALEVER_TEST_POSTGRES_URL; CI makes them mandatory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_POLICY = REPO_ROOT / "policies" / "default.toml"


def postgres_url() -> str | None:
    return os.environ.get("DATALEVER_TEST_POSTGRES_URL") or None


def require_postgres() -> str:
    """The PostgreSQL URL, or a clear skip (a failure when DATALEVER_REQUIRE_POSTGRES=1, as in CI)."""
    url = postgres_url()
    if url is None:
        if os.environ.get("DATALEVER_REQUIRE_POSTGRES") == "1":
            pytest.fail("DATALEVER_TEST_POSTGRES_URL is not set but DATALEVER_REQUIRE_POSTGRES=1 (CI)")
        pytest.skip("PostgreSQL test: set DATALEVER_TEST_POSTGRES_URL=postgresql+psycopg://... to run it")
    return url


def require_shared_data(*parts: str) -> Path:
    """A file from ../shared/data, or a clear skip when the shared folder is not beside the checkout."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing in CI: {path}")
        pytest.skip(f"shared data not found: {path}")
    return path


@pytest.fixture
def default_policy_path() -> Path:
    return DEFAULT_POLICY
