"""Charges per second over HTTP on PostgreSQL, next to pgbench's TPC-B rate on the same server.

Starts `datalever serve` on a scratch PostgreSQL database, drives charges from 32 concurrent connections
for a fixed time with `wrk` (a Lua script gives every request a unique Idempotency-Key and a random
member), then runs `pgbench -c 32` (TPC-B, scale 10) on another scratch database of the same server, and
prints charges/s, p50/p99 latency, the TPC-B rate and their ratio. Checks the books afterwards: every
acknowledged charge is recorded once and the transfers balance.

    .venv/bin/python benchmarks/ledger_throughput.py [--seconds 20] [--workers 2] [--members 1000] [--no-pgbench]

It also prints the CPU time each charge cost the service's processes, PostgreSQL and wrk: on two cores
the three share the machine, so CPU per charge is what bounds the rate and the latency.

Needs `wrk` (Debian package `wrk`) and the PostgreSQL client tools (`createdb`, `dropdb`, `pgbench`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from datalever import migrations
from datalever.economy import load_policy
from datalever.ledger.db import make_engine
from datalever.ledger.grants import grant_credits
from datalever.ledger.members import create_member
from datalever.ledger.models import LOTS, OPERATIONS, TRANSFERS
from datalever.ledger.posting import Idempotency, Ledger, request_hash
from datalever.web.keys import create_key

LUA = r"""
local counter = 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  math.randomseed(os.time() + tid * 7919)
end
function request()
  counter = counter + 1
  local member = math.random(1, MEMBERS)
  local headers = {}
  headers["Authorization"] = "Bearer TOKEN"
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = "RUN-" .. tid .. "-" .. counter
  return wrk.format("POST", "/v1/members/" .. member .. "/charges", headers, "{}")
