"""`datalever simulate` and `datalever calibrate` end to end on small runs."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from datalever.cli import app
from datalever.sim.engine import METRICS

runner = CliRunner()


def _simulate(out: Path, *extra: str) -> None:
    result = runner.invoke(
        app, ["simulate", "--agents", "2000", "--weeks", "30", "--seed", "3", "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output


def test_simulate_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _simulate(out)
    outputs = ("report.html", "ecosystem.png", "parties.png", "welfare.png", "credits.png", "series.parquet")
    for name in (*outputs, "summary.json"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["agents"] == 2000 and summary["weeks"] == 30 and summary["seed"] == 3
    assert set(summary["verdict"]["parties"]) == {"operator", "platform", "people"}
    assert summary["credits"]["unaccounted"] == 0
    table = pq.read_table(out / "series.parquet")
    assert table.num_rows == 60
    assert set(table.column("run").to_pylist()) == {"baseline", "policy"}
    assert set(METRICS) <= set(table.column_names)
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4
    # The report leads with conditions and forecast (or how to get them), then welfare by group; it says what
    # the model leaves out and what share of issued credits expire.
    order = [html.index(h) for h in ("Conditions for a positive-sum", "Forecast of platform", "Welfare by group")]
    assert order == sorted(order)
    assert "What the model leaves out" in html
    assert f"{summary['credits']['expired_share']:.0%} of the" in html
    assert summary["replicates"]["seeds"] == 3  # this seed and two more
    assert {r["group"] for r in summary["welfare_by_group"]} >= {"contributor class", "credit-balance decile"}
    assert summary["verdict"]["text"].split(":")[0] in html
    assert 'src="http' not in html and "<link" not in html  # self-contained


def test_same_seed_same_outputs(tmp_path: Path) -> None:
    _simulate(tmp_path / "a")
    _simulate(tmp_path / "b")
    assert (tmp_path / "a" / "summary.json").read_bytes() == (tmp_path / "b" / "summary.json").read_bytes()
    assert pq.read_table(tmp_path / "a" / "series.parquet").equals(pq.read_table(tmp_path / "b" / "series.parquet"))


def test_simulate_uses_the_policy_file(tmp_path: Path, default_policy_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(default_policy_path.read_text().replace("credits_per_month = 100", "credits_per_month = 7"))
    _simulate(tmp_path / "run", "--policy", str(policy))
    totals = json.loads((tmp_path / "run" / "summary.json").read_text())["totals"]["policy"]
    assert totals["credits_allowance"] % 7 == 0 and totals["credits_allowance"] > 0
    assert totals["credits_allowance"] % 100 != 0 or totals["credits_allowance"] % 700 == 0


def test_bad_inputs_are_refused_naming_the_field(tmp_path: Path, default_policy_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(default_policy_path.read_text().replace("base_price = 1", "base_price = 0"))
    result = runner.invoke(app, ["simulate", "--policy", str(policy), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "query.base_price: Input should be greater than 0" in result.output
    assert not (tmp_path / "x").exists()

    scenario = tmp_path / "scenario.toml"
    scenario.write_text("[people]\nspammer_share = 2\n")
    result = runner.invoke(app, ["simulate", "--scenario", str(scenario), "--out", str(tmp_path / "y")])
    assert result.exit_code == 2
    assert "people.spammer_share: Input should be less than or equal to 1" in result.output

    result = runner.invoke(app, ["simulate", "--agents", "5", "--out", str(tmp_path / "z")])
    assert result.exit_code == 2
    assert "run.agents: Input should be greater than or equal to 100" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replicates", "-1"], "--replicates: must be between 0 and 100"),
        (["--forecast", "missing.png"], "--forecast must be an existing PNG file"),
        (["--conditions", "missing.json"], "--conditions:"),
        (["--conditions", "{bad}"], "each with a 'sentence'"),
    ],
)
def test_bad_report_inputs_are_one_line_and_change_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    if "{bad}" in args:
        bad = tmp_path / "boxes.json"
        bad.write_text('[{"coverage": 0.5}]')
        args = [str(bad) if a == "{bad}" else a for a in args]
    result = runner.invoke(app, ["simulate", "--agents", "500", "--weeks", "4", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_report_leads_with_the_given_conditions_and_forecast(tmp_path: Path) -> None:
    boxes = tmp_path / "boxes.json"
    sentence = "positive-sum when compute cost per query is below 0.2 cents and the allowance at most 50"
    boxes.write_text(json.dumps({"boxes": [{"sentence": sentence, "coverage": 0.6, "density": 0.8}]}))
    fan = tmp_path / "fan.png"
    _simulate(tmp_path / "first", "--replicates", "0")
    fan.write_bytes((tmp_path / "first" / "credits.png").read_bytes())  # any PNG stands in for a fan chart
    _simulate(tmp_path / "run", "--replicates", "0", "--conditions", str(boxes), "--forecast", str(fan))
    html = (tmp_path / "run" / "report.html").read_text()
    assert sentence in html and "60%" in html
    assert html.index(sentence) < html.index("Welfare by group")
    assert html.count("data:image/png;base64,") == 5
    assert "One seed only" in html


def test_report_shows_each_partys_region_when_discover_found_no_joint_one(tmp_path: Path) -> None:
    boxes = tmp_path / "boxes.json"
    parties = {
        "operator": {"sentence": "operator no worse off when revenue per query is below 0.3", "coverage": 0.7},
        "people": {"sentence": "people no worse off when the allowance is at least 400", "density": 0.9},
    }
    boxes.write_text(json.dumps({"boxes": [], "parties": parties}))
    _simulate(tmp_path / "run", "--replicates", "0", "--conditions", str(boxes))
    html = (tmp_path / "run" / "report.html").read_text()
    assert "No region was found where all three parties gain" in html
    assert parties["operator"]["sentence"] in html and parties["people"]["sentence"] in html


def test_calibrate_command_refuses_missing_data(tmp_path: Path) -> None:
    out = tmp_path / "cal"
    missing = runner.invoke(app, ["calibrate", "--data", str(tmp_path / "none.csv"), "--out", str(out)])
    assert missing.exit_code == 2
    assert "observed data not found" in missing.output
    assert not out.exists()
