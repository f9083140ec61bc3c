"""Run `datalever serve` as a real subprocess (one or several uvicorn workers) for end-to-end tests.

* No race for the port: the test process binds a socket to port 0 with SO_REUSEADDR and keeps it bound
  (never listening) for the server's whole life. The kernel will not hand that port to anyone else, while
  uvicorn, which binds with SO_REUSEADDR too, may bind and listen on it; a restart reuses the same port.
* The server's stdout and stderr go to a file (never a pipe a chatty server could fill); when the server
  does not come up, or exits, the error carries that output, so a failed start explains itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx

DATALEVER = Path(sys.executable).with_name("datalever")
START_SECONDS = 60.0


class ServerFailed(RuntimeError):
    """The server did not answer /healthz; the message ends with everything it printed."""


class PortReservation:
    """A local port held by a bound, non-listening socket until `release` (see the module docstring)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.port: int = self._socket.getsockname()[1]

    def release(self) -> None:
        self._socket.close()


class Server:
    """A `datalever serve` process group that a test can start, SIGKILL and start again on the same port."""

    def __init__(
        self,
        database_url: str | None,
        workers: int = 2,
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.database_url = database_url
        self.workers = workers
        self.cwd = cwd
        self.env = dict(os.environ if env is None else env)
        self.args = list(args)
        self._reservation = PortReservation()
        self.port = self._reservation.port
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115  (kept open for the server's life)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        database = ["--database-url", self.database_url] if self.database_url is not None else []
        port = ["--port", str(self.port), "--workers", str(self.workers)]
        return [str(DATALEVER), "serve", *database, *port, *self.args]

    def output(self) -> str:
        """Everything the server printed so far (all starts), as text."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", errors="replace")

    def start(self, timeout_seconds: float = START_SECONDS) -> None:
        """Start and wait until /healthz answers; ServerFailed (with the output) if it exits or never does."""
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill reaches every worker
        )
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise ServerFailed(f"`datalever serve` exited with {code} before answering:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)  # polling for readiness, not timing anything
        self.kill()
        raise ServerFailed(f"`datalever serve` did not answer in {timeout_seconds:.0f} s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL the whole process group (the uvicorn supervisor and its workers)."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM the process group and wait for a clean exit (what an operator's Ctrl-C does)."""
        self._end(signal.SIGTERM)

    def _end(self, how: signal.Signals) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, how)
            self.process.wait(timeout=30)
            self.process = None

    def close(self) -> None:
        """Kill the server if it runs, then free the port and the output file."""
        self.kill()
        self._reservation.release()
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
