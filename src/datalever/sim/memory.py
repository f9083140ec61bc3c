"""Keep freed memory in the process while simulating, so each week's temporary arrays cost no page faults.

glibc serves large blocks (the weekly temporaries of a block of people are 0.1-2 MB) with mmap and hands them
back to the kernel when they are freed, so the next week's arrays fault in their pages anew: on a virtual
machine that was ~15% of the simulator's CPU time. Raising glibc's mmap and trim thresholds keeps such blocks
in the heap for reuse. Results are unaffected (only where memory comes from changes); elsewhere a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # glibc mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD_BYTES = 512 * 1024 * 1024  # free heap kept before any is returned to the kernel

_done = False


def keep_freed_memory() -> bool:
    """Raise glibc's thresholds once per process (inherited by forked workers); False where it does not apply."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc (e.g. musl)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
    return _done
