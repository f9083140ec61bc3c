"""schemathesis against the running service with all its checks, as an admin, an operator, a member and a
platform key in turn: no failure (issue 10, "One API contract").

Bounded for CI: a few examples per operation and phase, one worker, a fixed seed. The one setting changed
from schemathesis' defaults is `positive_data_acceptance`'s list of expected statuses, which also admits
400 and 402: a schema cannot say that a month has not ended yet or that a member is out of credits, and the
service refuses such well-formed requests with those statuses (docs/operations.md). Rate limits are off
for the run (member and platform keys would otherwise mostly see 429, which is documented but tests little).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.server import Server

pytestmark = pytest.mark.slow
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXAMPLES = 4
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "400", "401", "402", "403", "404", "409", "429"]
"""
FIGURES = re.compile(r"(\d+) generated, (?:(\d+) found (\d+) unique failures|(\d+) passed)")


def _seed(server: Server, admin: str) -> dict[str, str]:
    """A member with credits and a link, and one key per role."""
    from datalever.ledger.db import make_engine
    from datalever.web.keys import create_key

    def post(path: str, body: object, key: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {admin}", "Idempotency-Key": key}
        return httpx.post(f"{server.url}{path}", json=body, headers=headers, timeout=30)

    assert post("/v1/members", {"external_ref": "seed"}, "m1").status_code == 201
    assert post("/v1/members/1/grants", {"amount": 500}, "g1").status_code == 201
    engine = make_engine(server.database_url or "")
    with engine.begin() as conn:
        keys = {
            "admin": admin,
            "operator": create_key(conn, "operator")[1],
            "member": create_key(conn, "member", 1)[1],
            "platform": create_key(conn, "platform", platform="github")[1],
        }
    engine.dispose()
    return keys


def test_schemathesis_all_checks_every_role(tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    env = {**os.environ, "DATALEVER_RATE_LIMIT_PER_MINUTE": "0"}
    figures: list[str] = []
    with Server(f"sqlite:///{tmp_path / 'contract.db'}", workers=1, env=env) as server:
        server.start()
        admin = next(line for line in server.output().splitlines() if line.startswith("dlk_"))
        keys = _seed(server, admin)
        for role, token in keys.items():
            run = subprocess.run(
                [
                    str(SCHEMATHESIS),
                    "--config-file",
                    str(config),
                    "run",
                    f"{server.url}/openapi.json",
                    "--checks",
                    "all",
                    "--header",
                    f"Authorization: Bearer {token}",
                    "--max-examples",
                    str(EXAMPLES),
                    "--phases",
                    "examples,coverage,fuzzing",
                    "--workers",
                    "1",
                    "--seed",
                    "10",
                ],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
                cwd=tmp_path,  # schemathesis keeps a cache folder where it runs
            )
            output = run.stdout + run.stderr
            (tmp_path / f"schemathesis-{role}.txt").write_text(output)
            found = FIGURES.search(output)
            assert found is not None, output[-3000:]
            operations = re.search(r"Tested: (\d+)", output)
            figures.append(
                f"{role}: {operations.group(1) if operations else '?'} operations, {found.group(1)} test cases, "
                f"{found.group(3) or 0} failures"
            )
            assert run.returncode == 0, f"{role}:\n{output[-6000:]}"
    print("\n".join(figures))
