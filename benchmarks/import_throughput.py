"""Stack Exchange dump import throughput and peak memory, on a small and a large synthetic dump.

Generates dumps with the real schema (the six tables the importer reads, byte shares like the real
Bicycles Meta dump, HTML bodies with entities as the dumps have them) straight to disk in batches, then
imports each in a fresh child process that reports wall time and peak resident memory (getrusage), so the
figures are not polluted by the generator. The point: MB/s, and a peak that does not grow with dump size.

    python benchmarks/import_throughput.py                 # 50 MB and 1024 MB dumps
    python benchmarks/import_throughput.py --large-mb 256  # quicker
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Byte shares of each table in the real Bicycles Meta dump (Posts 2.0 MB, PostHistory 3.8 MB, ...).
SHARES = {
    "Users.xml": 0.125,
    "Posts.xml": 0.22,
    "Comments.xml": 0.09,
    "PostHistory.xml": 0.42,
    "Votes.xml": 0.055,
    "Badges.xml": 0.08,
}
ROOTS = {
    "Users.xml": "users",
    "Posts.xml": "posts",
    "Comments.xml": "comments",
    "PostHistory.xml": "posthistory",
    "Votes.xml": "votes",
    "Badges.xml": "badges",
}
START = datetime(2010, 8, 25, tzinfo=UTC)
SPAN = timedelta(days=13 * 365)
WORDS = [
    *("wheel", "chain", "brake", "derailleur", "saddle", "tyre", "tube", "spoke", "rim", "hub", "crank", "pedal"),
    *("cassette", "cable", "housing", "frame", "fork", "headset", "stem", "handlebar", "grip", "bottle", "cage"),
    *("pump", "patch", "lever", "quick", "release", "thru", "axle", "commute", "tour", "road", "gravel"),
]
BADGES = ("Student", "Teacher", "Supporter", "Yearling", "Autobiographer")
PIECES = [
    "&lt;p&gt;{}&lt;/p&gt;&#xA;",
    "&lt;a href=&quot;https://example.org/{}&quot;&gt;link&lt;/a&gt; ",
    "&lt;code&gt;{}&lt;/code&gt; ",
    "{} &amp; ",
    "&lt;strong&gt;{}&lt;/strong&gt; ",
    "it&#39;s {}. ",
]


def _sentences(rng: random.Random, count: int = 400) -> list[str]:
    out = []
    for _ in range(count):
        words = " ".join(rng.choices(WORDS, k=rng.randint(4, 14)))
        out.append(rng.choice(PIECES).format(words))
    return out


def _stamp(fraction: float) -> str:
    return (START + SPAN * fraction).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def _write_table(path: Path, target_bytes: int, rows: Iterator[str]) -> int:
    """Stream rows to disk in batches until the table reaches its share of the dump."""
    written = 0
    with path.open("w", encoding="utf-8", newline="\r\n") as stream:
        head = f'\ufeff<?xml version="1.0" encoding="utf-8"?>\n<{ROOTS[path.name]}>\n'
        stream.write(head)
        written += len(head)
        batch: list[str] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 5000:
                chunk = "\n".join(batch) + "\n"
                stream.write(chunk)
                written += len(chunk)
                batch = []
                if written >= target_bytes:
                    break
        if batch:
            stream.write("\n".join(batch) + "\n")
        stream.write(f"</{ROOTS[path.name]}>\n")
    return path.stat().st_size


def generate_dump(directory: Path, total_mb: float, seed: int = 7) -> int:
    """Write a synthetic dump of about `total_mb` megabytes; returns its size in bytes."""
    rng = random.Random(seed)
    sentences = _sentences(rng)
    total = int(total_mb * 1_000_000)
    users = max(100, total // 20_000)

    def text(low: int, high: int) -> str:
        return "".join(rng.choices(sentences, k=rng.randint(low, high)))

    def user() -> int:
        return int(rng.paretovariate(1.2)) % users + 1

    def user_rows() -> Iterator[str]:
        for i in range(1, 10**9):
            yield (
                f'  <row Id="{i}" Reputation="{rng.randint(1, 50000)}" CreationDate="{_stamp(i / 10**7 % 1)}" '
                f'DisplayName="cyclist {i}" LastAccessDate="{_stamp(0.99)}" Location="Somewhere" '
                f'AboutMe="{text(0, 3)}" Views="{rng.randint(0, 900)}" UpVotes="{rng.randint(0, 99)}" '
                f'DownVotes="0" AccountId="{i + 1000}" />'
            )

    def post_rows() -> Iterator[str]:
        post_id = 0
        for q in range(1, 10**9):
            fraction = min(q / 2_000_000, 0.999)
            post_id += 1
            question = post_id
            answers = rng.randint(0, 3)
            accepted = question + rng.randint(1, answers) if answers and rng.random() < 0.4 else None
            accepted_attr = f' AcceptedAnswerId="{accepted}"' if accepted else ""
            yield (
                f'  <row Id="{question}" PostTypeId="1"{accepted_attr} CreationDate="{_stamp(fraction)}" '
                f'Score="{rng.randint(-3, 12)}" ViewCount="{rng.randint(5, 9000)}" Body="{text(3, 12)}" '
                f'OwnerUserId="{user()}" LastActivityDate="{_stamp(fraction)}" '
                f'Title="How do I fix my {rng.choice(WORDS)}?" Tags="&lt;{rng.choice(WORDS)}&gt;" '
                f'AnswerCount="{answers}" CommentCount="1" ContentLicense="CC BY-SA 4.0" />'
            )
            for _ in range(answers):
                post_id += 1
                yield (
                    f'  <row Id="{post_id}" PostTypeId="2" ParentId="{question}" CreationDate="{_stamp(fraction)}" '
                    f'Score="{rng.randint(-2, 20)}" Body="{text(2, 10)}" OwnerUserId="{user()}" '
                    f'LastActivityDate="{_stamp(fraction)}" CommentCount="0" ContentLicense="CC BY-SA 4.0" />'
                )

    def comment_rows() -> Iterator[str]:
        for i in range(1, 10**9):
            yield (
                f'  <row Id="{i}" PostId="{rng.randint(1, 10**6)}" Score="{rng.randint(0, 5)}" Text="{text(1, 3)}" '
                f'CreationDate="{_stamp(min(i / 4_000_000, 0.999))}" UserId="{user()}" ContentLicense="CC BY-SA 4.0" />'
            )

    def history_rows() -> Iterator[str]:
        for i in range(1, 10**9):
            kind = rng.choice((1, 2, 3, 5, 5, 4, 6, 10, 8))
            yield (
                f'  <row Id="{i}" PostHistoryTypeId="{kind}" PostId="{i // 4 + 1}" '
                f'RevisionGUID="{rng.getrandbits(128):032x}" CreationDate="{_stamp(min(i / 8_000_000, 0.999))}" '
                f'UserId="{user()}" Text="{text(1, 12)}" ContentLicense="CC BY-SA 4.0" />'
            )

    def vote_rows() -> Iterator[str]:
        for i in range(1, 10**9):
            day = _stamp(min(i / 20_000_000, 0.999))[:10] + "T00:00:00.000"
            post = rng.randint(1, 10**6)
            if rng.random() < 0.03:  # the public dump names the voter only for favorites and bounties
                yield f'  <row Id="{i}" PostId="{post}" VoteTypeId="5" UserId="{user()}" CreationDate="{day}" />'
            else:
                vote_type = rng.choice((2, 2, 2, 3, 1))
                yield f'  <row Id="{i}" PostId="{post}" VoteTypeId="{vote_type}" CreationDate="{day}" />'

    def badge_rows() -> Iterator[str]:
        for i in range(1, 10**9):
            yield (
                f'  <row Id="{i}" UserId="{user()}" Name="{rng.choice(BADGES)}" '
                f'Date="{_stamp(min(i / 5_000_000, 0.999))}" Class="3" TagBased="False" />'
            )

    makers: dict[str, Callable[[], Iterator[str]]] = {
        "Users.xml": user_rows,
        "Posts.xml": post_rows,
        "Comments.xml": comment_rows,
        "PostHistory.xml": history_rows,
        "Votes.xml": vote_rows,
        "Badges.xml": badge_rows,
    }
    directory.mkdir(parents=True, exist_ok=True)
    return sum(_write_table(directory / name, int(total * SHARES[name]), makers[name]()) for name in SHARES)


def _count_table(path: Path) -> tuple[str, int, float]:
    from datalever.importers.stackexchange import read_table

    started = time.perf_counter()
    count = sum(1 for _ in read_table(path, "synthetic.stackexchange.com"))
    return path.name, count, time.perf_counter() - started


def measure(directory: Path, workers: int) -> dict[str, object]:
    """Run in a fresh process: import every table (in `workers` processes, one table each), report time,
    records and peak resident memory (of this process, or of the largest worker)."""
    from datalever.importers.stackexchange import dump_files

    files = sorted(dump_files(directory), key=lambda path: path.stat().st_size, reverse=True)
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if workers == 1:
        counted = [_count_table(path) for path in files]
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            counted = list(pool.map(_count_table, files))
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    seconds = time.perf_counter() - started
    sizes = {path.name: path.stat().st_size / 1e6 for path in files}
    return {
        "mb": sum(sizes.values()),
        "seconds": seconds,
        "records": sum(count for _, count, _ in counted),
        "baseline_rss_mb": baseline_kb / 1024,
        "peak_rss_mb": peak_kb / 1024,
        "tables": {name: {"mb": sizes[name], "records": count, "seconds": secs} for name, count, secs in counted},
    }


def _measure_in_child(directory: Path, workers: int) -> dict[str, object]:
    command = [sys.executable, __file__, "--measure", str(directory), "--workers", str(workers)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, object] = json.loads(output)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small-mb", type=float, default=50)
    parser.add_argument("--large-mb", type=float, default=1024)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="Also measure tables read in N processes.")
    parser.add_argument("--workdir", type=Path, default=None, help="Where to generate the dumps (default: a temp dir).")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.workers)))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console()
    results = []
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="datalever-bench-") as tmp:
        for label, size_mb in (("small", args.small_mb), ("large", args.large_mb)):
            directory = Path(tmp) / label
            with console.status(f"generating the {label} dump ({size_mb:,.0f} MB)..."):
                started = time.perf_counter()
                generate_dump(directory, size_mb, seed=args.seed)
                generated = time.perf_counter() - started
            console.print(f"{label}: generated in {generated:.1f} s")
            for workers in sorted({1, args.workers}):
                with console.status(f"importing the {label} dump, {workers} process(es)..."):
                    result = _measure_in_child(directory, workers)
                results.append((label, workers, result))
            for path in directory.iterdir():
                path.unlink()

    table = Table(title="Stack Exchange dump import (lxml callback parser, checked records)")
    columns = ("dump", "MB", "procs", "records", "seconds", "MB/s", "peak RSS MB", "over baseline MB")
    for column in columns:
        table.add_column(column, justify="right")
    for label, workers, r in results:
        mb, seconds = float(r["mb"]), float(r["seconds"])  # type: ignore[arg-type]
        peak, baseline = float(r["peak_rss_mb"]), float(r["baseline_rss_mb"])  # type: ignore[arg-type]
        table.add_row(
            label,
            f"{mb:,.0f}",
            str(workers),
            f"{r['records']:,}",
            f"{seconds:.1f}",
            f"{mb / seconds:.1f}",
            f"{peak:.0f}",
            f"{peak - baseline:.0f}" if workers == 1 else "",
        )
    console.print(table)
    console.print("peak RSS: of the importing process; with several processes, of the largest worker.")
    per_table = Table(title="Per table, large dump, one process")
    for column in ("table", "MB", "records", "MB/s"):
        per_table.add_column(column, justify="right")
    single = next(r for label, workers, r in results if label == "large" and workers == 1)
    tables: dict[str, dict[str, float]] = single["tables"]  # type: ignore[assignment]
    for name, t in tables.items():
        per_table.add_row(name, f"{t['mb']:,.0f}", f"{int(t['records']):,}", f"{t['mb'] / t['seconds']:.1f}")
    console.print(per_table)


if __name__ == "__main__":
    main()
