"""Worker processes that each own some blocks of people for a whole run.

Threads share one interpreter, so the Python between NumPy calls serialises on the GIL; processes do not.
Each worker builds its blocks itself (same seeds, so the same people as anywhere else), then each week
receives the week's contexts and returns its blocks' tallies: a few hundred bytes each way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from datalever.economy import Policy
from datalever.sim.engine import WeekContext, block_sums, build_blocks, join_people
from datalever.sim.population import block_sizes
from datalever.sim.scenario import Scenario

Tallies = list[list[npt.NDArray[np.float64]]]


def _serve(conn: Connection, scenario: Scenario, policies: Sequence[Policy | None], share: list[int]) -> None:
    try:
        groups = [build_blocks(scenario, policy, share) for policy in policies]
        conn.send(("ok", [block_sums(group) for group in groups]))
        while (contexts := conn.recv()) is not None:
            if contexts == "people":
                conn.send(("ok", [[b.people() for b in group] for group in groups]))
                continue
            conn.send(("ok", [[b.step(ctx) for b in group] for group, ctx in zip(groups, contexts, strict=True)]))
    except Exception:  # pragma: no cover - reported to the parent, which raises it
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


class ProcessBlocks:
    """The blocks of every variant, spread round-robin over `workers` forked processes."""

    def __init__(self, scenario: Scenario, policies: Sequence[Policy | None], workers: int) -> None:
        blocks = len(block_sizes(scenario.run.agents))
        context = multiprocessing.get_context("fork")
        self.connections: list[Connection] = []
        self.processes: list[Any] = []
        for w in range(workers):
            parent, child = context.Pipe()
            share = list(range(w, blocks, workers))
            process = context.Process(target=_serve, args=(child, scenario, policies, share), daemon=True)
            process.start()
            child.close()
            self.connections.append(parent)
            self.processes.append(process)
        self.shares = [list(range(w, blocks, workers)) for w in range(workers)]
        partial = [self._receive(conn) for conn in self.connections]
        self.sums = [self._in_block_order([p[v] for p in partial]) for v in range(len(policies))]

    @staticmethod
    def _receive(conn: Connection) -> Any:
        status, payload = conn.recv()
        if status != "ok":
            raise RuntimeError(f"simulation worker failed:\n{payload}")
        return payload

    def _in_block_order(self, per_worker: Sequence[Sequence[Any]]) -> list[Any]:
        """Items reported per worker (each in its share's order) put back in block order, so that floats are
        always added in the same order, however the blocks are spread."""
        by_block = {
            i: item
            for share, items in zip(self.shares, per_worker, strict=True)
            for i, item in zip(share, items, strict=True)
        }
        return [by_block[i] for i in sorted(by_block)]

    def step(self, contexts: list[WeekContext]) -> Tallies:
        """One week of every block of every variant; returns tallies per variant, in block order."""
        for conn in self.connections:
            conn.send(contexts)
        replies = [self._receive(conn) for conn in self.connections]
        return [self._in_block_order([reply[v] for reply in replies]) for v in range(len(contexts))]

    def people(self) -> list[dict[str, npt.NDArray[Any]]]:
        """Per-person end-of-run arrays of every variant, blocks in their original order."""
        for conn in self.connections:
            conn.send("people")
        replies = [self._receive(conn) for conn in self.connections]
        return [join_people(self._in_block_order([r[v] for r in replies])) for v in range(len(replies[0]))]

    def __enter__(self) -> ProcessBlocks:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for conn in self.connections:
            with contextlib.suppress(OSError):  # the worker may already be gone
                conn.send(None)
            conn.close()
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():  # pragma: no cover
                process.terminate()
