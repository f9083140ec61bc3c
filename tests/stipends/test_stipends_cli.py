"""`datalever stipends import` and `stipends run` against a SQLite file: the operator's path."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from datalever import migrations
from datalever.cli import app
from datalever.economy import load_policy
from datalever.importers import read_events
from datalever.ledger.db import make_engine
from datalever.ledger.posting import Ledger
from datalever.stipends import links
from datalever.stipends.models import CONTRIBUTIONS
from tests.support.books import new_member

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(CONTRIBUTIONS)).scalar_one())
    finally:
        engine.dispose()


def test_import_then_run_writes_the_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    ledger = Ledger(engine, load_policy(), lambda: datetime(2024, 1, 20, tzinfo=UTC))
    member, _ = new_member(ledger)
    with engine.begin() as conn:
        link = links.request_link(conn, member, "github", None, "5001", "test", ledger.clock())
        links.confirm_link(conn, link.id, "platform:test", ledger.clock())
    engine.dispose()

    imported = runner.invoke(
        app, ["stipends", "import", str(FIXTURES / "github"), "--platform", "github", "--database-url", url]
    )
    assert imported.exit_code == 0, imported.output
    events = len(list(read_events(FIXTURES / "github" / "events.json")))
    assert _count(url) == events  # the folder holds the same events twice (JSON and JSON Lines)
    assert f"{events} new, {events} already stored" in " ".join(imported.output.split())

    out = tmp_path / "reports"
    args = ["stipends", "run", "--month", "2024-02", "--database-url", url, "--out", str(out)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    rows = list(csv.DictReader((out / "stipends-2024-02.csv").open()))
    assert [(r["member_id"], r["rule"], r["status"], r["amount"]) for r in rows] == [
        (str(member), "github.merged_pull_request", "paid", "50")
    ]
    assert json.loads((out / "stipends-2024-02.json").read_text())["credits_paid_now"] == 50
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "paid now: 0 credits" in second.output


def test_bad_input_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    broken = tmp_path / "events.json"
    text = (FIXTURES / "github" / "events.json").read_text()
    broken.write_text(text[: len(text) // 2])
    cases = [
        (["stipends", "import", str(broken), "--platform", "github"], "nothing was imported"),
        (["stipends", "import", str(broken), "--platform", "friendster"], "unknown platform 'friendster'"),
        (["stipends", "run", "--month", "2999-01"], "in the future"),
        (["stipends", "run", "--month", "January"], "YYYY-MM"),
    ]
    for args, expected in cases:
        result = runner.invoke(app, [*args, "--database-url", url])
        assert result.exit_code == 2, result.output
        assert expected in " ".join(result.output.split())
    assert _count(url) == 0
