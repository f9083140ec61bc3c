"""The cost of SQLite `synchronous=FULL` (the default) against NORMAL, for single charges and batches.

Each mode gets a fresh database file in a temporary folder (on the same disk as `--dir`), one member with
enough credits, then `--charges` charges one transaction each (the CLI / one-at-a-time case) and the same
number in batches of `--batch` (the service's group commit). Prints charges per second and the mean
commit latency per mode, and the ratio FULL/NORMAL.

    .venv/bin/python benchmarks/sqlite_synchronous.py [--charges 2000] [--batch 32] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.progress import Progress

from datalever import migrations
from datalever.economy import load_policy
from datalever.ledger.charges import charge_work
from datalever.ledger.db import make_engine
from datalever.ledger.grants import grant_credits
from datalever.ledger.members import create_member
from datalever.ledger.posting import BatchItem, Idempotency, Ledger, request_hash


def measure(folder: Path, synchronous: str, charges: int, batch: int, progress: Progress) -> tuple[float, float]:
    engine = make_engine(f"sqlite:///{folder / f'{synchronous}.db'}", sqlite_synchronous=synchronous)
    migrations.upgrade(engine)
    ledger = Ledger(engine, load_policy())
    member = int(create_member(ledger, Idempotency("bench", "m", request_hash("m"))).body["id"])
    grant_credits(ledger, Idempotency("bench", "g", request_hash("g")), member, 10 * charges, "bench")
    task = progress.add_task(f"{synchronous}: single", total=2 * charges)
    started = time.perf_counter()
    for index in range(charges):
        ledger.execute(Idempotency("bench", f"s{index}", request_hash(index)), "query", charge_work(ledger, member))
        progress.advance(task)
    single = charges / (time.perf_counter() - started)
    started = time.perf_counter()
    for first in range(0, charges, batch):
        items = [
            BatchItem(Idempotency("bench", f"b{i}", request_hash(i)), "query", charge_work(ledger, member), member)
            for i in range(first, min(first + batch, charges))
        ]
        for outcome in ledger.execute_batch(items):
            assert not isinstance(outcome, Exception), outcome
        progress.advance(task, len(items))
    batched = charges / (time.perf_counter() - started)
    engine.dispose()
    return single, batched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charges", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--dir", type=Path, default=None, help="Folder for the scratch databases (its disk).")
    options = parser.parse_args()
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(dir=options.dir) as scratch, Progress() as progress:
        for mode in ("NORMAL", "FULL"):
            results[mode] = measure(Path(scratch), mode, options.charges, options.batch, progress)
    for mode, (single, batched) in results.items():
        print(
            f"synchronous={mode:6}  one charge per transaction: {single:8.0f} charges/s ({1000 / single:.2f} ms each)"
            f"   batches of {options.batch}: {batched:8.0f} charges/s"
        )
    print(
        f"FULL / NORMAL: {results['FULL'][0] / results['NORMAL'][0]:.2f} (single), "
        f"{results['FULL'][1] / results['NORMAL'][1]:.2f} (batched)"
    )


if __name__ == "__main__":
    main()
