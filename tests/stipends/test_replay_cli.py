"""`datalever stipends replay`: the real dump end to end, and bad input changes nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from datalever.cli import app
from datalever.stipends.tally import parse_month
from tests.support.data import DEFAULT_POLICY, require_shared_data

runner = CliRunner()
SITE = "bicycles.meta.stackexchange.com"


def test_replay_real_dump_writes_csv_and_plot(tmp_path: Path) -> None:
    dump = require_shared_data("stackexchange-bicycles-meta")
    out = tmp_path / "out"
    result = runner.invoke(app, ["stipends", "replay", "--dump", str(dump), "--out", str(out), "--site", SITE])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "stipend_replay.csv").open()))
    months = [parse_month(row["month"]) for row in rows]
    assert rows[0]["month"] == "2010-08" and rows[-1]["month"] >= "2023-06"  # the dump's first and last months
    assert months == list(range(months[0], months[-1] + 1))  # every month, quiet ones included
    stipend = 50
    for row in rows:
        qualified = int(row["qualified_accounts"])
        assert qualified <= int(row["active_accounts"])
        assert qualified == int(row["stackexchange.scored_posts"]) + int(row["stackexchange.accepted_answer"])
        assert int(row["credits_paid"]) == qualified * stipend
    accounts = list(csv.DictReader((out / "qualified_accounts.csv").open()))
    assert len(accounts) == sum(int(row["qualified_accounts"]) for row in rows)
    assert all(a["profile_url"] == f"https://{SITE}/users/{a['user_id']}" for a in accounts)
    assert (out / "stipend_replay.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_replay_with_a_stricter_policy_pays_less(tmp_path: Path) -> None:
    dump = require_shared_data("stackexchange-bicycles-meta")
    strict = tmp_path / "strict.toml"
    strict.write_text(
        DEFAULT_POLICY.read_text()
        .replace("min_scored_posts = 2", "min_scored_posts = 4")
        .replace("min_accepted_answers = 1", "min_accepted_answers = 3")
    )
    totals = []
    for name, policy in (("default", DEFAULT_POLICY), ("strict", strict)):
        out = tmp_path / name
        args = ["stipends", "replay", "--dump", str(dump), "--out", str(out), "--policy", str(policy)]
        assert runner.invoke(app, args).exit_code == 0
        totals.append(sum(int(r["credits_paid"]) for r in csv.DictReader((out / "stipend_replay.csv").open())))
    assert 0 < totals[1] < totals[0]


def test_replay_bad_inputs_write_nothing(tmp_path: Path) -> None:
    bad_policy = tmp_path / "bad.toml"
    bad_policy.write_text("[stipend]\ncredits_per_month = -5\n")
    broken = tmp_path / "broken"
    broken.mkdir()
    odd = tmp_path / "odd[tables]"
    odd.mkdir()
    (broken / "Posts.xml").write_text('<?xml version="1.0"?>\n<posts>\n<row Id="1" PostTypeId="1" ')
    cases = [
        (["--dump", str(tmp_path / "missing")], "not a directory"),
        (["--dump", str(broken), "--policy", str(bad_policy)], "credits_per_month"),
        (["--dump", str(broken)], "Posts.xml: line"),
        (["--dump", str(odd)], "odd[tables]: directory: no Stack Exchange dump tables"),  # printed as plain text
    ]
    for extra, expected in cases:
        out = tmp_path / "out"
        result = runner.invoke(app, ["stipends", "replay", "--out", str(out), *extra])
        assert result.exit_code == 2
        assert expected in " ".join(result.output.split())
        assert not (out / "stipend_replay.csv").exists()
