"""`datalever serve` as real processes: killing the supervisor takes its workers (and the port) with it;
SIGTERM drains and exits 0."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

DATALEVER = Path(sys.executable).with_name("datalever")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process tests run on Linux"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _serve(tmp_path: Path, workers: int) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    env = {**os.environ, "DATALEVER_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(DATALEVER), "serve", "--port", str(port), "--workers", str(workers)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "the service did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield process, port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        log.close()


def _workers(process: subprocess.Popen[bytes], count: int) -> list[psutil.Process]:
    """The uvicorn workers (not multiprocessing's resource tracker), once all have started."""
    deadline = time.monotonic() + 30
    while True:
        found = [
            p
            for p in psutil.Process(process.pid).children()
            if "spawn_main" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())
        ]
        if len(found) == count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_killing_the_supervisor_takes_the_workers_and_frees_the_port(tmp_path: Path) -> None:
    with _serve(tmp_path, workers=2) as (process, port):
        workers = _workers(process, 2)
        assert len(workers) == 2
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        _gone, alive = psutil.wait_procs(workers, timeout=30)
        assert alive == [], f"workers outlived their supervisor: {alive}"
        with socket.socket() as sock:  # a restart can bind the port again
            sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_drains_and_exits_zero(tmp_path: Path, workers: int) -> None:
    with _serve(tmp_path, workers=workers) as (process, _port):
        children = _workers(process, workers) if workers > 1 else []
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, (tmp_path / "serve.log").read_text()
        _gone, alive = psutil.wait_procs(children, timeout=30)
        assert alive == []
