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
    row = run_point(sc, pol, points[0])
    assert set(row) >= {"operator_change", "platform_change", "people_change", "positive_sum"}
    assert row["positive_sum"] in (0.0, 1.0)
    assert run_point(sc, pol, points[0]) == row  # same seed, same answer


def test_sweep_command_on_a_local_cluster(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", "--samples", "2", "--agents", "1000", "--weeks", "20", "--workers", "1", "--out", str(out)]
    result = CliRunner().invoke(
        app, [*args, "--param", "ai.feedback_value_cents=0:5", "--param", "policy:allowance.credits_per_month=10:200"]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out / "sweep.parquet")
    assert table.num_rows == 2 * (2 + 2)
    summary = json.loads((out / "sensitivity.json").read_text())
    assert set(summary["sobol"]["operator_change"]) == {
        "scenario:ai.feedback_value_cents",
        "policy:allowance.credits_per_month",
    }
    assert (out / "sensitivity.png").stat().st_size > 0

    bad = CliRunner().invoke(app, ["sweep", "--samples", "3", "--out", str(out)])
    assert bad.exit_code == 2 and "power of 2" in bad.output
