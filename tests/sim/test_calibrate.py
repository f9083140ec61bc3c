"""Calibration: SMC-ABC is exact on a conjugate problem, recovers known parameters from model-made tag series,
and the commands refuse scenarios and options where a fit makes no sense."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from datalever.cli import app
from datalever.sim.abc import NormalPrior, smc_abc
from datalever.sim.flow import first_ai_month, fit_baselines, gap_path, seasonal_profile
from datalever.sim.posterior import fit_posterior
from datalever.sim.scenario import load_scenario
from datalever.sim.sodata import CalibrationDataError, TagTable, load_tags, month_number

runner = CliRunner()


def test_smc_abc_matches_the_conjugate_normal_posterior() -> None:
    # y_i ~ N(theta, 1), i = 1..8, prior theta ~ N(0, 2): posterior N(sum(y) / (n + 1/4), 1 / (n + 1/4)).
    y = np.array([0.3, 1.1, 0.8, 1.9, 0.4, 1.2, 0.9, 1.4])
    prior = NormalPrior(("theta",), np.zeros(1), np.full(1, 2.0))

    def discrepancy(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(((y[None, :] - theta[:, :1]) ** 2).sum(axis=1))

    result = smc_abc(prior, discrepancy, particles=2_000, rng=np.random.default_rng(3), target_tolerance=1.0)
    precision = y.size + 0.25
    assert result.tolerance == 1.0 and result.stopped == "target tolerance reached"
    assert result.theta[:, 0].mean() == pytest.approx(y.sum() / precision, abs=0.03)
    assert result.theta[:, 0].std() == pytest.approx(precision**-0.5, rel=0.1)


def _synthetic(truth: np.ndarray) -> TagTable:
    """The real table to 2022-11, then six months the reduced model makes from `truth` (no noise)."""
    real = load_tags(None)
    table = real.until(first_ai_month() - 1)
    baselines = fit_baselines(table, table.last, seasonal_profile(table))
    months = np.arange(first_ai_month(), first_ai_month() + 6)
    path = gap_path(load_scenario("stackoverflow-2022"), months)
    log_y = baselines.log_expected(months, baselines.level[None], baselines.slope[None])
    recent = table.counts[:, -6:].sum(axis=1)
    elasticity = 1.0 / (1.0 + np.exp(-truth[2:3]))
    posted = path.posted(np.exp(truth[:1]), np.exp(truth[1:2]), truth[None, 3:], 1.0, recent / recent.sum(), elasticity)
    made = np.exp(log_y + np.log(posted))[0]
    return TagTable(real.tags, real.first, np.concatenate([table.counts, made], axis=1))


def test_recovers_known_parameters_from_synthetic_tag_series() -> None:
    rng = np.random.default_rng(11)
    truth = np.r_[np.log(40.0), np.log(1.2), -2.5, rng.normal(0.5, 1.0, 14)]
    table = _synthetic(truth)
    post = fit_posterior(
        load_scenario("stackoverflow-2022"), table, cutoff=table.last, horizon=table.last, particles=400, seeds=(1,)
    )
    assert post.runs[0].stopped == "target tolerance reached"
    low, high = np.quantile(post.theta, [0.02, 0.98], axis=0)
    inside = (truth >= low) & (truth <= high)
    assert inside[:3].all(), (truth[:3], low[:3], high[:3])
    assert inside.mean() >= 0.85
    # The data narrow the adoption curve well below the prior (log-sd 0.6).
    assert np.std(post.theta[:, 0]) < 0.6 / 2


def test_a_cutoff_before_the_release_gives_the_prior() -> None:
    post = fit_posterior(
        load_scenario("stackoverflow-2022"),
        load_tags(None),
        cutoff=month_number("2022-10"),
        horizon=month_number("2023-05"),
        particles=200,
        seeds=(1, 2),
    )
    assert post.prior_only and post.simulations == 0 and post.theta.shape[0] == 400
    assert np.median(post.adoption_weeks) == pytest.approx(45.0, rel=0.15)


def test_missing_and_malformed_data_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CalibrationDataError, match="observed data not found; pass --data"):
        load_tags(tmp_path / "nope.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("month,questions\n2022-06,1\n")
    with pytest.raises(CalibrationDataError, match="expected columns month, tag and questions"):
        load_tags(wrong)
    text = tmp_path / "text.csv"
    text.write_text("month,tag,questions\n2022-06,c,many\n")
    with pytest.raises(CalibrationDataError, match=r"text.csv:2: questions is not a number"):
        load_tags(text)
    month = tmp_path / "month.csv"
    month.write_text("month,tag,questions\n2022-13,c,4\n")
    with pytest.raises(CalibrationDataError, match="not a month"):
        load_tags(month)


def test_packaged_tags_match_the_shared_source() -> None:
    from tests.support.data import require_shared_data

    source = require_shared_data("stackoverflow-monthly-questions", "questions_by_month_and_tag.csv")
    shared, packaged = load_tags(source), load_tags(None)
    assert shared.tags == packaged.tags and np.array_equal(shared.counts, packaged.counts)
    assert len(packaged.tags) == 14 and packaged.span == "2008-07 to 2023-05"


def test_calibrate_refuses_a_scenario_that_is_not_stack_overflow_2022() -> None:
    result = runner.invoke(app, ["calibrate", "--scenario", "default"])
    assert result.exit_code == 2
    assert "scenario 'default' starts 2022-12-05" in result.output and "--scenario stackoverflow-2022" in result.output
    assert len(result.output.strip().splitlines()) <= 3  # one message (wrapped), no traceback
    bad = runner.invoke(app, ["calibrate", "--particles", "5"])
    assert bad.exit_code == 2 and "--particles: must be between 50" in bad.output


def test_calibrate_writes_a_scenario_that_simulate_runs(tmp_path: Path) -> None:
    out = tmp_path / "cal"
    result = runner.invoke(app, ["calibrate", "--particles", "100", "--seeds", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    fitted = out / "stackoverflow-2022-fitted.toml"
    scenario = load_scenario(str(fitted))
    assert scenario.choice.adoption_weeks != load_scenario("stackoverflow-2022").choice.adoption_weeks
    sim = runner.invoke(app, ["simulate", "--scenario", str(fitted), "--agents", "1000", "--out", str(tmp_path / "s")])
    assert sim.exit_code == 0, sim.output
    assert "long-run AI share, all tags" in result.output


def test_forecast_command(tmp_path: Path) -> None:
    out = tmp_path / "fc"
    args = ["forecast", "--until", "2023-12", "--particles", "100", "--seeds", "1", "--backtest", "2023-02"]
    args += ["--capability-paths", "2"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with (out / "forecast.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["month", "tag", "median", "p05", "p95"]
    assert len(rows) == 7 * 15 and {r["tag"] for r in rows} >= {"all", "python", "c#"}
    assert all(float(r["p05"]) <= float(r["median"]) <= float(r["p95"]) for r in rows)
    assert (out / "fan.png").stat().st_size > 0 and (out / "backtest.json").exists()
    assert "Backtest" in result.output and "2023-12, all 14 tags: median" in result.output

    for until, message in (("2023-04", "is not after the last observed month"), ("2025-13", "not a month")):
        bad = runner.invoke(app, ["forecast", "--until", until, "--out", str(tmp_path / "x")])
        assert bad.exit_code == 2 and message in bad.output, bad.output
    bad = runner.invoke(app, ["forecast", "--scenario", "default", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "scenario 'default'" in bad.output
    assert not (tmp_path / "x").exists()
