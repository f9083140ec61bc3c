"""Group commit for the hot path: concurrent charges share one transaction and its few round trips.

Request threads hand their operation to `Batcher.submit` and wait; a small number of batcher threads each
take whatever has queued up (at most `max_batch`) and run it with `Ledger.execute_batch`. Under light load
a batch holds one operation, so nothing waits for a batch to fill; under heavy load the round trips and the
commit are shared by many charges.

Everything is bounded (TIGER_STYLE): at most `max_queued` operations wait for a batch, and a request waits
at most `wait_seconds` for its result. Past either bound the request is refused with `Overloaded` (the
service answers 503 with Retry-After) instead of piling up: retrying with the same key is safe.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from datalever.ledger.errors import LedgerError, Overloaded
from datalever.ledger.posting import BatchItem, Ledger, Outcome

_Deliver = Callable[["Outcome | LedgerError | BaseException"], None]
_Slot = tuple[BatchItem, _Deliver]


class Batcher:
    """Runs submitted operations in batches on `threads` background threads."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        max_batch: int = 64,
        threads: int = 2,
        max_queued: int = 4096,
        wait_seconds: float = 30.0,
        retry_after_seconds: int = 1,
    ) -> None:
        assert max_batch >= 1 and threads >= 1 and max_queued >= 1 and wait_seconds > 0 and retry_after_seconds >= 1
        self.ledger = ledger
        self.max_batch = max_batch
        self.threads = threads
        self.max_queued = max_queued
        self.wait_seconds = wait_seconds
        self.retry_after_seconds = retry_after_seconds
        self._queue: queue.SimpleQueue[_Slot | None] = queue.SimpleQueue()
        self._queued = threading.BoundedSemaphore(max_queued)
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        # Called once per batch (never per charge) with (size, seconds, queue depth, refused, errors): the
        # service's metrics. The ledger knows nothing of what it does with them.
        self.observer: Callable[[int, float, int, int, int], None] | None = None

    def _ensure_started(self) -> None:
        """Start the batcher threads on first use (so an app that never charges starts none)."""
        if self._threads:
            return
        with self._start_lock:
            if not self._threads:
                for i in range(self.threads):
                    thread = threading.Thread(target=self._run, name=f"ledger-batcher-{i}", daemon=True)
                    thread.start()
                    self._threads.append(thread)

    def submit(self, item: BatchItem) -> Outcome:
        """Run `item` in the next batch and return its outcome; raises its LedgerError if refused."""
        self._ensure_started()
        future: Future[Outcome | LedgerError | BaseException] = Future()
        self._enqueue((item, future.set_result))
        try:
            return _unwrap(future.result(timeout=self.wait_seconds))
        except TimeoutError:
            raise self._overloaded(f"no batch took the charge within {self.wait_seconds:g} s") from None

    async def submit_async(self, item: BatchItem) -> Outcome:
        """As `submit`, for the event loop: no thread waits while the batch runs."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome | LedgerError | BaseException] = loop.create_future()
        self._ensure_started()
        self._enqueue((item, _LoopDelivery(loop, future)))
        # One timer per charge (cheaper than asyncio.wait_for's wrapping); whichever settles first wins.
        timer = loop.call_later(self.wait_seconds, self._time_out, future)
        try:
            return _unwrap(await future)
        finally:
            timer.cancel()

    def _enqueue(self, slot: _Slot) -> None:
        """Queue an operation, or refuse it at once when `max_queued` are already waiting."""
        if not self._queued.acquire(blocking=False):
            raise self._overloaded(f"{self.max_queued} charges are already waiting for a batch")
        self._queue.put(slot)

    def _time_out(self, future: asyncio.Future[Any]) -> None:
        _settle([(future, self._overloaded(f"no batch took the charge within {self.wait_seconds:g} s"))])

    def _overloaded(self, why: str) -> Overloaded:
        return Overloaded(f"the ledger is busy ({why}); retry with the same Idempotency-Key", self.retry_after_seconds)

    def close(self) -> None:
        with self._start_lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    slot = self._queue.get_nowait()
                except queue.Empty:
                    break
                if slot is None:
                    self._queue.put(None)  # leave the stop signal for after this batch
                    break
                batch.append(slot)
            for _ in batch:
                self._queued.release()  # taken off the queue: room for as many new charges
            started = time.perf_counter()
            try:
                results = self.ledger.execute_batch([item for item, _ in batch])
            except Exception as error:  # a lost database: every waiting request gets the error
                _deliver_all([deliver for _, deliver in batch], [error] * len(batch))
                self._observe(len(batch), started, [error] * len(batch))
                continue
            _deliver_all([deliver for _, deliver in batch], results)
            self._observe(len(batch), started, results)

    def _observe(self, size: int, started: float, results: Sequence[object]) -> None:
        if self.observer is not None:
            refused = sum(1 for result in results if isinstance(result, LedgerError))
            errors = sum(1 for result in results if isinstance(result, BaseException)) - refused
            self.observer(size, time.perf_counter() - started, self._queue.qsize(), refused, errors)


class _LoopDelivery:
    """Where an event-loop request waits: its future, settled on its own loop."""

    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        self.loop = loop
        self.future = future

    def __call__(self, result: Outcome | LedgerError | BaseException) -> None:
        _deliver_all([self], [result])


def _deliver_all(delivers: list[_Deliver], results: Sequence[Outcome | LedgerError | BaseException]) -> None:
    """Hand results back; futures of one event loop are settled by one callback (one wake-up of that loop,
    not one per request)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for deliver, result in zip(delivers, results, strict=True):
        if isinstance(deliver, _LoopDelivery):
            by_loop.setdefault(deliver.loop, []).append((deliver.future, result))
        else:
            deliver(result)
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:  # that loop is closed: its requests are gone (they timed out or shut down)
            continue


def _settle(settled: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, result in settled:
        if not future.done():  # not cancelled, and not already answered by its timer
            future.set_result(result)


def _unwrap(result: Outcome | LedgerError | BaseException) -> Outcome:
    if isinstance(result, BaseException):
        raise result
    return result
