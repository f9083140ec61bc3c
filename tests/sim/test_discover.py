"""Discover: Latin hypercube samples, seed-noise rule, a small run on a LocalCluster, and bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from typer.testing import CliRunner

from datalever.cli import app
from datalever.economy import load_policy
from datalever.sim.discover import latin_hypercube, no_worse_off, sentence
from datalever.sim.prim import Box
from datalever.sim.sweep import parse_parameter
from tests.sim.helpers import scenario

runner = CliRunner()


def test_latin_hypercube_fills_every_stratum() -> None:
    sc, pol = scenario(), load_policy()
    params = [
        parse_parameter("ai.compute_cost_cents_per_query=0.05:1", sc, pol),
        parse_parameter("policy:allowance.credits_per_month=0:300", sc, pol),
    ]
    points = latin_hypercube(params, 50, seed=3)
    values = np.array([[p[q.name] for q in params] for p in points])
    for j, q in enumerate(params):
        strata = np.floor((values[:, j] - q.low) / (q.high - q.low) * 50).astype(int)
        assert sorted(strata) == list(range(50))  # one sample in each of the 50 equal slices


def test_seed_noise_rule() -> None:
    rows = [
        {"operator_cents@1": 5.0, "operator_cents@2": 6.0, "operator_cents@3": 7.0},  # clearly positive
        {"operator_cents@1": -5.0, "operator_cents@2": 9.0, "operator_cents@3": 2.0},  # mean > 0, within noise
        {"operator_cents@1": 0.0, "operator_cents@2": 0.0, "operator_cents@3": 0.0},  # no change: not worse off
    ]
    for row in rows:
        row.update({f"{k}@{s}": 1.0 for k in ("platform_answers", "people_surplus_cents") for s in (1, 2, 3)})
    ok = no_worse_off(rows, [1, 2, 3])
    assert ok[:, 0].tolist() == [True, False, True]
    assert ok[:, 1:].all()


def test_sentence_names_only_restricted_inputs() -> None:
    sc, pol = scenario(), load_policy()
    params = [
        parse_parameter("ai.compute_cost_cents_per_query=0.05:1", sc, pol),
        parse_parameter("policy:allowance.credits_per_month=0:300", sc, pol),
    ]
    box = Box(np.array([0.05, 0.0]), np.array([0.42, 300.0]), coverage=0.7, density=0.9, support=0.3)
    text = sentence(box, params, np.array([0.05, 0.0]), np.array([1.0, 300.0]))
    assert text.startswith("Positive-sum by more than seed noise in 90% of the sampled worlds when compute cost")
    assert "at most 0.42 cents" in text and "allowance" not in text


def test_discover_command_small(tmp_path: Path) -> None:
    out = tmp_path / "d"
    args = ["discover", "--samples", "24", "--seeds", "2", "--agents", "500", "--weeks", "12", "--workers", "1"]
    args += ["--lever", "policy:feedback.base_reward=0:10", "--world", "ai.feedback_value_cents=0.5:5"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    facts = json.loads((out / "boxes.json").read_text())
    assert facts["samples"] == 24 and facts["runs"] == 96
    assert set(facts["no_worse_off_share"]) == {"operator", "platform", "people"}
    table = pq.read_table(out / "discover.parquet")
    assert table.num_rows == 24 and "people_surplus_cents@2" in table.column_names
    assert (out / "discover.png").stat().st_size > 0 and "# Conditions" in (out / "conditions.md").read_text()


def test_discover_refuses_what_makes_no_sense(tmp_path: Path) -> None:
    cases = [
        (["--seeds", "1"], "seed noise needs replicates"),
        (["--lever", "ai.compute_cost_cents_per_query=0:1"], "a lever is a policy parameter"),
        (["--weeks", "10", "--scenario", "stackoverflow-2022"], "nothing for the policy to act on"),
        (["--scheduler", "tcp://127.0.0.1:9"], "cannot connect to the Dask scheduler"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, ["discover", "--samples", "20", *extra, "--out", str(tmp_path / "x")])
        assert result.exit_code == 2 and message in result.output, (extra, result.output)
        assert "Traceback" not in result.output
    assert not (tmp_path / "x").exists()
