"""Sweeps: parameter specs are validated, points run on a Dask LocalCluster, Sobol indices are reported."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from datalever.cli import app
from datalever.economy import ConfigError, load_policy
from datalever.sim.sweep import apply, parse_parameter, run_point, sample_points
from tests.sim.helpers import scenario


def test_parameter_specs_are_validated() -> None:
    sc, pol = scenario(), load_policy()
    p = parse_parameter("policy:allowance.credits_per_month=20:300", sc, pol)
    assert (p.target, p.key, p.low, p.high) == ("policy", "allowance.credits_per_month", 20.0, 300.0)
    assert parse_parameter("ai.quality_max=0.8:0.99", sc, pol).target == "scenario"
    with pytest.raises(ConfigError, match="expected"):
        parse_parameter("ai.quality_max", sc, pol)
    with pytest.raises(ConfigError, match=r"ai\.nonsense: no such scenario parameter"):
        parse_parameter("ai.nonsense=0:1", sc, pol)
    with pytest.raises(ConfigError, match=r"ai\.quality_max: Input should be less than or equal to 1"):
        parse_parameter("ai.quality_max=0.5:1.5", sc, pol)
    with pytest.raises(ConfigError, match="low must be below high"):
        parse_parameter("ai.quality_max=0.9:0.5", sc, pol)


def test_apply_rounds_integers_and_keeps_the_rest() -> None:
    sc, pol = scenario(), load_policy()
    new_sc, new_pol = apply(sc, pol, {"policy:allowance.credits_per_month": 41.6, "scenario:ai.quality_max": 0.9})
    assert new_pol.allowance.credits_per_month == 42
    assert new_sc.ai.quality_max == 0.9
    assert new_sc.people == sc.people and new_pol.query == pol.query


def test_points_and_outcomes() -> None:
    sc, pol = scenario(agents=1_000, weeks=20), load_policy()
    params = [
        parse_parameter("ai.quality_max=0.8:0.99", sc, pol),
        parse_parameter("ai.feedback_value_cents=0:5", sc, pol),
    ]
    points = sample_points(params, 4, seed=1)
    assert len(points) == 4 * (2 + 2)
    assert all(0.8 <= pt["scenario:ai.quality_max"] <= 0.99 for pt in points)
    row = run_point(points[0], sc, pol)
    assert set(row) >= {"operator_cents", "platform_answers", "people_surplus_cents", "positive_sum"}
    assert row["positive_sum"] in (0.0, 1.0)
    assert run_point(points[0], sc, pol) == row  # same seed, same answer


def test_sweep_command_on_a_local_cluster(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", "--samples", "2", "--max-samples", "2", "--agents", "1000", "--weeks", "20", "--workers", "1"]
    args += ["--out", str(out)]
    result = CliRunner().invoke(
        app, [*args, "--param", "ai.feedback_value_cents=0:5", "--param", "policy:allowance.credits_per_month=10:200"]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out / "sweep.parquet")
    assert table.num_rows == 2 * (2 + 2)
    summary = json.loads((out / "sensitivity.json").read_text())
    assert "intervals narrower than every material index" in result.output
    assert all(set(c) >= {"value", "conf", "narrower"} for c in summary["ci_check"])
    assert set(summary["sobol"]["operator_cents"]) == {
        "scenario:ai.feedback_value_cents",
        "policy:allowance.credits_per_month",
    }
    assert (out / "sensitivity.png").stat().st_size > 0

    bad = CliRunner().invoke(app, ["sweep", "--samples", "3", "--out", str(out)])
    assert bad.exit_code == 2 and "power of 2" in bad.output


def test_ci_check_flags_intervals_wider_than_the_index() -> None:
    from datalever.sim.sweep import SweepParameter, ci_check

    p = SweepParameter("scenario", "ai.quality_max", 0.8, 0.99)
    zero = {"S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0}
    indices = {
        "operator_cents": {p.name: {"S1": 0.5, "S1_conf": 0.1, "ST": 0.6, "ST_conf": 0.7}},
        "platform_answers": {p.name: {"S1": 0.01, "S1_conf": 0.2, "ST": 0.02, "ST_conf": 0.3}},  # about zero
        "people_surplus_cents": {p.name: zero},
    }
    checks = ci_check([p], indices)
    assert [(c["output"], c["index"], c["narrower"]) for c in checks] == [
        ("operator_cents", "S1", True),
        ("operator_cents", "ST", False),
    ]


def test_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["sweep", "--samples", "2", "--max-samples", "2", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "--scheduler tcp://127.0.0.1:9: cannot connect to the Dask scheduler" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 4
