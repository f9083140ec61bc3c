"""The batch queue is bounded: a full queue, or a charge that waits too long, is refused with Overloaded.

A batcher with one thread is blocked inside its batch (an event the test holds), so what is queued and
what is refused is decided by the bounds alone, with no sleeps.
"""

from __future__ import annotations

import asyncio

import pytest

from datalever.ledger.batching import Batcher
from datalever.ledger.charges import charge_work
from datalever.ledger.errors import Overloaded
from datalever.ledger.grants import grant_credits
from datalever.ledger.posting import BatchItem, Idempotency, Ledger, request_hash
from tests.support.blocked import BlockedLedger
from tests.support.books import check_books, idem, new_member, spendable


def _item(ledger: Ledger, member: int, key: str) -> BatchItem:
    return BatchItem(Idempotency("api", key, request_hash(key)), "query", charge_work(ledger, member), member)


def test_a_full_queue_refuses_at_once_and_the_queued_charges_still_run(ledger: Ledger) -> None:
    member, _ = new_member(ledger)
    grant_credits(ledger, idem("g"), member, 10, "test")
    blocked = BlockedLedger(ledger)
    batcher = Batcher(blocked, max_batch=1, threads=1, max_queued=1)  # type: ignore[arg-type]

    async def scenario() -> list[int]:
        running = asyncio.ensure_future(batcher.submit_async(_item(ledger, member, "a")))
        assert await asyncio.to_thread(blocked.started.wait, 30)  # "a" is in the blocked batch, queue empty
        queued = asyncio.ensure_future(batcher.submit_async(_item(ledger, member, "b")))
        await asyncio.sleep(0)  # one turn of the loop: "b" is queued and waits (the one place is taken)
        assert not queued.done()
        with pytest.raises(Overloaded, match="1 charges are already waiting") as refused:
            await batcher.submit_async(_item(ledger, member, "c"))
        assert refused.value.retry_after_seconds == 1 and refused.value.code == "overloaded"
        blocked.release.set()
        return [(await running).body["balance"], (await queued).body["balance"]]

    assert asyncio.run(scenario()) == [9, 8]
    batcher.close()
    assert spendable(ledger, member) == 8  # "c" was refused before it was queued: never charged
    check_books(ledger)


def test_a_charge_that_waits_past_its_bound_is_refused_and_a_retry_replays(ledger: Ledger) -> None:
    member, _ = new_member(ledger)
    grant_credits(ledger, idem("g"), member, 10, "test")
    blocked = BlockedLedger(ledger)
    batcher = Batcher(blocked, max_batch=1, threads=1, wait_seconds=0.01)  # type: ignore[arg-type]

    async def charge() -> None:
        with pytest.raises(Overloaded, match=r"within 0\.01 s"):
            await batcher.submit_async(_item(ledger, member, "slow"))

    asyncio.run(charge())  # the batch is blocked, so the wait runs out whatever the machine's speed
    blocked.release.set()
    batcher.close()  # the charge still ran, once
    assert spendable(ledger, member) == 9
    again = ledger.execute_batch([_item(ledger, member, "slow")])[0]
    assert not isinstance(again, Exception) and again.replayed and again.body["balance"] == 9
    check_books(ledger)
