"""A full charge queue is answered 503 with Retry-After, by the fast path and by the route alike.

The batcher's only thread is held inside its batch (`BlockedLedger`) and the queue holds one charge, so a
third charge meets a full queue: decided by the bound alone, with no sleeps.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from datalever.ledger.batching import Batcher
from datalever.ledger.grants import grant_credits
from datalever.ledger.members import create_member
from datalever.ledger.posting import Idempotency, request_hash
from datalever.service.app import create_app
from datalever.service.settings import Settings
from datalever.web.keys import create_key
from tests.support.blocked import BlockedLedger


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_full_queue_answers_503_with_retry_after_and_a_retry_charges_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_path: bool
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'queue.db'}", charge_fast_path=fast_path, charge_queue_max=1
    )
    app = create_app(settings)
    ledger = app.state.ledger
    member = create_member(ledger, Idempotency("seed", "m", request_hash("m"))).body["id"]
    grant_credits(ledger, Idempotency("seed", "g", request_hash("g")), member, 10, "seed")
    with ledger.engine.begin() as conn:
        token = create_key(conn, "operator")[1]
    blocked = BlockedLedger(ledger)
    app.state.batcher.ledger = blocked
    queued = threading.Event()
    enqueue = Batcher._enqueue

    def noting_enqueue(self: Batcher, slot: Any) -> None:
        enqueue(self, slot)
        queued.set()

    monkeypatch.setattr(Batcher, "_enqueue", noting_enqueue)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://datalever") as client:

            def charge(key: str) -> Any:
                headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
                return client.post(f"/v1/members/{member}/charges", headers=headers)

            first = asyncio.ensure_future(charge("a"))
            assert await asyncio.to_thread(blocked.started.wait, 60)  # "a" is in the held batch
            queued.clear()
            second = asyncio.ensure_future(charge("b"))
            assert await asyncio.to_thread(queued.wait, 60)  # "b" holds the queue's one place
            refused = await charge("c")
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "1"
            assert refused.json()["code"] == "overloaded" and "retry" in refused.json()["detail"]
            blocked.release.set()
            assert [(await first).json()["balance"], (await second).json()["balance"]] == [9, 8]
            retried = await charge("c")  # refused before it was queued: the retry is its first charge
            assert retried.status_code == 201 and retried.json()["balance"] == 7
            assert "Idempotent-Replayed" not in retried.headers

    try:
        asyncio.run(scenario())
    finally:
        app.state.batcher.close()
        ledger.engine.dispose()
