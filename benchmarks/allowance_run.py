"""How long the monthly allowance run takes on PostgreSQL, first run and repeated run.

Creates `--members` members on a scratch database of the server, runs the allowance for the current month
(every member granted), runs it again (every member already granted, so nothing changes), and prints
members per second for both and the books check.

    .venv/bin/python benchmarks/allowance_run.py [--members 10000]
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from functools import partial

from rich.progress import Progress
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from datalever import migrations
from datalever.economy import load_policy
from datalever.ledger.allowance import run_allowance
from datalever.ledger.db import make_engine
from datalever.ledger.members import create_member
from datalever.ledger.models import LOTS, TRANSFERS
from datalever.ledger.posting import Idempotency, Ledger, request_hash


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--server",
        default=os.environ.get("DATALEVER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--members", type=int, default=10_000)
    options = parser.parse_args()
    server = make_url(options.server)
    name = f"dl_allowance_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(server.set(database=name).render_as_string(hide_password=False))
        migrations.upgrade(engine)
        ledger = Ledger(engine, load_policy())
        with Progress(transient=True) as progress:
            task = progress.add_task("creating members", total=options.members)
            for index in range(options.members):
                create_member(ledger, Idempotency("bench", f"m{index}", request_hash("m", index)))
                progress.advance(task)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        month = ledger.clock().strftime("%Y-%m")
        timings = []
        for label in ("first run", "repeated run"):
            with Progress(transient=True) as progress:
                task = progress.add_task(label, total=options.members)
                start = time.perf_counter()
                result = run_allowance(ledger, month, progress=partial(progress.advance, task))
                timings.append((label, time.perf_counter() - start, result))
        with engine.connect() as conn:
            net = conn.execute(select(func.coalesce(func.sum(TRANSFERS.c.amount), 0))).scalar_one()
            lots = conn.execute(select(func.count()).select_from(LOTS)).scalar_one()
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    for label, seconds, result in timings:
        print(
            f"{label:13s} {seconds:7.2f} s  {options.members / seconds:9.0f} members/s  "
            f"(granted {result.members_granted}, already granted {result.already_granted}, "
            f"{result.credits_granted} credits)"
        )
    print(f"books         {lots} allowance lots, {net} credits moved in all")


if __name__ == "__main__":
    main()