end
"""


def pg_args(url: str) -> list[str]:
    parsed = make_url(url)
    args = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    return args


def run(cmd: list[str], **kwargs: object) -> str:
    result = subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    return str(result.stdout) + str(result.stderr)


def prepare(url: str, members: int) -> str:
    """Schema, an operator key, and `members` members with plenty of never-expiring credits, vacuumed."""
    engine = make_engine(url)
    migrations.upgrade(engine)
    ledger = Ledger(engine, load_policy())
    with engine.begin() as conn:
        _principal, token = create_key(conn, "operator", label="benchmark")
    for index in range(members):
        member_id = create_member(ledger, Idempotency("bench", f"m{index}", request_hash("m", index))).body["id"]
        grant_credits(ledger, Idempotency("bench", f"g{index}", request_hash("g", index)), member_id, 10**9, "bench")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")  # as `pgbench -i` does: the planner sees the seeded tables
    engine.dispose()
    return token


def wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the service did not come up")


def parse_latency(text: str, label: str) -> float:
    match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if match is None:
        raise SystemExit(f"could not read the {label} latency from wrk:\n{text}")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def drive(port: int, token: str, members: int, seconds: int, connections: int, run_name: str) -> dict[str, float]:
    script = LUA.replace("TOKEN", token).replace("MEMBERS", str(members)).replace("RUN", run_name)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                handle.name,
                f"http://127.0.0.1:{port}",
            ]
        )
    finally:
        os.unlink(handle.name)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": requests,
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": parse_latency(out, "50%"),
        "p99": parse_latency(out, "99%"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",  # type: ignore[dict-item]
    }


@contextmanager
def cpu_split(server_pid: int, charges: list[int]) -> Iterator[dict[str, float]]:
    """CPU milliseconds per charge spent by the service's processes, by PostgreSQL, and by wrk.

    Filled in when the block ends; `charges` holds the number of charges the block made (set inside it).
    """

    def service() -> list[psutil.Process]:
        root = psutil.Process(server_pid)
        return [root, *root.children(recursive=True)]

    def postgres() -> list[psutil.Process]:
        return [proc for proc in psutil.process_iter(["name"]) if proc.info["name"] == "postgres"]

    def seconds(processes: list[psutil.Process]) -> dict[int, float]:
        total = {}
        for proc in processes:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            total[proc.pid] = times.user + times.system
        return total

    before = {"service": seconds(service()), "postgres": seconds(postgres())}
    load_before = os.times()
    split: dict[str, float] = {}
    yield split
    load_after = os.times()
    after = {"service": seconds(service()), "postgres": seconds(postgres())}
    count = max(charges[0], 1)
    for part in ("service", "postgres"):
        used = sum(value - before[part].get(pid, 0.0) for pid, value in after[part].items())
        split[part] = 1000 * used / count
    load = (load_after.children_user - load_before.children_user) + (
        load_after.children_system - load_before.children_system
    )
    split["wrk"] = 1000 * load / count


def pgbench_tps(url: str, seconds: int, clients: int) -> float:
    args = pg_args(url)
    name = f"dl_pgbench_{os.getpid()}"
    run(["createdb", *args, name])
    try:
        run(["pgbench", *args, "-i", "-q", "-s", "10", name])
        out = run(["pgbench", *args, "-c", str(clients), "-j", "2", "-T", str(seconds), name])
    finally:
        run(["dropdb", *args, "--if-exists", name])
    match = re.search(r"tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)", out)
    if match is None:
        raise SystemExit(f"could not read pgbench's rate:\n{out}")
    return float(match.group(1))


def check_books(url: str, wrk_responses: int) -> str:
    """Charges of the measured run recorded once each, books balanced, nothing negative."""
    engine = make_engine(url)
    with engine.connect() as conn:
        recorded = conn.execute(
            select(func.count()).where(OPERATIONS.c.kind == "query", OPERATIONS.c.key.like("run-%"))
        ).scalar_one()
        spent = conn.execute(
            select(func.coalesce(func.sum(TRANSFERS.c.amount), 0)).where(TRANSFERS.c.kind == "query")
        ).scalar_one()
        net = {
            row[0]: row[1]
            for row in conn.execute(
                select(TRANSFERS.c.credit_account_id, func.sum(TRANSFERS.c.amount)).group_by(
                    TRANSFERS.c.credit_account_id
                )
            )
        }
        for row in conn.execute(
            select(TRANSFERS.c.debit_account_id, func.sum(TRANSFERS.c.amount)).group_by(TRANSFERS.c.debit_account_id)
        ):
            net[row[0]] = net.get(row[0], 0) - row[1]
        negative = conn.execute(select(func.count()).where(LOTS.c.remaining < 0)).scalar_one()
    engine.dispose()
    return (
        f"{recorded} charges of the run recorded ({wrk_responses} answered to wrk; requests cut off when wrk "
        f"stopped may also have committed), {spent} credits spent, entries sum to {sum(net.values())}, "
        f"{negative} negative lots"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--server",
        default=os.environ.get("DATALEVER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--no-pgbench", action="store_true", help="skip the TPC-B reference (quick A/B runs)")
    options = parser.parse_args()
    for tool in ("wrk", "pgbench", "createdb", "dropdb"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: apt-get install wrk postgresql-client")

    load_before = os.getloadavg()[0]  # other work on the machine skews every figure below
    args = pg_args(options.server)
    name = f"dl_bench_{os.getpid()}"
    url = make_url(options.server).set(database=name).render_as_string(hide_password=False)
    run(["createdb", *args, name])
    server: subprocess.Popen[bytes] | None = None
    try:
        print(f"preparing {options.members} members on {name} ...", flush=True)
        token = prepare(url, options.members)
        datalever = Path(sys.executable).with_name("datalever")
        server = subprocess.Popen(
            [
                str(datalever),
                "serve",
                "--database-url",
                url,
                "--workers",
                str(options.workers),
                "--port",
                str(options.port),
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_ready(options.port)
        print(
            f"driving charges: {options.connections} connections for {options.seconds}s, {options.workers} workers",
            flush=True,
        )
        drive(
            options.port, token, options.members, 3, options.connections, "warmup"
        )  # warm-up (prepared statements, pools)
        charges = [0]
        with cpu_split(server.pid, charges) as cpu:
            result = drive(options.port, token, options.members, options.seconds, options.connections, "run")
            charges[0] = int(result["requests"])
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server = None
        books = check_books(url, int(result["requests"]))
        tps = None
        if not options.no_pgbench:
            print(f"running pgbench TPC-B (scale 10, -c {options.connections}, {options.seconds}s) ...", flush=True)
            tps = pgbench_tps(options.server, options.seconds, options.connections)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        run(["dropdb", *args, "--if-exists", "--force", name])

    print()
    print(f"machine            {os.cpu_count()} cores, load average before the run {load_before:.2f}")
    print(
        f"charges/s          {result['rate']:10.1f}   ({int(result['requests'])} charges, "
        f"{int(result['non_2xx'])} non-2xx, socket errors: {result['socket_errors']})"
    )
    print(f"latency p50        {result['p50']:10.2f} ms")
    print(f"latency p99        {result['p99']:10.2f} ms   (goal <= 25 ms)")
    print(
        f"CPU per charge     {sum(cpu.values()):10.3f} ms   (service {cpu['service']:.3f}, "
        f"PostgreSQL {cpu['postgres']:.3f}, wrk {cpu['wrk']:.3f})"
    )
    if tps is not None:
        print(f"pgbench TPC-B tps  {tps:10.1f}")
        print(f"ratio              {result['rate'] / tps:10.2f}   (goal >= 0.30)")
    print(f"books              {books}")


if __name__ == "__main__":
    main()
