"""On real PostgreSQL: 32 concurrent HTTP clients, retried keys, and a SIGKILL of the server mid-load.

Afterwards every acknowledged charge is recorded exactly once (its operation id is the query_id the client
was given), no balance is negative, every member's spending equals the prices it was acknowledged, and
the books balance.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import select

from datalever import migrations
from datalever.economy import load_policy
from datalever.ledger.db import make_engine
from datalever.ledger.grants import grant_credits
from datalever.ledger.members import create_member
from datalever.ledger.models import OPERATIONS, TRANSFERS
from datalever.ledger.posting import Idempotency, Ledger, request_hash
from datalever.web.keys import create_key
from tests.support.books import check_books
from tests.support.postgres import fresh_database
from tests.support.server import Server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLIENTS = 32
HOT_MEMBERS = 3  # charged by every client at once
POOR = 2  # members who run out of credits mid-test
MEMBERS = 24


@dataclass
class Record:
    """What the clients saw: acknowledged charges by key, and keys whose outcome is unknown."""

    acknowledged: dict[str, dict[str, object]] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=dict)  # key -> member
    refused: int = 0
    mismatched: list[str] = field(default_factory=list)  # retries whose response differed from the first
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_database("dl_load") as url:
        yield url


def prepare(url: str) -> tuple[Ledger, str, dict[int, int]]:
    engine = make_engine(url)
    migrations.upgrade(engine)
    ledger = Ledger(engine, load_policy())
    with engine.begin() as conn:
        token = create_key(conn, "operator")[1]
    granted = {}
    for index in range(MEMBERS):
        member = create_member(ledger, Idempotency("t", f"m{index}", request_hash(index))).body["id"]
        granted[member] = 15 if index < POOR else 10_000
        grant_credits(ledger, Idempotency("t", f"g{index}", request_hash(index)), member, granted[member], "test")
    return ledger, token, granted


def charge(client: httpx.Client, record: Record, member: int, key: str) -> None:
    try:
        response = client.post(
            f"/v1/members/{member}/charges", json={"reference": key}, headers={"Idempotency-Key": key}
        )
    except httpx.HTTPError:
        with record.lock:
            record.unknown.setdefault(key, member)
        return
    with record.lock:
        if response.status_code == 201:
            body = response.json()
            if record.acknowledged.setdefault(key, body) != body:
                record.mismatched.append(key)
            record.unknown.pop(key, None)
        elif response.status_code == 402:
            record.refused += 1
            record.unknown.pop(key, None)
        else:
            record.unknown.setdefault(key, member)


def client_loop(base: str, token: str, record: Record, members: list[int], seed: int, stop: threading.Event) -> None:
    rng = random.Random(seed)
    shared = [f"shared-{n}" for n in range(20)]  # keys several clients send at the same time
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        count = 0
        while not stop.is_set() and count < 40:
            count += 1
            member = members[rng.randrange(HOT_MEMBERS)] if rng.random() < 0.4 else rng.choice(members)
            key = f"c{seed}-{count}"
            if rng.random() < 0.1:  # the same key from many clients: one charge, everyone sees the same response
                key = rng.choice(shared)
                member = members[HOT_MEMBERS + shared.index(key) % (len(members) - HOT_MEMBERS)]
            charge(client, record, member, key)
            if rng.random() < 0.25:  # a client retry of the same request
                charge(client, record, member, key)


def run_clients(
    base: str, token: str, record: Record, members: list[int], stop: threading.Event
) -> list[threading.Thread]:
    threads = [
        threading.Thread(target=client_loop, args=(base, token, record, members, seed, stop)) for seed in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    return threads


def verify(ledger: Ledger, record: Record, granted: dict[int, int]) -> None:
    assert not record.mismatched, f"retries answered differently from the first response: {record.mismatched}"
    check_books(ledger)  # sums to zero, lots agree with transfers, nothing negative
    with ledger.engine.connect() as conn:
        operations = {
            str(row.key): row
            for row in conn.execute(
                select(OPERATIONS.c.id, OPERATIONS.c.key, OPERATIONS.c.member_id).where(OPERATIONS.c.kind == "query")
            )
        }
        spent: dict[int, int] = defaultdict(int)
        for row in conn.execute(
            select(TRANSFERS.c.operation_id, TRANSFERS.c.amount).where(TRANSFERS.c.kind == "query")
        ):
            spent[str(row.operation_id)] += row.amount
    for key, body in record.acknowledged.items():
        assert key in operations, f"acknowledged charge {key} was lost"
        assert str(operations[key].id) == body["query_id"], f"charge {key} recorded under another id"
        assert spent[body["query_id"]] == body["price"]
    recorded_unacknowledged = set(operations) - set(record.acknowledged)
    assert recorded_unacknowledged <= set(record.unknown), "a charge nobody asked for was recorded"
    by_member: dict[int, int] = defaultdict(int)
    for row in operations.values():
        by_member[row.member_id] += spent[str(row.id)]
    for member, total in by_member.items():
        assert total <= granted[member]


def test_32_concurrent_clients_with_retries(database: str) -> None:
    ledger, token, granted = prepare(database)
    server = Server(database, workers=2)
    server.start()
    record = Record()
    try:
        for thread in run_clients(server.url, token, record, sorted(granted), threading.Event()):
            thread.join()
    finally:
        server.close()
    assert not record.unknown, "without a crash every request gets an answer"
    assert record.refused > 0, "the poor members should have run out"
    assert len(record.acknowledged) > CLIENTS * 10
    verify(ledger, record, granted)
    ledger.engine.dispose()


def test_sigkill_mid_load_loses_no_acknowledged_charge(database: str) -> None:
    ledger, token, granted = prepare(database)
    server = Server(database, workers=2)
    server.start()
    record = Record()
    stop = threading.Event()
    threads = run_clients(server.url, token, record, sorted(granted), stop)
    try:
        deadline = time.monotonic() + 30
        while len(record.acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # SIGKILL in the middle of the load
        stop.set()
        for thread in threads:
            thread.join()
        assert record.unknown, "the kill should have caught some requests in flight"
        check_books(ledger)
        server.start()  # restart on the same database; clients now retry what they never heard back about
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
            for key, member in sorted(record.unknown.items()):
                charge(client, record, member, key)
    finally:
        server.close()
    assert not record.unknown, "every retried request got an answer after the restart"
    verify(ledger, record, granted)
    ledger.engine.dispose()
