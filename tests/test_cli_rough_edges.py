"""The CLI rough edges of issue 10: help texts, `simulate --out`, `align report`, `flows list`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datalever.cli import app
from datalever.flows.catalog import NodeKind, load_catalog
from datalever.reports.numbers import format_number

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples" / "flows"
runner = CliRunner()


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (["keys", "create"], "[default: $DATALEVER_DATABASE_URL"),
        (["simulate"], "[default: policies/default.toml]"),
        (["align", "report"], "[alignment]"),
        (["sweep"], "[scenario:|policy:]"),
    ],
)
def test_help_keeps_square_brackets(command: list[str], text: str) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert text in " ".join(result.output.split())


def test_simulate_out_is_a_file_fails_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datalever.sim.engine as engine

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the simulation ran before --out was checked")

    monkeypatch.setattr(engine, "run_simulations", never)
    existing = tmp_path / "report.txt"
    existing.write_text("keep me")
    result = runner.invoke(app, ["simulate", "--out", str(existing)])
    assert result.exit_code == 2
    assert "existing file" in result.output
    assert existing.read_text() == "keep me"


def test_align_report_unknown_system() -> None:
    inputs = str(EXAMPLES / "alignment-inputs.toml")
    result = runner.invoke(app, ["align", "report", "--inputs", inputs, "--system", "gpt-4"])
    assert result.exit_code == 2
    assert "unknown system 'gpt-4'" in result.output
    assert "llama-65b" in result.output


def test_align_report_month_is_canonical() -> None:
    inputs = str(EXAMPLES / "alignment-inputs.toml")
    fullwidth = "\uff12\uff10\uff12\uff16-11"
    result = runner.invoke(app, ["align", "report", "--inputs", inputs, "--system", "llama-65b", "--month", fullwidth])
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output


def test_align_report_database_url_and_deprecated_alias(tmp_path: Path) -> None:
    help_text = runner.invoke(app, ["align", "report", "--help"], env={"COLUMNS": "400"}).output
    assert "--database-url" in help_text
    assert not re.search(r"--database(?!-url)", help_text)  # the old name works but is not advertised
    url = f"sqlite:///{tmp_path / 'none.db'}"
    new = runner.invoke(app, ["align", "report", "--database-url", url, "--system", "llama-65b"])
    old = runner.invoke(app, ["align", "report", "--database", url, "--system", "llama-65b"])
    assert new.exit_code == old.exit_code == 2
    assert "no flows tables" in new.output and "no flows tables" in old.output
    assert "deprecated" in old.output and "deprecated" not in new.output


def test_flows_list_never_cuts_ids() -> None:
    ids = [n.id for n in load_catalog().nodes.values() if n.kind is NodeKind.MODEL]
    assert max(map(len, ids)) > 15  # the catalog has ids long enough to be cut at 80 columns
    result = runner.invoke(app, ["flows", "list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    for node_id in ids:
        assert re.search(rf"(?<![\w.-]){re.escape(node_id)}(?![\w.-])", result.output), node_id
    as_json = json.loads(runner.invoke(app, ["flows", "list", "--json"]).output)
    assert {row["id"] for row in as_json} >= set(ids)


@pytest.mark.parametrize(
    ("value", "text"), [(0, "0"), (0.0, "0"), (12345.0, "12,345"), (0.125, "0.125"), (1234.6, "1,235"), (-3.0, "-3")]
)
def test_table_numbers(value: float, text: str) -> None:
    assert format_number(value) == text
