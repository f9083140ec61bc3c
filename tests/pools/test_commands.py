"""`datalever valuation run` and `datalever pools ...` on a scratch SQLite database, end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from datalever.cli import app

runner = CliRunner()


def run(db: Path, *args: str) -> Any:
    return runner.invoke(app, [*args, "--database-url", f"sqlite:///{db}"])


def test_valuation_run_stores_the_run_and_writes_csv_and_plot(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    assert run(db, "pools", "community", "se", "--node", "stack-exchange").exit_code == 0
    assert run(db, "pools", "community", "wiki", "--node", "wikipedia").exit_code == 0
    out = tmp_path / "val"
    result = run(db, "valuation", "run", "--month", "2026-11", "--method", "leave_one_out", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "leave_one_out on llama-65b" in result.output
    rows = list(csv.DictReader((out / "valuation-2026-11-1.csv").open()))
    assert [r["community"] for r in rows] == ["se", "wiki"]
    assert abs(sum(float(r["weight"]) for r in rows) - 1.0) < 1e-9
    assert len(rows[0]["catalog_version"]) == 64 and rows[0]["fit"] == "chinchilla"
    assert (out / "valuation-2026-11-1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_refusals_are_one_line_and_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    assert run(db, "pools", "community", "se", "--node", "stack-exchange").exit_code == 0
    cases = [
        (("valuation", "run", "--month", "2026-11", "--model", "llama-66b"), "did you mean 'llama-65b'"),
        (("valuation", "run", "--month", "2026-13"), "month must be YYYY-MM in ASCII digits"),
        (("pools", "community", "x", "--node", "wikipedai"), "did you mean 'wikipedia'"),
        (("pools", "propose", "se", "--title", "t", "--project", "no-cost", "--budget", "1"), "--project must look"),
        (("pools", "donate", "se", "--member", "7", "--amount", "1"), "member 7 does not exist"),
        (("pools", "tally", "9"), "proposal 9 does not exist"),
        (("pools", "fund", "--month", "2999-01"), "has not ended"),
    ]
    for args, words in cases:
        result = run(db, *args)
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.output.lower() and words in " ".join(result.output.split()), (args, result.output)


def test_fund_propose_vote_and_show(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    assert run(db, "pools", "community", "se", "--node", "stack-exchange").exit_code == 0
    funded = run(db, "pools", "fund", "--month", "2026-01")
    assert funded.exit_code == 0, funded.output
    assert json.loads(funded.stdout)["allocations"] == [
        {
            "community": "se",
            "amount": 10000,
            "amount_low_case": 10000,
            "amount_high_case": 10000,
            "preferences_version": None,
        }
    ]
    again = run(db, "pools", "fund", "--month", "2026-01")
    assert json.loads(again.stdout) == json.loads(funded.stdout)  # once per month
    prefs = tmp_path / "prefs.toml"
    prefs.write_text('coalition = "se"\ndefault = "deny"\n')
    proposed = run(db, "pools", "propose", "se", "--title", "deny all", "--preferences", str(prefs))
    assert proposed.exit_code == 0, proposed.output
    shown = json.loads(run(db, "pools", "show", "se").stdout)
    assert shown["pool_balance"] == 10000 and shown["proposals"][0]["status"] == "open"
