"""Process hygiene for `datalever serve`: workers die with their supervisor; SIGTERM drains and exits 0.

Why: uvicorn's worker processes are ordinary children. When the supervisor is killed (SIGKILL, OOM killer,
a crashed container init), they kept serving and holding the port, so a restart failed with "address
already in use". Each worker therefore asks the kernel to send it SIGTERM when its parent dies
(Linux `prctl(PR_SET_PDEATHSIG)`; elsewhere a thread that watches the parent pid), and checks once that
the parent is still the supervisor, closing the race where it died before the request was made. SIGTERM
makes uvicorn stop accepting, finish the requests in flight and exit.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ENV_SUPERVISOR_PID = "DATALEVER_SUPERVISOR_PID"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_SECONDS = 1.0


def die_with_parent(supervisor_pid: int | None = None) -> bool:
    """In a worker: arrange SIGTERM when the supervisor dies. False when there is no separate supervisor."""
    if supervisor_pid is None:
        text = os.environ.get(ENV_SUPERVISOR_PID)
        if not text:
            return False
        supervisor_pid = int(text)
    if supervisor_pid == os.getpid():  # one worker: the supervisor serves in-process
        return False
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:
        _watch_parent(supervisor_pid)
    if os.getppid() != supervisor_pid:  # it died before the request above: leave now
        os.kill(os.getpid(), signal.SIGTERM)
    return True


def _watch_parent(supervisor_pid: int, sleep: Callable[[float], None] = time.sleep) -> None:
    def watch() -> None:
        while os.getppid() == supervisor_pid:
            sleep(WATCH_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _exit_zero(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


@contextmanager
def supervising() -> Iterator[None]:
    """Around `uvicorn.run` in the supervisor: workers learn its pid, and SIGTERM means a clean exit 0.

    uvicorn installs its own SIGTERM handler while it serves (stop accepting, drain, return) and, in
    one-process mode, raises the signal again once it returned; this handler turns that second delivery
    (or a SIGTERM during start-up, before uvicorn listens) into exit status 0 instead of death by signal.
    """
    os.environ[ENV_SUPERVISOR_PID] = str(os.getpid())
    previous = signal.signal(signal.SIGTERM, _exit_zero)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
