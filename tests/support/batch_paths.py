"""Counters of how the ledger ran its batches (filled by the `batch_paths` fixture in tests/ledger)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BatchPaths:
    """How `execute_batch` ran its batches: counted so a test fails if the path it is about is never taken."""

    bulk_batches: int = 0  # PostgreSQL pipelined writes of several operations at once
    alone: int = 0  # items left out of their batch (key already taken, or repeated) and answered after it
    fallbacks: int = 0  # batches that failed as a whole and ran one by one
    database_errors: int = 0  # ... of which the database refused (a single client should never cause one)
