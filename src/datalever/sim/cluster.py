"""Run many independent simulation tasks on Dask distributed: a LocalCluster by default, or a real cluster.

One place for the client's life cycle and its failures: an unreachable scheduler is one clear error
(ClusterError), not a traceback, and results come back in the order of the inputs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
CONNECT_TIMEOUT_S = 10


class ClusterError(RuntimeError):
    """The Dask scheduler cannot be reached or the cluster cannot start."""


def _reachable(scheduler: str, timeout_s: float) -> None:
    """Fail fast on a tcp:// address nothing listens on (Dask itself retries until its timeout)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    if parts.scheme != "tcp":
        return  # other transports (tls, inproc, ucx): leave the check to Dask
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ClusterError(f"--scheduler {scheduler}: expected an address like tcp://host:8786")
    try:
        with socket.create_connection((host, port), timeout=min(timeout_s, 3.0)):
            pass
    except OSError as error:
        raise ClusterError(f"--scheduler {scheduler}: cannot connect to the Dask scheduler ({error})") from None


def run_tasks(
    function: Callable[..., T],
    items: Sequence[Any],
    *shared: Any,
    scheduler: str | None = None,
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
) -> list[T]:
    """`function(item, *shared)` for every item, as Dask tasks; results in the order of `items`."""
    # Imported as an untyped module: distributed's partial annotations do not satisfy mypy --strict.
    dist: Any = importlib.import_module("distributed")
    if scheduler is not None:
        _reachable(scheduler, connect_timeout_s)
    cluster = None
    try:
        if scheduler is None:
            cluster = dist.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = dist.Client(cluster)
        else:
            client = dist.Client(scheduler, timeout=f"{connect_timeout_s}s")
    except (OSError, TimeoutError, ValueError) as error:
        if cluster is not None:
            cluster.close()
        where = scheduler or "a LocalCluster"
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ClusterError(f"--scheduler {where}: cannot connect to the Dask scheduler ({reason})") from None
    try:
        scattered = [client.scatter(value, broadcast=True) for value in shared]
        futures = [client.submit(function, item, *scattered, pure=False) for item in items]
        index = {future.key: i for i, future in enumerate(futures)}
        results: list[Any] = [None] * len(items)
        for done, future in enumerate(dist.as_completed(futures), start=1):
            results[index[future.key]] = future.result()
            if on_done is not None:
                on_done(done)
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
