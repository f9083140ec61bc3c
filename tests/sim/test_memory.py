"""keep_freed_memory: applies on glibc Linux, once per process, and is a no-op elsewhere."""

from __future__ import annotations

import platform
import sys

from datalever.sim import memory


def test_applies_once_and_reports_it() -> None:
    first = memory.keep_freed_memory()
    assert memory.keep_freed_memory() == first
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert first is True  # glibc accepts both thresholds (the largest mmap threshold it allows)
