"""Server render time of each web page on SQLite with 100,000 members and 1,000,000 transfers.

Builds the database once (schema by the real migrations, rows by bulk inserts straight into SQLite: three
months of allowance for every member, then charges drawn on those lots until there are 1,000,000 transfers,
with lots' `remaining` consistent with the transfers), signs in members and an operator, then requests each
page many times in-process and prints p50/p95 of the time the app takes to answer (goal: p95 < 100 ms).

    .venv/bin/python benchmarks/webapp_pages.py [--members 100000] [--transfers 1000000] [--requests 200]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from datalever import migrations
from datalever.ledger.db import make_engine
from datalever.service.app import create_app
from datalever.service.settings import Settings
from datalever.webapp.sessions import create_code

MONTHS = [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)]
NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def build(path: Path, members: int, transfers: int, seed: int) -> None:
    """The schema through Alembic, then rows through executemany in one transaction."""
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    system = dict(db.execute("SELECT code, id FROM accounts").fetchall())
    issuance, spend = system["issuance"], system["spend"]
    first_account = int(db.execute("SELECT max(id) FROM accounts").fetchone()[0]) + 1
    allowance = 100
    grants = members * len(MONTHS)
    charges = transfers - grants
    assert charges > 0, "transfers must exceed three allowances per member"
    with Progress() as progress:
        task = progress.add_task("building the database", total=members + grants + charges)
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO accounts (id, code, kind, bounded, created_at) VALUES (?, ?, 'member', 1, ?)",
            ((first_account + i, f"member:{i + 1}", _ts(MONTHS[0])) for i in range(members)),
        )
        db.executemany(
            "INSERT INTO members (id, account_id, external_ref, reputation, joined_at, session_position) "
            "VALUES (?, ?, NULL, 0.5, ?, 0)",
            ((i + 1, first_account + i, _ts(MONTHS[0])) for i in range(members)),
        )
        progress.advance(task, members)
        lot_id = 0
        transfer_id = 0
        lots_of: list[list[int]] = [[] for _ in range(members)]
        remaining: dict[int, int] = {}
        lot_rows: list[list[Any]] = []
        op_rows: list[tuple[Any, ...]] = []
        transfer_rows: list[tuple[Any, ...]] = []
        for month in MONTHS:
            # Allowance expires at the end of the month after it was granted (the default policy).
            after = month.month + 1  # zero-based index of the month after next
            expires = _ts(datetime(month.year + after // 12, after % 12 + 1, 1, tzinfo=UTC))
            for i in range(members):
                lot_id += 1
                transfer_id += 1
                op = uuid.UUID(int=rng.getrandbits(128)).hex
                at = _ts(month + timedelta(minutes=i % 600))
                op_rows.append((op, "allowance", f"{i + 1}:{month:%Y-%m}", "0" * 64, "allowance", i + 1, 201, "{}", at))
                lot_rows.append([lot_id, first_account + i, op, "allowance", allowance, allowance, at, expires])
                transfer_rows.append(
                    (transfer_id, op, issuance, first_account + i, allowance, "allowance", None, lot_id, None, at)
                )
                lots_of[i].append(lot_id)
                remaining[lot_id] = allowance
            progress.advance(task, members)
        # Charges, spread over the three months in time order, each drawing 1 credit from a lot of its member.
        span = (NOW - MONTHS[0]).total_seconds()
        times = sorted(rng.random() * span for _ in range(charges))
        for offset in times:
            i = rng.randrange(members)
            lot = next((lot for lot in lots_of[i] if remaining[lot] > 0), None)
            if lot is None:
                continue
            remaining[lot] -= 1
            transfer_id += 1
            op = uuid.UUID(int=rng.getrandbits(128)).hex
            at = _ts(MONTHS[0] + timedelta(seconds=offset))
            op_rows.append((op, "key:bench", f"c{transfer_id}", "0" * 64, "query", i + 1, 201, "{}", at))
            transfer_rows.append((transfer_id, op, first_account + i, spend, 1, "query", lot, None, None, at))
        progress.advance(task, charges)
        for row in lot_rows:
            row[5] = remaining[row[0]]
        db.executemany(
            "INSERT INTO operations (id, scope, key, request_hash, kind, member_id, status_code, response, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            op_rows,
        )
        db.executemany(
            "INSERT INTO lots (id, account_id, operation_id, source, amount, remaining, granted_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            lot_rows,
        )
        db.executemany(
            "INSERT INTO transfers (id, operation_id, debit_account_id, credit_account_id, amount, kind, debit_lot_id, "
            "credit_lot_id, reverses_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            transfer_rows,
        )
        db.execute(
            "INSERT INTO flow_coalitions (id, name, change_cost, created_at) "
            "VALUES ('stack-overflow', 'Stack Overflow', 10, ?)",
            (_ts(MONTHS[0]),),
        )
        db.executemany(
            "INSERT INTO flow_coalition_members (coalition_id, member_id, change_cost, joined_at) "
            "VALUES ('stack-overflow', ?, NULL, ?)",
            ((i + 1, _ts(MONTHS[0])) for i in range(0, members, 10)),
        )
        db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()


def timings(client: TestClient, paths: list[str], requests: int) -> list[float]:
    """Milliseconds to answer each of `requests` GETs of the paths, round robin."""
    times = []
    for n in range(requests):
        path = paths[n % len(paths)]
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return times


def percentiles(times: list[float]) -> tuple[float, float, float]:
    """(p50, p95, max) of a sample."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))], ordered[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--transfers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, help="reuse (or keep) the database at this path")
    args = parser.parse_args()
    console = Console()
    path = args.db or Path(tempfile.mkdtemp()) / "webapp-bench.db"
    if not path.exists():
        started = time.perf_counter()
        build(path, args.members, args.transfers, args.seed)
        console.print(f"built {path} in {time.perf_counter() - started:.1f} s ({path.stat().st_size / 1e6:.0f} MB)")
    app = create_app(Settings(database_url=f"sqlite:///{path}"), clock=lambda: NOW)
    ledger = app.state.ledger
    with ledger.engine.connect().execution_options(readonly=True) as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM transfers").scalar() or 0
    console.print(f"{count:,} transfers, {args.members:,} members")
    rng = random.Random(args.seed)
    members = [rng.randrange(1, args.members + 1) for _ in range(20)]
    member_clients = []
    for member in members:
        with ledger.engine.begin() as conn:
            code = create_code(conn, "member", member, "bench", NOW)[0]
        client = TestClient(app, base_url="https://testserver", follow_redirects=False)
        token = client.get("/signin").text.split('name="csrf_token" value="')[1].split('"')[0]
        assert client.post("/signin", data={"csrf_token": token, "code": code}).status_code == 303
        member_clients.append(client)
    staff = TestClient(app, base_url="https://testserver", follow_redirects=False)
    with ledger.engine.begin() as conn:
        code = create_code(conn, "admin", None, "bench", NOW)[0]
    token = staff.get("/signin").text.split('name="csrf_token" value="')[1].split('"')[0]
    assert staff.post("/signin", data={"csrf_token": token, "code": code}).status_code == 303

    start = time.perf_counter()
    assert staff.get("/operator").status_code == 200
    cold = (time.perf_counter() - start) * 1000
    console.print(f"/operator first view (aggregates all {count:,} transfers once per process): {cold:,.0f} ms")

    table = Table(title=f"server render time, {args.requests} requests per page (ms)")
    for column in ("page", "p50", "p95", "max"):
        table.add_column(column, justify="right" if column != "page" else "left")
    pages: list[tuple[str, TestClient | list[TestClient], list[str]]] = [
        ("/me", member_clients, ["/me"]),
        ("/me/history", member_clients, ["/me/history"]),
        ("/me/history?kind=query", member_clients, ["/me/history?kind=query&from=2026-02-01"]),
        ("/me/history.csv", member_clients, ["/me/history.csv"]),
        ("/me/links", member_clients, ["/me/links"]),
        ("/me/communities", member_clients, ["/me/communities"]),
        ("/communities/stack-overflow", staff, ["/communities/stack-overflow"]),
        ("/operator (warm)", staff, ["/operator"]),
        ("/levers", staff, ["/levers"]),
        ("/levers?q=robots", staff, ["/levers?q=robots"]),
        ("/levers/1", staff, ["/levers/1"]),
        ("/levers/moderation", staff, ["/levers/moderation"]),
        ("/flows/nodes/stack-exchange", staff, ["/flows/nodes/stack-exchange"]),
        ("/docs", staff, ["/docs"]),
        ("/v1/levers", staff, ["/v1/levers"]),
    ]
    worst = 0.0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("measuring", total=len(pages))
        for name, who, paths in pages:
            clients = who if isinstance(who, list) else [who]
            sample: list[float] = []
            for client in clients:  # members' pages: the requests are spread over 20 signed-in members
                client.get(paths[0])  # warm
                sample += timings(client, paths, max(1, args.requests // len(clients)))
            p50, p95, top = percentiles(sample)
            worst = max(worst, p95)
            table.add_row(name, f"{p50:.1f}", f"{p95:.1f}", f"{top:.1f}")
            progress.advance(task)
    console.print(table)
    console.print(f"worst p95: {worst:.1f} ms (goal < 100 ms)")


if __name__ == "__main__":
    main()
