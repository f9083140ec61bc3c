"""Calibration: the optimizer recovers known parameters from model-made data, and fits the real decline."""

from __future__ import annotations

import calendar
from pathlib import Path

import numpy as np
import pytest

from datalever.sim.calibrate import (
    MONTHS,
    CalibrationDataError,
    calibrate_scenario,
    drop,
    load_observed,
    observed_index,
    simulate_index,
)
from datalever.sim.scenario import load_scenario, with_overrides
from tests.support.data import require_shared_data


def _totals_from_index(index: np.ndarray) -> dict[str, float]:
    """Monthly counts whose per-day index is `index` (what the calibration compares)."""
    totals = {}
    for month, value in zip(MONTHS, index, strict=True):
        year, number = (int(p) for p in month.split("-"))
        totals[month] = float(value) * 1_000.0 * calendar.monthrange(year, number)[1]
    return totals


def test_recovers_parameters_from_synthetic_data() -> None:
    sc = with_overrides(load_scenario("stackoverflow-2022"), agents=6_000, seed=5)
    truth = (-0.4, 9.0)
    synthetic = _totals_from_index(simulate_index(sc, *truth))
    fit = calibrate_scenario(sc, synthetic, start=(1.5, 30.0))
    assert fit.parameters["ai_affinity_mean"] == pytest.approx(truth[0], abs=0.2)
    assert fit.parameters["adoption_weeks"] == pytest.approx(truth[1], rel=0.25)
    assert fit.rmse < 0.01
    assert fit.evaluations > 5


def test_packaged_totals_match_the_shared_source() -> None:
    source = require_shared_data("stackoverflow-monthly-questions", "questions_by_month_and_tag.csv")
    assert load_observed(source) == load_observed(None)


def test_fits_the_observed_stack_overflow_drop() -> None:
    sc = with_overrides(load_scenario("stackoverflow-2022"), agents=6_000)
    observed = load_observed(None)
    assert drop(observed_index(observed)) == pytest.approx(-0.28, abs=0.01)  # the NOTICE's figure
    fit = calibrate_scenario(sc, observed)
    assert fit.simulated_drop == pytest.approx(fit.observed_drop, abs=0.03)
    assert fit.rmse < 0.06


def test_missing_and_malformed_data_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CalibrationDataError, match="observed data not found; pass --data"):
        load_observed(tmp_path / "nope.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("date,count\n2022-06,1\n")
    with pytest.raises(CalibrationDataError, match="expected columns month and questions"):
        load_observed(wrong)
    short = tmp_path / "short.csv"
    short.write_text("month,questions\n2022-06,10\n")
    with pytest.raises(CalibrationDataError, match="months missing from the data: 2022-07"):
        load_observed(short)
    text = tmp_path / "text.csv"
    text.write_text("month,questions\n2022-06,many\n")
    with pytest.raises(CalibrationDataError, match=r"text.csv:2: questions is not a number"):
        load_observed(text)
