"""A ledger whose batches wait for the test: bounds on the batch queue are tested without sleeps."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from datalever.ledger.posting import BatchItem, Ledger


class BlockedLedger:
    """Wraps a ledger for a `Batcher`: each batch says it `started`, then waits for `release`."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.started = threading.Event()
        self.release = threading.Event()

    def execute_batch(self, items: Sequence[BatchItem]) -> Any:
        self.started.set()
        assert self.release.wait(timeout=60), "the test never released the batch"
        return self.ledger.execute_batch(items)
